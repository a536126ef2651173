// The workbench window. Options (see --help): --data DIR, --runs DIR, --epochs N, --start, and
// for documentation screenshots --screenshot FILE --screenshot-after SECONDS
// [--quit-after-screenshot], with the hidden --tab NAME, --schedule POLICY, --compare N (the
// N newest runs selected in the Runs tab), --lr-find (run the range test at start) and
// --lr-use SUGGESTION:onecycle|fixed (then pick that suggestion, use it and start training),
// --work-tab training|lr|evaluation (the right-hand tab shown), --show-run DIR (that run's
// evaluations on the Evaluation tab), --cell TRUE,PRED (the images of that matrix cell, by
// class index), --classify FILE (that image through the run's best.pt), and --arch NAME
// --weights PATH --finetune MODE (the model form's architecture, pretrained weights with their
// preprocessing, and fine-tuning mode) to set the scene.

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QPixmap>
#include <QSplitter>
#include <QStringList>
#include <QTabWidget>
#include <QTimer>
#include <cstdio>
#include <cstdlib>

#include "app/classify_box.h"
#include "app/evaluation_panel.h"
#include "app/lr_finder_panel.h"
#include "app/main_window.h"
#include "app/model_panel.h"
#include "app/runs_panel.h"
#include "engine/experiment.h"
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
    QCommandLineOption resume{QStringLiteral("resume"),
                              QStringLiteral("Continue a stopped or killed run from its last "
                                             "checkpoint."),
                              QStringLiteral("RUN_DIR")};
    QCommandLineOption config{QStringLiteral("config"),
                              QStringLiteral("Experiment file to start from (a video experiment, "
                                             "say, with its clip settings)."),
                              QStringLiteral("FILE")};
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
    QCommandLineOption compare{QStringLiteral("compare"),
                               QStringLiteral("Compare the N newest runs in the Runs tab."),
                               QStringLiteral("N")};

    QCommandLineOption workTab{QStringLiteral("work-tab"),
                               QStringLiteral("training, lr or evaluation."),
                               QStringLiteral("NAME")};
    QCommandLineOption showRun{QStringLiteral("show-run"),
                               QStringLiteral("Show the evaluations of a run folder."),
                               QStringLiteral("DIR")};
    QCommandLineOption cell{QStringLiteral("cell"),
                            QStringLiteral("Show the images of a confusion-matrix cell "
                                           "(class indices)."),
                            QStringLiteral("TRUE,PRED")};
    QCommandLineOption classify{QStringLiteral("classify"),
                                QStringLiteral("Classify an image with the shown run's best.pt."),
                                QStringLiteral("FILE")};

    QCommandLineOption arch{QStringLiteral("arch"), QStringLiteral("Architecture."),
                            QStringLiteral("NAME")};
    QCommandLineOption weights{QStringLiteral("weights"),
                               QStringLiteral("Pretrained weights: a .pt file or a run folder."),
                               QStringLiteral("PATH")};
    QCommandLineOption finetune{QStringLiteral("finetune"),
                                QStringLiteral("all, head or last_stages."),
                                QStringLiteral("MODE")};
    QCommandLineOption lrFind{QStringLiteral("lr-find"),
                              QStringLiteral("Run the learning-rate range test at start.")};
    QCommandLineOption lrUse{
        QStringLiteral("lr-use"),
        QStringLiteral("After the range test, use a suggestion and start training: "
                       "steepest|valley|min_div10 : onecycle|fixed."),
        QStringLiteral("SUGGESTION:USE")};

    CommandLine() : help(parser.addHelpOption()), version(parser.addVersionOption()) {
        parser.setApplicationDescription(
            QStringLiteral("Train image classifiers with live charts."));
        parser.addOptions(
            {data, runs, epochs, start, resume, config, screenshot, screenshotAfter, quitAfter});
        tab.setFlags(QCommandLineOption::HiddenFromHelp);
        schedule.setFlags(QCommandLineOption::HiddenFromHelp);
        compare.setFlags(QCommandLineOption::HiddenFromHelp);
        lrFind.setFlags(QCommandLineOption::HiddenFromHelp);
        lrUse.setFlags(QCommandLineOption::HiddenFromHelp);
        workTab.setFlags(QCommandLineOption::HiddenFromHelp);
        showRun.setFlags(QCommandLineOption::HiddenFromHelp);
        cell.setFlags(QCommandLineOption::HiddenFromHelp);
        classify.setFlags(QCommandLineOption::HiddenFromHelp);
        for (QCommandLineOption* option : {&arch, &weights, &finetune}) {
            option->setFlags(QCommandLineOption::HiddenFromHelp);
        }
        parser.addOptions({tab, schedule, compare, lrFind, lrUse, workTab, showRun, cell, classify,
                           arch, weights, finetune});
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

    const QStringList workTabNames = {QStringLiteral("training"), QStringLiteral("lr"),
                                      QStringLiteral("evaluation")};
    int workTab =
        parser.isSet(cli.workTab) ? int(workTabNames.indexOf(parser.value(cli.workTab))) : -1;
    if (parser.isSet(cli.workTab) && workTab < 0) {
        std::fprintf(stderr, "workbench: --work-tab wants training, lr or evaluation\n");
        return 2;
    }
    if (parser.isSet(cli.showRun) && !parser.isSet(cli.workTab)) {
        workTab = int(workTabNames.indexOf(QStringLiteral("evaluation")));
    }
    int cellTrue = -1;
    int cellPredicted = -1;
    if (parser.isSet(cli.cell)) {
        const QStringList parts = parser.value(cli.cell).split(QLatin1Char(','));
        bool okTrue = false;
        bool okPredicted = false;
        if (parts.size() == 2) {
            cellTrue = parts[0].trimmed().toInt(&okTrue);
            cellPredicted = parts[1].trimmed().toInt(&okPredicted);
        }
        if (!okTrue || !okPredicted || cellTrue < 0 || cellPredicted < 0) {
            std::fprintf(stderr, "workbench: --cell wants TRUE,PRED class indices\n");
            return 2;
        }
    }

    int compareCount = 0;
    if (parser.isSet(cli.compare)) {
        bool ok = false;
        compareCount = parser.value(cli.compare).toInt(&ok);
        if (!ok || compareCount < 1) {
            std::fprintf(stderr, "workbench: --compare wants a positive number of runs\n");
            return 2;
        }
    }

    wb::set_threads(0);

    wb::ui::MainWindow window(options);
    if (parser.isSet(cli.config)) {
        try {
            window.setExperiment(wb::load_experiment(parser.value(cli.config).toStdString()));
        } catch (const std::exception& error) {
            std::fprintf(stderr, "workbench: %s\n", error.what());
            return 2;
        }
    }
    window.tabs()->setCurrentIndex(startTab);
    if (parser.isSet(cli.schedule)) {
        wb::Experiment e = window.experiment();
        e.schedule.policy = parser.value(cli.schedule).toStdString();
        window.modelPanel()->setExperiment(e);
    }
    if (parser.isSet(cli.arch) || parser.isSet(cli.weights) || parser.isSet(cli.finetune)) {
        wb::Experiment e = window.experiment();
        if (parser.isSet(cli.arch)) {
            e.model.arch = parser.value(cli.arch).toStdString();
        }
        if (parser.isSet(cli.weights)) {
            e.model.weights = parser.value(cli.weights).toStdString();
            try {
                e.preprocessing = wb::pretrained_preprocessing(e.model.weights, e.preprocessing);
            } catch (const std::exception& error) {
                std::fprintf(stderr, "workbench: --weights: %s\n", error.what());
                return 2;
            }
        }
        if (parser.isSet(cli.finetune)) {
            e.model.finetune = parser.value(cli.finetune).toStdString();
        }
        window.modelPanel()->setExperiment(e);
    }
    if (compareCount > 0) {
        // Rows are newest first.
        QList<int> rows;
        for (int row = 0; row < compareCount; ++row) {
            rows.append(row);
        }
        const int selected = window.runsPanel()->selectRows(rows);
        // The comparison is the subject: the tabs get most of the width.
        window.splitter()->setSizes({760, 520});
        if (selected < compareCount) {
            std::fprintf(stderr, "workbench: --compare %d: the runs folder has %d run(s)\n",
                         compareCount, selected);
        }
    }
    QString lrSuggestion;
    bool lrOnecycle = false;
    if (parser.isSet(cli.lrUse)) {
        const QStringList parts = parser.value(cli.lrUse).split(QLatin1Char(':'));
        const QStringList suggestions = {QStringLiteral("steepest"), QStringLiteral("valley"),
                                         QStringLiteral("min_div10")};
        const QStringList uses = {QStringLiteral("onecycle"), QStringLiteral("fixed")};
        if (parts.size() != 2 || !suggestions.contains(parts[0]) || !uses.contains(parts[1])) {
            std::fprintf(stderr,
                         "workbench: --lr-use wants steepest|valley|min_div10:onecycle|fixed\n");
            return 2;
        }
        lrSuggestion = parts[0];
        lrOnecycle = parts[1] == uses[0];
    }
    if (parser.isSet(cli.showRun)) {
        const QString runDir = parser.value(cli.showRun);
        if (!window.evaluationPanel()->loadRun(runDir)) {
            std::fprintf(stderr, "workbench: --show-run: %s\n",
                         qPrintable(window.evaluationPanel()->title()));
        }
        // The evaluation is the subject: the right-hand side gets most of the width.
        window.splitter()->setSizes({330, 950});
        window.runsPanel()->selectRuns({runDir});
    }
    if (cellTrue >= 0 && !window.evaluationPanel()->showCell(cellTrue, cellPredicted)) {
        std::fprintf(stderr, "workbench: --cell %d,%d: no such cell to show\n", cellTrue,
                     cellPredicted);
    }
    if (parser.isSet(cli.classify) &&
        !window.evaluationPanel()->classifyImage(parser.value(cli.classify))) {
        std::fprintf(stderr, "workbench: --classify: %s\n",
                     qPrintable(window.evaluationPanel()->classifyBox()->message()));
    }
    window.show();
    if (parser.isSet(cli.start)) {
        QTimer::singleShot(0, &window, [&window] { window.startTraining(); });
    }
    if (parser.isSet(cli.resume)) {
        const QString runDir = QDir(parser.value(cli.resume)).absolutePath();
        QTimer::singleShot(0, &window, [&window, runDir] { window.resumeTraining(runDir); });
    }
    if (workTab >= 0) {
        // After --start, which shows the Training tab.
        QTimer::singleShot(0, &window,
                           [&window, workTab] { window.workTabs()->setCurrentIndex(workTab); });
    }
    if (parser.isSet(cli.lrFind)) {
        QTimer::singleShot(0, &window, [&window] { window.startLrFinder(); });
    }
    if (!lrSuggestion.isEmpty()) {
        auto* panel = window.lrFinderPanel();
        QObject::connect(panel, &wb::ui::LrFinderPanel::finished, &window,
                         [&window, panel, lrSuggestion, lrOnecycle](const wb::LrFindReport& r) {
                             if (r.status != "finished" || !panel->pickSuggestion(lrSuggestion)) {
                                 std::fprintf(stderr, "workbench: no %s suggestion to use\n",
                                              qPrintable(lrSuggestion));
                                 return;
                             }
                             panel->applyPicked(lrOnecycle);
                             window.startTraining();
                         });
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
