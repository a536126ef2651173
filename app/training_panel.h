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
    /// Continues the run folder `runDir` from its last checkpoint, its curves so far drawn
    /// first; `experiment` is the folder's experiment.yaml. False when a run is going.
    bool resume(const QString& runDir, const wb::Experiment& experiment);
    /// Asks the run to stop (within one batch).
    void stop();
    bool isRunning() const;
    bool isStopping() const;

    /// Why a run cannot start now (the dataset folder cannot be used), shown in the header and
    /// on the disabled Start button; empty when nothing stands in the way.
    void setStartBlocked(const QString& reason);
    QString startBlockedReason() const { return m_blockedReason; }
    /// Start is possible: nothing running and nothing blocking.
    bool canStart() const;
    /// The header line above the charts (progress in words, or why Start is disabled).
    QString statusText() const;

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
    /// canStart() changed; the window's Start action follows it.
    void startableChanged(bool startable);
    void runStarted(const QString& runDir);
    void runFinished(const wb::RunResult& result);
    /// A split of the current run was evaluated (validation after each epoch, test at the end).
    void evaluationFinished(const wb::EpochEvaluation& evaluation);
    void messageLogged(wb::Level level, const QString& text);

private:
    bool begin(const wb::Experiment& experiment, const QString& resumeDir);
    /// Draws what a resumed run's folder holds up to its checkpoint.
    void showHistory(const QString& runDir);
    void onRunStarted(const wb::RunInfo& info);
    void onIterations(const QList<wb::IterationStats>& iterations);
    void onEpoch(const wb::EpochStats& stats);
    void onFinished(const wb::RunResult& result);
    void setRunning(bool running);
    void updateStartButton();
    void showHeadline(const QString& text);
    void updateProgress(long long stepsDone, double etaSeconds);

    TrainingController* m_controller = nullptr;
    bool m_resuming = false;
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
    bool m_runHasVal = false;  ///< some epoch of the current run was validated
    QString m_blockedReason;
    QString m_headline;  ///< the status line without the reason Start is blocked
};

/// "1:05" or "1:02:05".
QString formatDuration(double seconds);

}  // namespace wb::ui
