// The workbench window. Options (see --help): --data DIR, --runs DIR, --epochs N, --start, and
// for documentation screenshots --screenshot FILE --screenshot-after SECONDS
// [--quit-after-screenshot].

#include <QApplication>
#include <QCommandLineParser>
#include <QPixmap>
#include <QTimer>
#include <cstdio>

#include "app/main_window.h"
#include "engine/trainer.h"
#include "engine/runtime.h"

int main(int argc, char** argv) {
    wb::use_passive_openmp_wait(argv);
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("Workbench"));
    QApplication::setOrganizationName(QStringLiteral("Workbench"));
    QApplication::setApplicationVersion(QStringLiteral("0.1.0"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Train image classifiers with live charts."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption data(QStringLiteral("data"),
                                  QStringLiteral("Dataset folder (default: the demo dataset)."),
                                  QStringLiteral("DIR"));
    const QCommandLineOption runs(QStringLiteral("runs"),
                                  QStringLiteral("Folder that receives the run folders."),
                                  QStringLiteral("DIR"));
    const QCommandLineOption epochs(QStringLiteral("epochs"), QStringLiteral("Epochs to train."),
                                    QStringLiteral("N"));
    const QCommandLineOption start(QStringLiteral("start"),
                                   QStringLiteral("Start training at once."));
    const QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                        QStringLiteral("Save a PNG of the window to FILE."),
                                        QStringLiteral("FILE"));
    const QCommandLineOption screenshotAfter(
        QStringLiteral("screenshot-after"),
        QStringLiteral("Seconds to wait before the screenshot (default 5)."),
        QStringLiteral("SECONDS"), QStringLiteral("5"));
    const QCommandLineOption quitAfter(QStringLiteral("quit-after-screenshot"),
                                       QStringLiteral("Quit once the screenshot is saved."));
    parser.addOptions({data, runs, epochs, start, screenshot, screenshotAfter, quitAfter});
    parser.process(app);

    wb::ui::MainWindowOptions options;
    options.dataDir = parser.value(data);
    options.runsDir = parser.value(runs);
    if (parser.isSet(epochs)) {
        bool ok = false;
        options.epochs = parser.value(epochs).toInt(&ok);
        if (!ok || options.epochs < 1) {
            std::fprintf(stderr, "workbench: --epochs wants a positive number\n");
            return 2;
        }
    }
    bool delayOk = false;
    const double delay = parser.value(screenshotAfter).toDouble(&delayOk);
    if (!delayOk || delay < 0) {
        std::fprintf(stderr, "workbench: --screenshot-after wants seconds\n");
        return 2;
    }

    wb::set_threads(0);

    wb::ui::MainWindow window(options);
    window.show();
    if (parser.isSet(start)) {
        QTimer::singleShot(0, &window, [&window] { window.startTraining(); });
    }
    if (parser.isSet(screenshot)) {
        const QString file = parser.value(screenshot);
        const bool quit = parser.isSet(quitAfter);
        QTimer::singleShot(int(delay * 1000), &window, [&window, file, quit] {
            if (window.grab().save(file, "PNG")) {
                std::fprintf(stderr, "workbench: screenshot saved to %s\n", qPrintable(file));
            } else {
                std::fprintf(stderr, "workbench: cannot save the screenshot to %s\n",
                             qPrintable(file));
            }
            if (quit) {
                // Closing stops a running training first; the application quits when the
                // window has closed.
                window.close();
            }
        });
    }
    return app.exec();
}
