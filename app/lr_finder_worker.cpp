#include "app/lr_finder_worker.h"

#include <QThread>
#include <exception>

#include "app/logging.h"

namespace wb::ui {
namespace {

constexpr int kFlushMs = 100;

/// The engine's observer on the test's thread: queues messages and batches of steps to the
/// controller on the GUI thread.
class Forwarder : public wb::Observer {
public:
    explicit Forwarder(LrFinderController* controller) : m_controller(controller) {}

    void on_message(wb::Level level, const std::string& text) override {
        flush();
        const QString message = QString::fromStdString(text);
        QMetaObject::invokeMethod(
            m_controller,
            [c = m_controller, level, message] { emit c->messageLogged(level, message); },
            Qt::QueuedConnection);
    }
    void on_lr_step(const wb::LrFinderStep& step) override {
        m_pending.append(step);
        if (!m_timer.isValid() || m_timer.elapsed() >= kFlushMs) {
            flush();
        }
    }
    void flush() {
        m_timer.start();
        if (m_pending.isEmpty()) {
            return;
        }
        QMetaObject::invokeMethod(
            m_controller, [c = m_controller, steps = m_pending] { emit c->stepsRecorded(steps); },
            Qt::QueuedConnection);
        m_pending.clear();
    }

private:
    LrFinderController* m_controller;
    QList<wb::LrFinderStep> m_pending;
    QElapsedTimer m_timer;
};

}  // namespace

LrFinderController::LrFinderController(QObject* parent) : QObject(parent) {
    registerEngineMetaTypes();
}

LrFinderController::~LrFinderController() {
    if (m_thread) {
        // Limitation: blocks until the engine notices the flag (one step, or the end of the
        // dataset scan, which has no cancel point).
        m_cancel->store(true);
        m_thread->wait();
    }
}

bool LrFinderController::start(const wb::Experiment& experiment) {
    if (m_thread) {
        return false;
    }
    m_cancel = std::make_shared<std::atomic<bool>>(false);
    m_report = {};
    // The lambda runs on the new thread; it reaches this object only through queued calls,
    // and m_report is read on the GUI thread only after the thread has finished.
    m_thread = QThread::create([this, experiment, cancel = m_cancel] {
        Forwarder forwarder(this);
        wb::LrFindReport report;
        try {
            report = wb::find_learning_rate(experiment, forwarder, *cancel);
        } catch (const std::exception& error) {
            report.status = "failed";
            report.message = error.what();
        }
        forwarder.flush();
        m_report = report;
    });
    m_thread->setObjectName(QStringLiteral("wb-lr-find"));
    connect(m_thread, &QThread::finished, this, &LrFinderController::onThreadFinished,
            Qt::QueuedConnection);
    qCDebug(lcTrain) << "starting a range test";
    m_thread->start();
    return true;
}

void LrFinderController::stop() {
    if (m_cancel) {
        m_cancel->store(true);
    }
}

void LrFinderController::onThreadFinished() {
    if (!m_thread) {
        return;
    }
    m_thread->wait();
    m_thread->deleteLater();
    m_thread = nullptr;
    emit finished(m_report);
}

}  // namespace wb::ui
