// Runs that survive and scale, driven through workbench-cli as a user runs it: a run killed
// with SIGKILL mid-epoch resumes onto the curve of a run that was never stopped, a full disk
// stops a run with a clear message and keeps its last checkpoint, two processes train as one
// data-parallel run, and CUDA training where there is a GPU.

#include <signal.h>
#include <sys/mount.h>
#include <torch/cuda.h>
#include <unistd.h>

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "engine/free_port.h"
#include "stripes_fixture.h"

namespace fs = std::filesystem;

namespace {

QStringList read_lines(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        return {};
    }
    return QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts);
}

/// metrics.csv without its `seconds` column, which no two runs share.
QStringList metrics_without_time(const QString& path) {
    QStringList rows = read_lines(path);
    const int seconds = rows.isEmpty() ? -1 : int(rows.front().split(',').indexOf("seconds"));
    for (QString& row : rows) {
        QStringList cells = row.split(',');
        if (seconds >= 0 && seconds < cells.size()) {
            cells.removeAt(seconds);
        }
        row = cells.join(',');
    }
    return rows;
}

/// The one run folder below `runs`, or an empty string.
QString only_run(const QString& runs) {
    const QStringList entries = QDir(runs).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    return entries.size() == 1 ? runs + "/" + entries.front() : QString();
}

struct Finished {
    int exit_code = -1;
    QString output;
};

class TestRunSurvival : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    QString data_;

    QString path(const QString& name) const { return dir_.path() + "/" + name; }

    /// An experiment file for the stripes data; `extra` is appended as YAML.
    QString write_experiment(const QString& name, const QString& runs, const QString& extra) {
        const QString file = path(name + ".yaml");
        std::ofstream(file.toStdString()) << "name: " << name.toStdString() << "\n"
                                          << "epochs: 3\nbatch_size: 8\nthreads: 1\n"
                                          << "device: cpu\n"
                                          << "runs_dir: " << runs.toStdString() << "\n"
                                          << "data:\n  root: " << data_.toStdString() << "\n"
                                          << "preprocessing:\n  image_size: 16\n  channels: 1\n"
                                          << "optimizer:\n  type: sgd\n  lr: 0.02\n"
                                          << extra.toStdString();
        return file;
    }

    static QProcess* start_cli(const QStringList& args, const QProcessEnvironment& env = {}) {
        auto* p = new QProcess;
        p->setProcessChannelMode(QProcess::MergedChannels);
        if (!env.isEmpty()) {
            p->setProcessEnvironment(env);
        }
        p->start(WB_CLI, args);
        return p;
    }

    static Finished wait(QProcess* p, int seconds = 300) {
        Finished f;
        if (!p->waitForFinished(seconds * 1000)) {
            p->kill();
            p->waitForFinished();
        }
        f.exit_code = p->exitStatus() == QProcess::NormalExit ? p->exitCode() : -1;
        f.output = QString::fromUtf8(p->readAll());
        delete p;
        return f;
    }

    static Finished run_cli(const QStringList& args) { return wait(start_cli(args)); }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        data_ = path("stripes");
        wb::test::write_stripes(fs::path(data_.toStdString()) / "train", 160, 1);
        wb::test::write_stripes(fs::path(data_.toStdString()) / "val", 16, 2);
        wb::test::write_stripes(fs::path(data_.toStdString()) / "test", 16, 3);
    }

    // 40 steps an epoch, 120 in all, checkpoints every 7 steps and at each epoch's end. The
    // process is killed at about step 60, in the middle of epoch 2, between two checkpoints.
    void killedRunResumesOnTheUninterruptedCurve() {
        const QString extra = "checkpoint:\n  every_steps: 7\n";
        const Finished a =
            run_cli({"train", "--config", write_experiment("whole", path("kill-a"), extra)});
        QVERIFY2(a.exit_code == 0, qPrintable(a.output));
        const QString whole = only_run(path("kill-a"));

        QProcess* p =
            start_cli({"train", "--config", write_experiment("killed", path("kill-b"), extra)});
        QElapsedTimer timer;
        timer.start();
        QString killed;
        int rows_at_kill = 0;
        while (timer.elapsed() < 300'000 && p->state() != QProcess::NotRunning) {
            killed = only_run(path("kill-b"));
            rows_at_kill =
                killed.isEmpty() ? 0 : int(read_lines(killed + "/iterations.csv").size());
            if (rows_at_kill > 60) {
                ::kill(pid_t(p->processId()), SIGKILL);
                break;
            }
            QTest::qWait(2);
        }
        const Finished b = wait(p);
        QVERIFY2(b.exit_code == -1, "the run ended before it could be killed");
        QVERIFY(!QFile::exists(killed + "/result.yaml"));
        const int rows_left = int(read_lines(killed + "/iterations.csv").size());
        QVERIFY2(rows_left < 121, qPrintable(QString::number(rows_left)));

        const Finished c = run_cli({"resume", killed});
        QVERIFY2(c.exit_code == 0, qPrintable(c.output));
        QVERIFY2(c.output.contains("in epoch 2 after its iteration"), qPrintable(c.output));
        // Every step of the curve (step, epoch, iteration, loss, accuracy, rate, momentum) and
        // every epoch's losses and accuracies, digit for digit.
        const QStringList want = read_lines(whole + "/iterations.csv");
        QCOMPARE(want.size(), 121);
        QCOMPARE(read_lines(killed + "/iterations.csv"), want);
        QCOMPARE(metrics_without_time(killed + "/metrics.csv"),
                 metrics_without_time(whole + "/metrics.csv"));
        QCOMPARE(read_lines(killed + "/result.yaml").filter("test_accuracy"),
                 read_lines(whole + "/result.yaml").filter("test_accuracy"));
        // No temporary file of a checkpoint that was being written is left behind.
        QCOMPARE(QDir(killed).entryList({"*.tmp*"}, QDir::Files), QStringList());
    }

    // A 2 MiB filesystem holds the run folder of the small CNN for an epoch (its last, best and
    // resume checkpoints take 1.2 MiB), then a checkpoint or a log
    // cannot be written: the run fails naming the file and the full disk, and the last whole
    // checkpoint resumes elsewhere.
    void fullDiskStopsTheRunAndKeepsTheLastCheckpoint() {
        const QString mnt = path("small-disk");
        QVERIFY(QDir().mkpath(mnt));
        if (::geteuid() != 0 ||
            ::mount("tmpfs", mnt.toUtf8().constData(), "tmpfs", 0, "size=2m") != 0) {
            QSKIP("mounting a 2 MiB tmpfs needs root (CI runs as root); not tested here");
        }
        struct Unmount {
            QString at;
            ~Unmount() { ::umount2(at.toUtf8().constData(), MNT_DETACH); }
        } unmount{mnt};

        const Finished r = run_cli(
            {"train", "--config", write_experiment("full", mnt, "tensorboard:\n  enabled: false\n"),
             "--epochs", "30"});
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.output.contains("the disk is full"), qPrintable(r.output));
        QVERIFY2(r.output.contains("is kept"), qPrintable(r.output));
        const QString run = only_run(mnt);
        QVERIFY(!run.isEmpty());
        QVERIFY2(QFile::exists(run + "/resume.pt"), qPrintable(r.output));
        QCOMPARE(QDir(run).entryList({"*.tmp*"}, QDir::Files), QStringList());

        // The folder, copied to a disk with room, goes on from its last checkpoint.
        const QString copy = path("copied-run");
        QVERIFY(QProcess::execute("cp", {"-r", run, copy}) == 0);
        const Finished resumed = run_cli({"resume", copy});
        QVERIFY2(resumed.exit_code == 0, qPrintable(resumed.output));
        QVERIFY(read_lines(copy + "/result.yaml").contains("status: finished"));
    }

    // Two processes on the loopback address, started with torchrun's variables: rank 0
    // alone writes the run folder, each process takes half of every global batch, and the
    // run's steps are those of one process with the global batch.
    void twoProcessesTrainOneRun() {
        const QString runs = path("dp-runs");
        const QString config = write_experiment("dp", runs, "");
        std::vector<QProcess*> ranks;
        const int port = wb::free_loopback_port();
        for (int rank = 0; rank < 2; ++rank) {
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            env.insert("RANK", QString::number(rank));
            env.insert("WORLD_SIZE", "2");
            env.insert("MASTER_ADDR", "127.0.0.1");
            env.insert("MASTER_PORT", QString::number(port));
            env.insert("WB_DIST_TIMEOUT", "120");
            ranks.push_back(start_cli({"train", "--config", config, "--batch-size", "4"}, env));
        }
        const Finished r0 = wait(ranks[0]);
        const Finished r1 = wait(ranks[1]);
        QVERIFY2(r0.exit_code == 0, qPrintable(r0.output));
        QVERIFY2(r1.exit_code == 0, qPrintable(r1.output));
        QVERIFY2(r0.output.contains("data-parallel training: 2 processes"), qPrintable(r0.output));
        const QString run = only_run(runs);
        QVERIFY2(!run.isEmpty(), "rank 0 writes one run folder, rank 1 none");
        // 320 images in global batches of 2 x 4: 40 steps an epoch, as one process at batch 8.
        QCOMPARE(read_lines(run + "/iterations.csv").size(), 1 + 3 * 40);
        QVERIFY(read_lines(run + "/result.yaml").contains("status: finished"));
        const QStringList metrics = read_lines(run + "/metrics.csv");
        QCOMPARE(metrics.size(), 4);
        const double val_accuracy = metrics.back().split(',').at(4).toDouble();
        QVERIFY2(val_accuracy > 0.9, qPrintable(metrics.back()));
    }

    // With every batch-norm layer frozen (a fixed feature extractor: only the head trains),
    // nothing depends on how a global batch is split: two processes at batch 4 must take the
    // steps of one process at batch 8, so the losses of all 120 steps agree to float rounding.
    void twoProcessesTakeTheStepsOfOneOnTheSameGlobalBatches() {
        const QString extra = "model:\n  arch: small_cnn\n  finetune: head\n";
        const Finished one =
            run_cli({"train", "--config", write_experiment("one", path("same-one"), extra),
                     "--batch-size", "8"});
        QVERIFY2(one.exit_code == 0, qPrintable(one.output));
        const Finished two =
            run_cli({"launch", "--nproc-per-node", "2", "train", "--config",
                     write_experiment("two", path("same-two"), extra), "--batch-size", "4"});
        QVERIFY2(two.exit_code == 0, qPrintable(two.output));
        const QStringList a = read_lines(only_run(path("same-one")) + "/iterations.csv");
        const QStringList b = read_lines(only_run(path("same-two")) + "/iterations.csv");
        QCOMPARE(a.size(), 1 + 3 * 40);
        QCOMPARE(b.size(), a.size());
        const int loss = int(a.front().split(',').indexOf("loss"));
        double first = 0, last = 0;
        for (int row = 1; row < a.size(); ++row) {
            const double x = a[row].split(',')[loss].toDouble();
            const double y = b[row].split(',')[loss].toDouble();
            QVERIFY2(std::abs(x - y) <= 1e-4 * std::abs(x),
                     qPrintable(QString("step %1: %2 vs %3").arg(row - 1).arg(x).arg(y)));
            (row == 1 ? first : last) = x;
        }
        QVERIFY2(last < 0.5 * first, "the head did learn");
    }

    // `launch` sets those variables itself; a process that fails stops the others.
    void launchStartsTheProcessesOfOneRun() {
        const QString runs = path("launch-runs");
        const Finished ok =
            run_cli({"launch", "--nproc-per-node", "2", "train", "--config",
                     write_experiment("launched", runs, ""), "--epochs", "1", "--batch-size", "4"});
        QVERIFY2(ok.exit_code == 0, qPrintable(ok.output));
        const QString run = only_run(runs);
        QVERIFY2(!run.isEmpty(), qPrintable(ok.output));
        QCOMPARE(read_lines(run + "/iterations.csv").size(), 1 + 40);

        const Finished bad = run_cli({"launch", "--nproc-per-node", "2", "train", "--data",
                                      path("no-such-folder"), "--runs", runs});
        QVERIFY2(bad.exit_code != 0, qPrintable(bad.output));
        QVERIFY2(bad.output.contains("no-such-folder"), qPrintable(bad.output));
    }

    // Regression: a resume of a folder that was still training truncated its CSV files under
    // the running process, which then finished with rows missing.
    void aRunFolderIsTrainedByOneProcessAtATime() {
        QProcess* p =
            start_cli({"train", "--config", write_experiment("busy", path("busy-runs"), "")});
        QString run;
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < 120'000 && p->state() != QProcess::NotRunning) {
            run = only_run(path("busy-runs"));
            if (!run.isEmpty() && read_lines(run + "/iterations.csv").size() > 5) {
                break;
            }
            QTest::qWait(5);
        }
        const Finished second = run_cli({"resume", run});
        const Finished first = wait(p);
        QCOMPARE(second.exit_code, 2);
        QVERIFY2(second.output.contains("another process (pid"), qPrintable(second.output));
        QVERIFY2(first.exit_code == 0, qPrintable(first.output));
        QCOMPARE(read_lines(run + "/iterations.csv").size(), 1 + 3 * 40);
        QCOMPARE(read_lines(run + "/metrics.csv").size(), 1 + 3);
    }

    // The launcher killed with SIGKILL takes its processes with it (they stop as on Ctrl-C);
    // the run resumes only with as many processes as it trained with, whose shards it needs.
    void aDataParallelRunResumesWithItsProcessCount() {
        const QString runs = path("dp-kill-runs");
        QProcess* p =
            start_cli({"launch", "--nproc-per-node", "2", "train", "--config",
                       write_experiment("dpkill", runs, "checkpoint:\n  every_steps: 5\n"),
                       "--batch-size", "4"});
        QString run;
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < 120'000 && p->state() != QProcess::NotRunning) {
            run = only_run(runs);
            if (!run.isEmpty() && read_lines(run + "/iterations.csv").size() > 12) {
                ::kill(pid_t(p->processId()), SIGKILL);
                break;
            }
            QTest::qWait(5);
        }
        wait(p);
        QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(run + "/result.yaml"), 30'000);
        QVERIFY(read_lines(run + "/result.yaml").contains("status: cancelled"));

        const Finished alone = run_cli({"resume", run});
        QCOMPARE(alone.exit_code, 2);
        QVERIFY2(alone.output.contains("trained as 2 processes"), qPrintable(alone.output));
        const Finished pair = run_cli({"launch", "--nproc-per-node", "2", "resume", run});
        QVERIFY2(pair.exit_code == 0, qPrintable(pair.output));
        QCOMPARE(read_lines(run + "/iterations.csv").size(), 1 + 3 * 40);
    }

    void cudaTrainingWithMixedPrecision() {
        if (!torch::cuda::is_available()) {
            QSKIP("no CUDA device (or a CPU-only libtorch): CUDA training is not tested here");
        }
        const Finished r =
            run_cli({"train", "--config",
                     write_experiment("cuda", path("cuda-runs"), "mixed_precision: true\n"),
                     "--device", "cuda:0"});
        QVERIFY2(r.exit_code == 0, qPrintable(r.output));
        const QStringList metrics = read_lines(only_run(path("cuda-runs")) + "/metrics.csv");
        QVERIFY2(metrics.back().split(',').at(4).toDouble() > 0.9, qPrintable(metrics.back()));
    }
};

}  // namespace

QTEST_GUILESS_MAIN(TestRunSurvival)
#include "tst_run_survival.moc"
