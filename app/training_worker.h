#pragma once

#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QString>
#include <atomic>
#include <memory>

#include "app/engine_types.h"
#include "engine/experiment.h"

class QThread;

namespace wb::ui {

/// Runs one wb::train call (or wb::resume of a run folder) in the thread it was moved to and
/// turns the observer calls into
/// queued signals carrying values. Iterations are batched: at most about ten
/// `iterationsFinished` signals a second, whatever the speed of the model.
class TrainingWorker : public QObject, public wb::Observer {
    Q_OBJECT
public:
    /// Trains `experiment`, or, with `resumeDir`, continues that run folder from its last
    /// checkpoint (its own experiment.yaml then defines the run).
    TrainingWorker(const wb::Experiment& experiment,
                   std::shared_ptr<const std::atomic<bool>> cancel, QString resumeDir = {});

public slots:
    /// Trains; emits `runFinished` exactly once. Worker thread only.
    void run();

signals:
    void messageLogged(wb::Level level, const QString& text);
    void datasetScanned(const wb::DatasetInfo& info);
    void runStarted(const wb::RunInfo& info);
    void iterationsFinished(const QList<wb::IterationStats>& iterations);
    void epochFinished(const wb::EpochStats& stats);
    /// A split was evaluated: the validation set after an epoch, the test set at the end. The
    /// report is shared and immutable, so the copy costs nothing.
    void evaluationFinished(const wb::EpochEvaluation& evaluation);
    void runFinished(const wb::RunResult& result);

private:
    // wb::Observer, called on the worker thread.
    void on_message(wb::Level level, const std::string& text) override;
    void on_dataset(const wb::DatasetInfo& info) override;
    void on_run_started(const wb::RunInfo& info) override;
    void on_iteration(const wb::IterationStats& stats) override;
    void on_epoch(const wb::EpochStats& stats) override;
    void on_evaluation(const wb::EpochEvaluation& evaluation) override;
    void on_finished(const wb::RunResult& result) override;
    void flushIterations();

    const wb::Experiment m_experiment;
    std::shared_ptr<const std::atomic<bool>> m_cancel;
    const QString m_resumeDir;
    QList<wb::IterationStats> m_pending;  // worker thread only
    QElapsedTimer m_sinceFlush;           // worker thread only
};

/// Owns the training thread: starts a run, cancels it, and cleans up when it ends. Lives on
/// the GUI thread and re-emits the worker's signals there. Destroying it while a run is going
/// cancels the run and waits for the thread.
class TrainingController : public QObject {
    Q_OBJECT
public:
    explicit TrainingController(QObject* parent = nullptr);
    ~TrainingController() override;

    /// Starts a run, or resumes the run folder `resumeDir`; false (and nothing happens) when
    /// one is already running.
    bool start(const wb::Experiment& experiment, const QString& resumeDir = {});
    /// Asks the running run to stop; it ends within one batch and emits `runFinished`.
    void stop();
    bool isRunning() const { return m_thread != nullptr; }
    bool isStopping() const;
    /// Cancels and blocks until the thread has ended or `msecs` passed; true when it ended.
    bool cancelAndWait(int msecs);

signals:
    void messageLogged(wb::Level level, const QString& text);
    void datasetScanned(const wb::DatasetInfo& info);
    void runStarted(const wb::RunInfo& info);
    void iterationsFinished(const QList<wb::IterationStats>& iterations);
    void epochFinished(const wb::EpochStats& stats);
    void evaluationFinished(const wb::EpochEvaluation& evaluation);
    /// The run is over and the thread has ended: `isRunning()` is already false.
    void runFinished(const wb::RunResult& result);

private:
    void onThreadFinished();

    QThread* m_thread = nullptr;
    TrainingWorker* m_worker = nullptr;
    std::shared_ptr<std::atomic<bool>> m_cancel;
    wb::RunResult m_result;
    bool m_haveResult = false;
};

}  // namespace wb::ui
