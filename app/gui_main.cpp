// The workbench window. Options (see --help): --data DIR, --runs DIR, --epochs N, --start, and
// for documentation screenshots --screenshot FILE --screenshot-after SECONDS
// [--quit-after-screenshot], with the hidden --tab NAME and --schedule POLICY to set the scene.

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QPixmap>
#include <QStringList>
#include <QTabWidget>
#include <QTimer>
#include <cstdio>
#include <cstdlib>

#include "app/main_window.h"
#include "app/model_panel.h"
#include "engine/runtime.h"
#include "engine/trainer.h"

namespace {

/// The command line, declared once for the pre-parse (no display) and the real one.
struct CommandLine {
    QCommandLineParser parser;
    QCommandLineOption help;
    QCommandLineOption version;
    QCommandLineOption data{QStringLiteral("data"),
                            QStringLiteral("Dataset folder (default: the demo dataset)."),
                            QStringLiteral("DIR")};
    QCommandLineOption runs{QStringLiteral("runs"),
                            QStringLiteral("Folder that receives the run folders, for this "
                                           "session only (not remembered)."),
                            QStringLiteral("DIR")};
    QCommandLineOption epochs{QStringLiteral("epochs"), QStringLiteral("Epochs to train."),
                              QStringLiteral("N")};
    QCommandLineOption start{QStringLiteral("start"), QStringLiteral("Start training at once.")};
    QCommandLineOption screenshot{QStringLiteral("screenshot"),
                                  QStringLiteral("Save a PNG of the window to FILE; the exit "
                                                 "status is 1 when it cannot be saved."),
                                  QStringLiteral("FILE")};
    QCommandLineOption screenshotAfter{
        QStringLiteral("screenshot-after"),
        QStringLiteral("Seconds to wait before the screenshot (default 5)."),
        QStringLiteral("SECONDS"), QStringLiteral("5")};
    QCommandLineOption quitAfter{QStringLiteral("quit-after-screenshot"),
                                 QStringLiteral("Quit once the screenshot is saved.")};
    // Hidden, for documentation screenshots: the tab shown at start and the schedule policy.
    QCommandLineOption tab{QStringLiteral("tab"), QStringLiteral("model, dataset or runs."),
                           QStringLiteral("NAME")};
    QCommandLineOption schedule{QStringLiteral("schedule"),
                                QStringLiteral("Learning-rate schedule policy."),
                                QStringLiteral("POLICY")};

    CommandLine() : help(parser.addHelpOption()), version(parser.addVersionOption()) {
        parser.setApplicationDescription(
            QStringLiteral("Train image classifiers with live charts."));
        parser.addOptions({data, runs, epochs, start, screenshot, screenshotAfter, quitAfter});
        tab.setFlags(QCommandLineOption::HiddenFromHelp);
        schedule.setFlags(QCommandLineOption::HiddenFromHelp);
        parser.addOptions({tab, schedule});
    }

    /// Answers --help, --version and a wrong command line on the terminal and exits, before
    /// QApplication, which aborts where there is no display. Returns when a window is wanted.
    /// Options of QApplication itself (-platform, -style, …) are left to the real parse.
    void answerWithoutWindow(int& argc, char** argv) {
        QStringList arguments;
        for (int i = 0; i < argc; ++i) {
            arguments.append(QString::fromLocal8Bit(argv[i]));
        }
        // Qt's own options have one dash and a word, as "-platform offscreen".
        parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
        const bool parsed = parser.parse(arguments);
        parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsCompactedShortOptions);
        bool wrong = false;
        if (!parsed) {
            const QStringList unknown = parser.unknownOptionNames();
            wrong = unknown.isEmpty();  // a missing value
            for (const QString& name : unknown) {
                wrong = wrong || !isQtOption(name);
            }
        }
        const bool helpAll = parser.isSet(QStringLiteral("help-all"));
        if (!wrong && !parser.isSet(help) && !parser.isSet(version) && !helpAll) {
            return;
        }
        QCoreApplication core(argc, argv);
        if (wrong) {
            std::fprintf(stderr, "workbench: %s\nTry 'workbench --help'.\n",
                         qPrintable(parser.errorText()));
            std::exit(1);
        }
        if (helpAll) {
            parser.process(core);  // prints Qt's options too, and exits
        }
        if (parser.isSet(version)) {
            parser.showVersion();  // exits 0
        }
        parser.showHelp(0);
    }

    static bool isQtOption(const QString& name) {
        static const QStringList options = {QStringLiteral("platform"),
                                            QStringLiteral("platformpluginpath"),
                                            QStringLiteral("platformtheme"),
                                            QStringLiteral("plugin"),
                                            QStringLiteral("qwindowgeometry"),
                                            QStringLiteral("qwindowtitle"),
                                            QStringLiteral("qwindowicon"),
                                            QStringLiteral("reverse"),
                                            QStringLiteral("session"),
                                            QStringLiteral("style"),
                                            QStringLiteral("stylesheet"),
                                            QStringLiteral("widgetcount"),
                                            QStringLiteral("display"),
                                            QStringLiteral("geometry"),
                                            QStringLiteral("title"),
                                            QStringLiteral("name"),
                                            QStringLiteral("nograb"),
                                            QStringLiteral("dograb"),
                                            QStringLiteral("sync"),
                                            QStringLiteral("qmljsdebugger")};
        return options.contains(name) || name.startsWith(QLatin1String("qmljsdebugger="));
    }
};

}  // namespace

int main(int argc, char** argv) {
    wb::use_passive_openmp_wait(argv);
    QCoreApplication::setApplicationName(QStringLiteral("Workbench"));
    QCoreApplication::setOrganizationName(QStringLiteral("Workbench"));
    QCoreApplication::setApplicationVersion(QStringLiteral("0.1.0"));

    CommandLine().answerWithoutWindow(argc, argv);

    QApplication app(argc, argv);
    CommandLine cli;
    QCommandLineParser& parser = cli.parser;
    parser.process(app);

    wb::ui::MainWindowOptions options;
    options.dataDir = parser.value(cli.data);
    options.runsDir = parser.value(cli.runs);
    if (parser.isSet(cli.epochs)) {
        bool ok = false;
        options.epochs = parser.value(cli.epochs).toInt(&ok);
        if (!ok || options.epochs < 1) {
            std::fprintf(stderr, "workbench: --epochs wants a positive number\n");
            return 2;
        }
    }
    bool delayOk = false;
    const double delay = parser.value(cli.screenshotAfter).toDouble(&delayOk);
    if (!delayOk || delay < 0) {
        std::fprintf(stderr, "workbench: --screenshot-after wants seconds\n");
        return 2;
    }
    const QString screenshotFile = parser.value(cli.screenshot);
    if (parser.isSet(cli.screenshot) && !QFileInfo(screenshotFile).absoluteDir().exists()) {
        // Found out now rather than after the wait (and a training run).
        std::fprintf(stderr, "workbench: cannot save the screenshot to %s: no such folder\n",
                     qPrintable(screenshotFile));
        return 2;
    }

    const QStringList tabNames = {QStringLiteral("dataset"), QStringLiteral("model"),
                                  QStringLiteral("runs")};
    const int startTab = parser.isSet(cli.tab) ? int(tabNames.indexOf(parser.value(cli.tab))) : 0;
    if (startTab < 0) {
        std::fprintf(stderr, "workbench: --tab wants dataset, model or runs\n");
        return 2;
    }

    wb::set_threads(0);

    wb::ui::MainWindow window(options);
    window.tabs()->setCurrentIndex(startTab);
    if (parser.isSet(cli.schedule)) {
        wb::Experiment e = window.experiment();
        e.schedule.policy = parser.value(cli.schedule).toStdString();
        window.modelPanel()->setExperiment(e);
    }
    window.show();
    if (parser.isSet(cli.start)) {
        QTimer::singleShot(0, &window, [&window] { window.startTraining(); });
    }
    bool screenshotFailed = false;
    if (parser.isSet(cli.screenshot)) {
        const bool quit = parser.isSet(cli.quitAfter);
        QTimer::singleShot(
            int(delay * 1000), &window, [&window, &screenshotFailed, file = screenshotFile, quit] {
                if (window.grab().save(file, "PNG")) {
                    std::fprintf(stderr, "workbench: screenshot saved to %s\n", qPrintable(file));
                } else {
                    std::fprintf(stderr, "workbench: cannot save the screenshot to %s\n",
                                 qPrintable(file));
                    screenshotFailed = true;
                }
                if (quit) {
                    // Closing stops a running training first; the application
                    // quits when the window has closed.
                    window.close();
                }
            });
    }
    const int status = app.exec();
    return screenshotFailed && status == 0 ? 1 : status;
}
