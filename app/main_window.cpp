#include "app/main_window.h"

#include <QAction>
#include <QCloseEvent>
#include <QDir>
#include <QFileDialog>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>
#include <exception>

#include "app/dataset_panel.h"
#include "app/evaluation_panel.h"
#include "app/log_view.h"
#include "app/logging.h"
#include "app/lr_finder_panel.h"
#include "app/model_panel.h"
#include "app/runs_panel.h"
#include "app/training_panel.h"
#include "engine/errors.h"
#include "engine/lr_find_run.h"

namespace wb::ui {
namespace {

const char* const kRunsDirKey = "runs/dir";
constexpr int kStatusMessageMs = 8000;

}  // namespace

MainWindow::MainWindow(const MainWindowOptions& options, QWidget* parent)
    : QMainWindow(parent), m_options(options) {
    setWindowTitle(tr("Workbench"));
    registerEngineMetaTypes();

    m_dataset = new DatasetPanel;
    m_model = new ModelPanel;
    m_runs = new RunsPanel;
    m_training = new TrainingPanel;
    m_lrFinder = new LrFinderPanel;
    m_evaluation = new EvaluationPanel;
    m_log = new LogView;

    m_tabs = new QTabWidget;
    m_tabs->addTab(m_dataset, tr("Dataset"));
    m_tabs->addTab(m_model, tr("Model && hyperparameters"));
    m_tabs->addTab(m_runs, tr("Runs"));
    m_tabs->setMinimumWidth(360);

    auto* logBox = new QWidget;
    auto* logLayout = new QVBoxLayout(logBox);
    logLayout->setContentsMargins(0, 0, 0, 0);
    logLayout->setSpacing(2);
    logLayout->addWidget(new QLabel(tr("Messages")));
    logLayout->addWidget(m_log);

    m_workTabs = new QTabWidget;
    m_workTabs->addTab(m_training, tr("Training"));
    m_workTabs->addTab(m_lrFinder, tr("LR range test"));
    m_workTabs->addTab(m_evaluation, tr("Evaluation"));

    auto* right = new QSplitter(Qt::Vertical);
    right->addWidget(m_workTabs);
    right->addWidget(logBox);
    right->setStretchFactor(0, 1);
    right->setStretchFactor(1, 0);
    right->setChildrenCollapsible(false);
    right->setSizes({600, 130});

    m_splitter = new QSplitter(Qt::Horizontal);
    m_splitter->addWidget(m_tabs);
    m_splitter->addWidget(right);
    m_splitter->setStretchFactor(0, 0);
    m_splitter->setStretchFactor(1, 1);
    m_splitter->setChildrenCollapsible(false);
    m_splitter->setSizes({470, 810});

    auto* central = new QWidget;
    auto* centralLayout = new QVBoxLayout(central);
    centralLayout->setContentsMargins(6, 6, 6, 6);
    centralLayout->addWidget(m_splitter);
    setCentralWidget(central);
    createMenus();
    statusBar()->showMessage(tr("Ready"));
    resize(1280, 800);

    connect(m_dataset, &DatasetPanel::messageLogged, this, &MainWindow::logMessage);
    connect(m_runs, &RunsPanel::messageLogged, this, &MainWindow::logMessage);
    connect(m_training, &TrainingPanel::messageLogged, this, &MainWindow::logMessage);
    connect(m_training, &TrainingPanel::startRequested, this, &MainWindow::startTraining);
    connect(m_training, &TrainingPanel::runStarted, m_runs, &RunsPanel::setActiveRun);
    connect(m_training, &TrainingPanel::runFinished, this, &MainWindow::onRunFinished);
    connect(m_lrFinder, &LrFinderPanel::messageLogged, this, &MainWindow::logMessage);
    connect(m_evaluation, &EvaluationPanel::messageLogged, this, &MainWindow::logMessage);
    // A new run starts the Evaluation tab afresh; its evaluations arrive after each epoch.
    connect(m_training, &TrainingPanel::runStarted, this, [this](const QString& runDir) {
        m_evaluation->clear();
        m_evaluation->setRunDir(runDir);
    });
    connect(m_training, &TrainingPanel::evaluationFinished, m_evaluation,
            &EvaluationPanel::addEvaluation);
    connect(m_runs, &RunsPanel::evaluationRequested, this, &MainWindow::showRunEvaluation);
    connect(m_runs, &RunsPanel::resumeRequested, this, &MainWindow::resumeTraining);
    connect(m_lrFinder, &LrFinderPanel::startRequested, this, &MainWindow::startLrFinder);
    connect(m_lrFinder, &LrFinderPanel::rateApplied, this, &MainWindow::applyRate);
    connect(m_lrFinder, &LrFinderPanel::runningChanged, this, [this](bool running) {
        m_model->setEditable(!running);
        statusBar()->showMessage(running ? tr("Learning-rate range test…") : tr("Ready"),
                                 running ? 0 : kStatusMessageMs);
    });
    connect(m_training, &TrainingPanel::runningChanged, this, [this](bool running) {
        m_lrFinder->setStartBlocked(running ? tr("a training run is going") : QString());
    });
    // A run started at the rate picked in a range test keeps that test's curve.
    connect(m_training, &TrainingPanel::runStarted, this, [this](const QString& runDir) {
        if (!m_appliedLrFindDir.isEmpty() && experiment().optimizer.lr == m_appliedLr) {
            wb::copy_lr_find_files(m_appliedLrFindDir.toStdString(), runDir.toStdString());
        }
    });
    connect(m_dataset, &DatasetPanel::folderChanged, this, [this] {
        m_training->setStartBlocked({});
        m_model->setTrainingSetSize(0);
    });
    connect(m_dataset, &DatasetPanel::scanFinished, this, [this](bool ok) {
        m_model->setTrainingSetSize(ok ? (long long)m_dataset->scan().train.size() : 0);
        m_model->setClassCount(ok ? int(m_dataset->scan().classes.size()) : 0);
        m_training->setStartBlocked(
            ok ? QString()
               : tr("the dataset folder cannot be used: %1. Choose another one on the Dataset "
                    "tab.")
                     .arg(m_dataset->scanError()));
    });
    connect(m_runs, &RunsPanel::experimentRequested, this, &MainWindow::setExperiment);
    connect(m_runs, &RunsPanel::runsDirChanged, m_model, &ModelPanel::setRunsDir);
    // Only a folder chosen in the window becomes the default; a --runs on the command line is
    // for that session.
    connect(m_runs, &RunsPanel::runsDirChosen, this,
            [](const QString& dir) { QSettings().setValue(QLatin1String(kRunsDirKey), dir); });

    wb::Experiment initial = m_model->experiment();
    if (options.epochs > 0) {
        initial.epochs = options.epochs;
    }
    m_model->setExperiment(initial);
    const QString runsDir = !options.runsDir.isEmpty()
                                ? options.runsDir
                                : QSettings().value(QLatin1String(kRunsDirKey)).toString();
    m_runs->setRunsDir(runsDir);
    // The dataset is scanned at once, in the background, so the panel fills while the
    // window shows; without a folder that is the bundled demo dataset.
    m_dataset->scanFolder(options.dataDir);
}

MainWindow::~MainWindow() = default;

void MainWindow::createMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("Open &dataset folder…"), QKeySequence::Open, m_dataset,
                    &DatasetPanel::browse);
    file->addAction(tr("Use the d&emo dataset"), this, [this] { m_dataset->scanFolder({}); });
    file->addSeparator();
    file->addAction(tr("Open e&xperiment…"), this, &MainWindow::openExperiment);
    file->addAction(tr("&Save experiment as…"), QKeySequence::SaveAs, this,
                    &MainWindow::saveExperiment);
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    QMenu* run = menuBar()->addMenu(tr("&Training"));
    QAction* start = run->addAction(tr("&Start"), QKeySequence(Qt::CTRL | Qt::Key_R), this,
                                    &MainWindow::startTraining);
    QAction* stop = run->addAction(tr("S&top"), QKeySequence(Qt::CTRL | Qt::Key_Period), this,
                                   &MainWindow::stopTraining);
    start->setEnabled(m_training->canStart());
    stop->setEnabled(false);
    connect(m_training, &TrainingPanel::startableChanged, start, &QAction::setEnabled);
    connect(m_training, &TrainingPanel::runningChanged, stop, &QAction::setEnabled);
}

wb::Experiment MainWindow::experiment() const {
    wb::Experiment e = m_model->experiment();
    // An empty root means the bundled demo: the saved experiment stays portable.
    e.data.root = m_dataset->isDemo() ? std::string() : m_dataset->folder().toStdString();
    e.runs_dir = m_runs->runsDir().toStdString();
    e.lr_finder = m_lrFinder->settings();
    return e;
}

void MainWindow::setExperiment(const wb::Experiment& experiment) {
    m_model->setExperiment(experiment);
    m_lrFinder->setSettings(experiment.lr_finder);
    wb::SplitOptions split;
    split.val_fraction = experiment.data.val_fraction;
    split.test_fraction = experiment.data.test_fraction;
    split.seed = experiment.data.split_seed;
    split.verify_decode = experiment.data.verify_decode;
    split.clip_frames = experiment.preprocessing.clip_frames;
    split.frame_stride = experiment.preprocessing.frame_stride;
    split.clips_per_video = experiment.preprocessing.clips_per_video;
    m_dataset->setSplitOptions(split);
    const QString root = QString::fromStdString(experiment.data.root);
    const bool sameFolder =
        root.isEmpty() ? m_dataset->isDemo() : QDir(root).absolutePath() == m_dataset->folder();
    // A video experiment reads the same folder differently: scan it again.
    if (!sameFolder || !m_dataset->hasScan() || m_dataset->scan().video != split.video()) {
        m_dataset->scanFolder(root);
    }
}

bool MainWindow::startTraining() {
    if (m_training->isRunning()) {
        return false;
    }
    if (m_lrFinder->isRunning()) {
        showError(tr("Cannot start"),
                  tr("A learning-rate range test is running; stop it or wait for it to end."));
        return false;
    }
    const auto e = startableExperiment();
    if (!e) {
        return false;
    }
    if (!m_training->start(*e)) {
        return false;
    }
    m_model->setEditable(false);
    m_workTabs->setCurrentWidget(m_training);
    statusBar()->showMessage(tr("Training…"));
    return true;
}

bool MainWindow::resumeTraining(const QString& runDir) {
    if (m_training->isRunning() || m_lrFinder->isRunning()) {
        showError(tr("Cannot resume"), tr("A run or a range test is going; stop it first."));
        return false;
    }
    wb::Experiment e;
    try {
        e = wb::load_experiment(
            QDir(runDir).filePath(QStringLiteral("experiment.yaml")).toStdString());
    } catch (const std::exception& error) {
        showError(tr("Cannot resume"), QString::fromUtf8(error.what()));
        return false;
    }
    if (!m_training->resume(runDir, e)) {
        return false;
    }
    m_model->setEditable(false);
    m_workTabs->setCurrentWidget(m_training);
    statusBar()->showMessage(tr("Resuming %1…").arg(QDir(runDir).dirName()));
    return true;
}

bool MainWindow::startLrFinder() {
    if (m_training->isRunning() || m_lrFinder->isRunning()) {
        return false;
    }
    const auto e = startableExperiment();
    if (!e) {
        return false;
    }
    m_workTabs->setCurrentWidget(m_lrFinder);
    return m_lrFinder->start(*e);
}

std::optional<wb::Experiment> MainWindow::startableExperiment() {
    if (!m_dataset->isScanning() && !m_dataset->hasScan() && !m_dataset->folder().isEmpty()) {
        showError(tr("Cannot start"),
                  tr("The dataset folder %1 cannot be used; choose another one on the Dataset "
                     "tab.")
                      .arg(QDir::toNativeSeparators(m_dataset->folder())));
        return std::nullopt;
    }
    const wb::Experiment e = experiment();
    try {
        wb::validate(e);
    } catch (const std::exception& error) {
        showError(tr("Cannot start"),
                  tr("The settings are not valid: %1").arg(QString::fromUtf8(error.what())));
        return std::nullopt;
    }
    return e;
}

void MainWindow::applyRate(double lr, bool onecycle, const QString& lrFindDir) {
    wb::Experiment e = m_model->experiment();
    e.optimizer.lr = lr;
    if (onecycle) {
        e.schedule.policy = "onecycle";
    } else if (e.schedule.policy == "onecycle") {
        e.schedule.policy = "constant";
    }
    m_model->setExperiment(e);
    m_appliedLr = m_model->experiment().optimizer.lr;
    m_appliedLrFindDir = lrFindDir;
    m_tabs->setCurrentWidget(m_model);
    logMessage(wb::Level::Info,
               onecycle ? tr("Learning rate %1 set as the 1cycle maximum").arg(lr, 0, 'g', 3)
                        : tr("Learning rate %1 set as the %2 schedule's rate")
                              .arg(lr, 0, 'g', 3)
                              .arg(QString::fromStdString(e.schedule.policy)));
}

bool MainWindow::showRunEvaluation(const QString& runDir) {
    if (!m_evaluation->loadRun(runDir)) {
        return false;
    }
    m_workTabs->setCurrentWidget(m_evaluation);
    return true;
}

void MainWindow::stopTraining() {
    m_training->stop();
}

void MainWindow::onRunFinished(const wb::RunResult& result) {
    m_model->setEditable(true);
    m_runs->setActiveRun({});
    if (m_closePending) {
        qCDebug(lcUi) << "run ended; closing the window as asked";
        close();
        return;
    }
    if (result.status == "failed") {
        // The engine's error and the run's summary are in the log already.
        showError(tr("Training failed"), QString::fromStdString(result.message), /*logged=*/true);
    }
}

void MainWindow::logMessage(wb::Level level, const QString& text) {
    m_log->append(level, text);
    const QString firstLine = text.section(QLatin1Char('\n'), 0, 0);
    statusBar()->showMessage(firstLine, level == wb::Level::Info ? kStatusMessageMs : 0);
}

void MainWindow::showError(const QString& title, const QString& text, bool logged) {
    if (!logged) {
        m_log->append(wb::Level::Error, text);
    }
    statusBar()->showMessage(text);
    if (!m_options.errorDialogs) {
        return;
    }
    // Window-modal but not blocking: the event loop (and a running scan) go on.
    auto* box = new QMessageBox(QMessageBox::Critical, title, text, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

void MainWindow::openExperiment() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open experiment"), QString(),
                                                      tr("Experiments (*.yaml *.yml)"));
    if (path.isEmpty()) {
        return;
    }
    try {
        setExperiment(wb::load_experiment(path.toStdString()));
        logMessage(wb::Level::Info, tr("Loaded experiment %1").arg(path));
    } catch (const std::exception& e) {
        showError(tr("Cannot open experiment"), QString::fromUtf8(e.what()));
    }
}

void MainWindow::saveExperiment() {
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Save experiment"), QStringLiteral("experiment.yaml"),
                                     tr("Experiments (*.yaml *.yml)"));
    if (path.isEmpty()) {
        return;
    }
    try {
        wb::save_experiment(experiment(), path.toStdString());
        logMessage(wb::Level::Info, tr("Saved experiment %1").arg(path));
    } catch (const std::exception& e) {
        showError(tr("Cannot save experiment"), QString::fromUtf8(e.what()));
    }
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (m_lrFinder->isRunning()) {
        m_lrFinder->stop();
    }
    if (m_training->isRunning()) {
        // Stop first, close when the run has ended (onRunFinished): the window stays
        // responsive meanwhile, and the run folder is left complete.
        m_closePending = true;
        m_training->stop();
        statusBar()->showMessage(tr("Stopping the run before closing…"));
        event->ignore();
        return;
    }
    event->accept();
}

}  // namespace wb::ui
