#include "app/training_worker.h"

#include <QThread>
#include <exception>

#include "app/logging.h"
#include "engine/trainer.h"

namespace wb::ui {
namespace {

constexpr int kIterationFlushMs = 100;  // about ten iteration signals a second

}  // namespace

TrainingWorker::TrainingWorker(const wb::Experiment& experiment,
                               std::shared_ptr<const std::atomic<bool>> cancel, QString resumeDir)
    : m_experiment(experiment), m_cancel(std::move(cancel)), m_resumeDir(std::move(resumeDir)) {}

void TrainingWorker::run() {
    qCDebug(lcTrain) << "run starts on" << QThread::currentThread();
    wb::RunResult result;
    try {
        result = m_resumeDir.isEmpty() ? wb::train(m_experiment, *this, *m_cancel)
                                       : wb::resume(m_resumeDir.toStdString(), *this, *m_cancel);
    } catch (const std::exception& e) {
        // wb::train reports errors in its result; anything that escapes is a bug, but the user
        // still gets told and the window keeps going.
        result.status = "failed";
        result.message = e.what();
        emit messageLogged(wb::Level::Error, tr("Training failed: %1").arg(e.what()));
    } catch (...) {
        result.status = "failed";
        result.message = "unknown error";
        emit messageLogged(wb::Level::Error, tr("Training failed with an unknown error"));
    }
    flushIterations();
    qCDebug(lcTrain) << "run ends:" << QString::fromStdString(result.status);
    emit runFinished(result);
}

void TrainingWorker::on_message(wb::Level level, const std::string& text) {
    flushIterations();
    emit messageLogged(level, QString::fromStdString(text));
}

void TrainingWorker::on_dataset(const wb::DatasetInfo& info) {
    emit datasetScanned(info);
}

void TrainingWorker::on_run_started(const wb::RunInfo& info) {
    m_sinceFlush.start();
    emit runStarted(info);
}

void TrainingWorker::on_iteration(const wb::IterationStats& stats) {
    m_pending.append(stats);
    if (!m_sinceFlush.isValid() || m_sinceFlush.elapsed() >= kIterationFlushMs) {
        flushIterations();
    }
}

void TrainingWorker::on_epoch(const wb::EpochStats& stats) {
    flushIterations();
    emit epochFinished(stats);
}

void TrainingWorker::on_evaluation(const wb::EpochEvaluation& evaluation) {
    flushIterations();
    emit evaluationFinished(evaluation);
}

void TrainingWorker::on_finished(const wb::RunResult&) {
    // The result is emitted once by run(), after wb::train has returned.
    flushIterations();
}

void TrainingWorker::flushIterations() {
    m_sinceFlush.start();
    if (m_pending.isEmpty()) {
        return;
    }
    emit iterationsFinished(m_pending);
    m_pending.clear();
}

TrainingController::TrainingController(QObject* parent) : QObject(parent) {
    registerEngineMetaTypes();
}

TrainingController::~TrainingController() {
    if (m_thread) {
        // Limitation: blocks until wb::train notices the flag (one batch, or the end of a
        // dataset scan that has no cancel point).
        qCDebug(lcTrain) << "controller destroyed while running: cancelling and waiting";
        m_cancel->store(true);
        m_thread->wait();
        delete m_worker;
    }
}

bool TrainingController::start(const wb::Experiment& experiment, const QString& resumeDir) {
    if (m_thread) {
        return false;
    }
    m_cancel = std::make_shared<std::atomic<bool>>(false);
    m_haveResult = false;
    m_result = {};
    m_thread = new QThread(this);
    m_thread->setObjectName(QStringLiteral("wb-train"));
    m_worker = new TrainingWorker(experiment, m_cancel, resumeDir);
    m_worker->moveToThread(m_thread);

    // Queued: the worker emits on the training thread; the controller and everything it
    // feeds live on the GUI thread, and the worker must never wait for the GUI.
    const auto queued = Qt::QueuedConnection;
    connect(m_worker, &TrainingWorker::messageLogged, this, &TrainingController::messageLogged,
            queued);
    connect(m_worker, &TrainingWorker::datasetScanned, this, &TrainingController::datasetScanned,
            queued);
    connect(m_worker, &TrainingWorker::runStarted, this, &TrainingController::runStarted, queued);
    connect(m_worker, &TrainingWorker::iterationsFinished, this,
            &TrainingController::iterationsFinished, queued);
    connect(m_worker, &TrainingWorker::epochFinished, this, &TrainingController::epochFinished,
            queued);
    connect(m_worker, &TrainingWorker::evaluationFinished, this,
            &TrainingController::evaluationFinished, queued);
    connect(
        m_worker, &TrainingWorker::runFinished, this,
        [this](const wb::RunResult& result) {
            m_result = result;
            m_haveResult = true;
        },
        queued);
    connect(m_worker, &TrainingWorker::runFinished, m_thread, &QThread::quit, Qt::DirectConnection);
    connect(m_thread, &QThread::started, m_worker, &TrainingWorker::run);
    connect(m_thread, &QThread::finished, this, &TrainingController::onThreadFinished, queued);
    qCDebug(lcTrain) << "starting run of" << QString::fromStdString(experiment.model.arch);
    m_thread->start();
    return true;
}

void TrainingController::stop() {
    if (m_cancel) {
        m_cancel->store(true);
    }
}

bool TrainingController::isStopping() const {
    return m_thread && m_cancel && m_cancel->load();
}

bool TrainingController::cancelAndWait(int msecs) {
    if (!m_thread) {
        return true;
    }
    m_cancel->store(true);
    return m_thread->wait(QDeadlineTimer(msecs));
}

void TrainingController::onThreadFinished() {
    if (!m_thread) {
        return;
    }
    m_thread->wait();
    delete m_worker;
    m_worker = nullptr;
    m_thread->deleteLater();
    m_thread = nullptr;
    if (!m_haveResult) {
        m_result.status = "failed";
        m_result.message = "the training thread ended without a result";
    }
    qCDebug(lcTrain) << "thread finished; status" << QString::fromStdString(m_result.status);
    emit runFinished(m_result);
}

}  // namespace wb::ui
