#pragma once

#include <QMainWindow>
#include <QString>
#include <optional>

#include "app/engine_types.h"
#include "engine/experiment.h"

class QSplitter;
class QTabWidget;

namespace wb::ui {

class DatasetPanel;
class EvaluationPanel;
class LogView;
class LrFinderPanel;
class ModelPanel;
class RunsPanel;
class TrainingPanel;

/// What the command line (or a test) sets before the window shows.
struct MainWindowOptions {
    /// Dataset folder to scan at start-up; empty means the bundled demo dataset.
    QString dataDir;
    /// Runs folder; empty means the last one used (QSettings), else ./runs.
    QString runsDir;
    /// Epochs in the form; 0 keeps the default.
    int epochs = 0;
    /// Show errors in message boxes as well as in the log (off in tests that provoke errors).
    bool errorDialogs = true;
};

/// The frame: dataset, model and runs panels in tabs on the left, the training panel with its
/// charts and the message log on the right. It assembles the experiment from the panels and
/// makes sure that closing the window while training stops the run first.
class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(const MainWindowOptions& options = {}, QWidget* parent = nullptr);
    ~MainWindow() override;

    /// The experiment the panels describe: form values, dataset folder, runs folder.
    wb::Experiment experiment() const;
    /// Loads `experiment` into the form and, when its dataset differs, scans that folder.
    void setExperiment(const wb::Experiment& experiment);

    /// Starts a run of experiment(); false with the reason logged (and shown) when it cannot.
    bool startTraining();
    /// Continues the run folder `runDir` from its last checkpoint, with its own
    /// experiment.yaml; false with the reason shown when it cannot.
    bool resumeTraining(const QString& runDir);
    void stopTraining();

    DatasetPanel* datasetPanel() const { return m_dataset; }
    ModelPanel* modelPanel() const { return m_model; }
    TrainingPanel* trainingPanel() const { return m_training; }
    RunsPanel* runsPanel() const { return m_runs; }
    LrFinderPanel* lrFinderPanel() const { return m_lrFinder; }
    EvaluationPanel* evaluationPanel() const { return m_evaluation; }
    /// Shows the evaluations of a run folder on the Evaluation tab and switches to it; false
    /// (and the tab unchanged) when the run has none to show.
    bool showRunEvaluation(const QString& runDir);
    /// The right-hand tabs: training charts, the learning-rate range test, and the evaluation.
    QTabWidget* workTabs() const { return m_workTabs; }

    /// Runs the learning-rate range test of experiment(); false with the reason logged.
    bool startLrFinder();
    LogView* logView() const { return m_log; }
    QTabWidget* tabs() const { return m_tabs; }
    /// The tabs (left) and the training panel (right).
    QSplitter* splitter() const { return m_splitter; }

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void createMenus();
    void logMessage(wb::Level level, const QString& text);
    /// Logs `text` (unless `logged`: it is in the log already) and shows it in a dialog.
    void showError(const QString& title, const QString& text, bool logged = false);
    void onRunFinished(const wb::RunResult& result);
    void applyRate(double lr, bool onecycle, const QString& lrFindDir);
    /// experiment(), when a job can start on it; otherwise nothing, with the reason shown.
    std::optional<wb::Experiment> startableExperiment();
    void openExperiment();
    void saveExperiment();

    MainWindowOptions m_options;
    QTabWidget* m_tabs = nullptr;
    QSplitter* m_splitter = nullptr;
    DatasetPanel* m_dataset = nullptr;
    ModelPanel* m_model = nullptr;
    TrainingPanel* m_training = nullptr;
    RunsPanel* m_runs = nullptr;
    LrFinderPanel* m_lrFinder = nullptr;
    EvaluationPanel* m_evaluation = nullptr;
    QTabWidget* m_workTabs = nullptr;
    LogView* m_log = nullptr;
    /// The range test whose rate the form holds, and that rate: a run started at that rate
    /// gets the test's files.
    QString m_appliedLrFindDir;
    double m_appliedLr = 0;
    bool m_closePending = false;
};

}  // namespace wb::ui
