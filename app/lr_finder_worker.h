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

/// Runs one wb::find_learning_rate call in its own thread and turns the observer calls into
/// queued signals: steps are batched, at most about ten `stepsRecorded` a second. Lives on the
/// GUI thread; destroying it while a test runs cancels the test and waits for it.
class LrFinderController : public QObject {
    Q_OBJECT
public:
    explicit LrFinderController(QObject* parent = nullptr);
    ~LrFinderController() override;

    /// Starts a range test of `experiment` (its lr_finder section); false when one is running.
    bool start(const wb::Experiment& experiment);
    /// Asks the test to stop; it ends within one step, keeping what it recorded.
    void stop();
    bool isRunning() const { return m_thread != nullptr; }

signals:
    void messageLogged(wb::Level level, const QString& text);
    void stepsRecorded(const QList<wb::LrFinderStep>& steps);
    /// The test is over and its thread has ended: isRunning() is already false.
    void finished(const wb::LrFindReport& report);

private:
    void onThreadFinished();

    QThread* m_thread = nullptr;
    std::shared_ptr<std::atomic<bool>> m_cancel;
    wb::LrFindReport m_report;
};

}  // namespace wb::ui
