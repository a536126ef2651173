#pragma once

// Fixture files made at test time by a script of tests/python/ with Debian's Python
// (WB_PYTHON, with python3-torch and python3-torchvision). Shared by the suites that need them.

#include <QFileInfo>
#include <QProcess>
#include <QString>

namespace wb::test {

/// Runs `tests/python/<script> <out_dir>` once. A missing interpreter, or a script that exits
/// with 3 (torch or torchvision cannot be imported), sets `skip`; any other failure `error`.
struct PythonFixture {
    QString skip;
    QString error;
    bool tried = false;

    /// True when the files are there.
    bool run(const QString& script, const QString& out_dir) {
        if (!tried) {
            tried = true;
            const QString python = WB_PYTHON;
            if (!QFileInfo(python).isExecutable()) {
                skip = "no Python interpreter at WB_PYTHON=" + python;
            } else {
                QProcess process;
                process.start(python,
                              {QStringLiteral(WB_SOURCE_DIR) + "/tests/python/" + script, out_dir});
                const bool done = process.waitForFinished(300000);
                const QString err =
                    QString::fromLocal8Bit(process.readAllStandardError()).trimmed();
                const bool normal = done && process.exitStatus() == QProcess::NormalExit;
                if (normal && process.exitCode() == 3) {
                    skip = python + " has no torch or torchvision: " + err;
                } else if (!normal || process.exitCode() != 0) {
                    error = script + " failed: " + err;
                }
            }
        }
        return error.isEmpty() && skip.isEmpty();
    }
};

}  // namespace wb::test
