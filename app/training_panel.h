#pragma once

#include <QElapsedTimer>
#include <QWidget>

#include "app/engine_types.h"
#include "engine/experiment.h"

class QLabel;
class QProgressBar;
class QPushButton;

namespace wb::ui {

class TrainingCharts;
class TrainingController;

/// Start and Stop, the run's progress with its ETA, and the live charts.
class TrainingPanel : public QWidget {
    Q_OBJECT
public:
    explicit TrainingPanel(QWidget* parent = nullptr);
    ~TrainingPanel() override;

    /// Starts a run of `experiment`; false when one is already running.
    bool start(const wb::Experiment& experiment);
    /// Asks the run to stop (within one batch).
    void stop();
    bool isRunning() const;
    bool isStopping() const;

    TrainingCharts* charts() const { return m_charts; }
    TrainingController* controller() const { return m_controller; }
    QPushButton* startButton() const { return m_startButton; }
    QPushButton* stopButton() const { return m_stopButton; }
    QProgressBar* progressBar() const { return m_progress; }
    /// The result of the last run that ended; status empty before the first one.
    const wb::RunResult& lastResult() const { return m_lastResult; }
    int epochsSeen() const { return m_epochsSeen; }
    long long iterationsSeen() const { return m_iterationsSeen; }

signals:
    /// Start was clicked; the window assembles the experiment and calls start().
    void startRequested();
    void runningChanged(bool running);
    void runStarted(const QString& runDir);
    void runFinished(const wb::RunResult& result);
    void messageLogged(wb::Level level, const QString& text);

private:
    void onRunStarted(const wb::RunInfo& info);
    void onIterations(const QList<wb::IterationStats>& iterations);
    void onEpoch(const wb::EpochStats& stats);
    void onFinished(const wb::RunResult& result);
    void setRunning(bool running);
    void updateProgress(long long stepsDone, double etaSeconds);

    TrainingController* m_controller = nullptr;
    TrainingCharts* m_charts = nullptr;
    QPushButton* m_startButton = nullptr;
    QPushButton* m_stopButton = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_status = nullptr;
    QLabel* m_details = nullptr;
    QLabel* m_result = nullptr;

    wb::RunInfo m_run;
    wb::RunResult m_lastResult;
    QElapsedTimer m_elapsed;
    long long m_totalSteps = 0;
    long long m_iterationsSeen = 0;
    int m_epochsSeen = 0;
    double m_bestAccuracy = -1;
};

/// "1:05" or "1:02:05".
QString formatDuration(double seconds);

}  // namespace wb::ui
