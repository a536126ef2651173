#include "app/training_panel.h"

#include <QDir>
#include <QFile>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QStyle>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "app/logging.h"
#include "app/training_worker.h"
#include "widgets/training_charts.h"

namespace wb::ui {

QString formatDuration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) {
        return QStringLiteral("–");
    }
    const long long s = std::llround(seconds);
    if (s >= 3600) {
        return QStringLiteral("%1:%2:%3")
            .arg(s / 3600)
            .arg((s / 60) % 60, 2, 10, QLatin1Char('0'))
            .arg(s % 60, 2, 10, QLatin1Char('0'));
    }
    return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

namespace {

QString percent(double fraction) {
    return QStringLiteral("%1%").arg(100.0 * fraction, 0, 'f', 1);
}

QString readyText() {
    return TrainingPanel::tr("Ready. Press Start to train on the chosen dataset.");
}

}  // namespace

TrainingPanel::TrainingPanel(QWidget* parent) : QWidget(parent) {
    m_controller = new TrainingController(this);
    m_charts = new TrainingCharts;

    m_startButton = new QPushButton(style()->standardIcon(QStyle::SP_MediaPlay), tr("Start"));
    m_startButton->setToolTip(tr("Train the model on the dataset with these settings"));
    m_stopButton = new QPushButton(style()->standardIcon(QStyle::SP_MediaStop), tr("Stop"));
    m_stopButton->setToolTip(tr("Stop after the current batch; the run folder is kept"));
    m_stopButton->setEnabled(false);
    m_progress = new QProgressBar;
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progress->setFormat(tr("Idle"));
    m_progress->setTextVisible(true);

    // Both header labels wrap: a long summary after a run must not widen the right side of
    // the window (the splitter would take the width from the dataset panel).
    m_status = new QLabel;
    m_status->setWordWrap(true);
    m_details = new QLabel;
    m_details->setMinimumWidth(1);  // clipped rather than widening the window
    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_details->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    m_result = new QLabel;
    m_result->setWordWrap(true);
    m_result->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* controls = new QHBoxLayout;
    controls->addWidget(m_startButton);
    controls->addWidget(m_stopButton);
    controls->addWidget(m_progress, 1);

    auto* statusRow = new QHBoxLayout;
    statusRow->addWidget(m_status, 1);
    statusRow->addWidget(m_details);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(controls);
    layout->addLayout(statusRow);
    layout->addWidget(m_result);
    layout->addWidget(m_charts, 1);
    m_result->hide();
    showHeadline(readyText());

    connect(m_startButton, &QPushButton::clicked, this, &TrainingPanel::startRequested);
    connect(m_stopButton, &QPushButton::clicked, this, &TrainingPanel::stop);
    connect(m_controller, &TrainingController::messageLogged, this, &TrainingPanel::messageLogged);
    connect(m_controller, &TrainingController::datasetScanned, this,
            [this](const wb::DatasetInfo& info) {
                qCDebug(lcTrain) << "dataset of the run:" << QString::fromStdString(info.root);
                const QString summary = QString::fromStdString(info.summary).trimmed();
                if (!summary.isEmpty()) {
                    emit messageLogged(wb::Level::Info, summary);
                }
            });
    connect(m_controller, &TrainingController::runStarted, this, &TrainingPanel::onRunStarted);
    connect(m_controller, &TrainingController::iterationsFinished, this,
            &TrainingPanel::onIterations);
    connect(m_controller, &TrainingController::epochFinished, this, &TrainingPanel::onEpoch);
    connect(m_controller, &TrainingController::evaluationFinished, this,
            &TrainingPanel::evaluationFinished);
    connect(m_controller, &TrainingController::runFinished, this, &TrainingPanel::onFinished);
}

TrainingPanel::~TrainingPanel() = default;

bool TrainingPanel::isRunning() const {
    return m_controller->isRunning();
}

bool TrainingPanel::isStopping() const {
    return m_controller->isStopping();
}

bool TrainingPanel::canStart() const {
    return !isRunning() && m_blockedReason.isEmpty();
}

QString TrainingPanel::statusText() const {
    return m_status->text();
}

void TrainingPanel::setStartBlocked(const QString& reason) {
    if (reason == m_blockedReason) {
        return;
    }
    m_blockedReason = reason;
    showHeadline(m_headline);
    updateStartButton();
}

void TrainingPanel::showHeadline(const QString& text) {
    m_headline = text;
    if (m_blockedReason.isEmpty() || isRunning()) {
        m_status->setText(text);
        return;
    }
    // Idle and blocked: say why instead of "Ready", or after the last run's summary.
    const QString blocked = tr("Cannot start: %1").arg(m_blockedReason);
    m_status->setText(text == readyText() ? blocked : text + QLatin1Char('\n') + blocked);
}

bool TrainingPanel::start(const wb::Experiment& experiment) {
    return begin(experiment, {});
}

bool TrainingPanel::resume(const QString& runDir, const wb::Experiment& experiment) {
    return begin(experiment, runDir);
}

bool TrainingPanel::begin(const wb::Experiment& experiment, const QString& resumeDir) {
    // A resumed run reads its own dataset folder, not the one the Dataset tab shows.
    if ((resumeDir.isEmpty() && !m_blockedReason.isEmpty()) ||
        !m_controller->start(experiment, resumeDir)) {
        return false;
    }
    m_resuming = !resumeDir.isEmpty();
    m_charts->clear();
    m_run = {};
    m_totalSteps = 0;
    m_iterationsSeen = 0;
    m_epochsSeen = 0;
    m_bestAccuracy = -1;
    m_runHasVal = false;
    m_elapsed.start();
    m_progress->setRange(0, 0);  // busy until the run reports its size
    m_progress->setFormat(tr("Preparing…"));
    showHeadline(tr("Preparing the run: scanning the dataset, building %1…")
                     .arg(QString::fromStdString(experiment.model.arch)));
    m_details->clear();
    m_result->hide();
    setRunning(true);
    if (m_resuming) {
        emit messageLogged(wb::Level::Info,
                           tr("Resuming %1 from its last checkpoint").arg(resumeDir));
        return true;
    }
    emit messageLogged(wb::Level::Info, tr("Training %1 for %n epoch(s), batch %2, %3 lr %4",
                                           nullptr, experiment.epochs)
                                            .arg(QString::fromStdString(experiment.model.arch))
                                            .arg(experiment.batch_size)
                                            .arg(QString::fromStdString(experiment.optimizer.type))
                                            .arg(experiment.optimizer.lr));
    return true;
}

void TrainingPanel::stop() {
    if (!isRunning() || isStopping()) {
        return;
    }
    m_controller->stop();
    m_stopButton->setEnabled(false);
    showHeadline(tr("Stopping after the current batch…"));
    emit messageLogged(wb::Level::Info, tr("Stop requested"));
}

void TrainingPanel::setRunning(bool running) {
    m_stopButton->setEnabled(running);
    updateStartButton();
    emit runningChanged(running);
}

void TrainingPanel::updateStartButton() {
    const bool startable = canStart();
    const bool changed = startable != m_startButton->isEnabled();
    m_startButton->setEnabled(startable);
    m_startButton->setToolTip(m_blockedReason.isEmpty()
                                  ? tr("Train the model on the dataset with these settings")
                                  : tr("Cannot start: %1").arg(m_blockedReason));
    if (changed) {
        emit startableChanged(startable);
    }
}

void TrainingPanel::onRunStarted(const wb::RunInfo& info) {
    m_run = info;
    m_totalSteps = std::max<long long>(1, (long long)info.epochs * info.iterations_per_epoch);
    m_charts->setRunLength(info.iterations_per_epoch, m_totalSteps);
    m_progress->setRange(0, int(std::min<long long>(m_totalSteps, INT32_MAX)));
    m_progress->setValue(0);
    updateProgress(0, -1);
    const QString runName = QDir(QString::fromStdString(info.run_dir)).dirName();
    const QString trainable =
        info.trainable_parameters < info.parameters
            ? tr(" (%1 train)").arg(QLocale().toString(info.trainable_parameters))
            : QString();
    m_details->setText(tr("%1 · %2 parameters%3 · run %4")
                           .arg(QString::fromStdString(info.model))
                           .arg(QLocale().toString(info.parameters))
                           .arg(trainable)
                           .arg(runName));
    m_details->setToolTip(QString::fromStdString(info.run_dir));
    showHeadline(tr("Epoch 1/%1 starting…").arg(info.epochs));
    // Smooth over about a quarter of an epoch (2 to 50 batches): a fixed factor lags by
    // epochs on a small dataset and is noisy on a large one.
    const double window = std::clamp(info.iterations_per_epoch / 4.0, 2.0, 50.0);
    m_charts->setSmoothing(1.0 - 1.0 / window);
    if (m_resuming) {
        showHistory(QString::fromStdString(info.run_dir));
    }
    emit runStarted(QString::fromStdString(info.run_dir));
}

void TrainingPanel::showHistory(const QString& runDir) {
    // The engine has cut both files back to the checkpoint before it reports the start.
    const auto rows = [&](const QString& name) {
        QList<QStringList> out;
        QFile file(QDir(runDir).filePath(name));
        if (!file.open(QIODevice::ReadOnly | QIODevice::Text)) {
            return out;
        }
        file.readLine();  // header
        while (!file.atEnd()) {
            const QStringList cells = QString::fromUtf8(file.readLine()).trimmed().split(',');
            if (cells.size() >= 7) {
                out.append(cells);
            }
        }
        return out;
    };
    QList<QPointF> points, rates, momenta;
    // step, epoch, iteration, loss, accuracy, lr, momentum
    for (const QStringList& c : rows(QStringLiteral("iterations.csv"))) {
        const double step = c[0].toDouble();
        points.append({step, c[3].toDouble()});
        rates.append({step, c[5].toDouble()});
        momenta.append({step, c[6].toDouble()});
    }
    m_charts->addIterations(points);
    m_charts->addAppliedRates(rates, momenta);
    m_iterationsSeen = points.size();
    int best = 0;
    double bestScore = -1;
    // epoch, train_loss, train_accuracy, val_loss, val_accuracy, seconds, lr
    for (const QStringList& c : rows(QStringLiteral("metrics.csv"))) {
        EpochPoint point;
        point.epoch = c[0].toInt();
        point.trainLoss = c[1].toDouble();
        point.trainAccuracy = c[2].toDouble();
        point.valLoss = c[3].toDouble();
        point.valAccuracy = c[4].toDouble();
        point.hasVal = std::isfinite(point.valAccuracy);
        m_charts->addEpoch(point);
        const double score = point.hasVal ? point.valAccuracy : point.trainAccuracy;
        if (score > bestScore) {
            bestScore = score;
            best = point.epoch;
        }
        ++m_epochsSeen;
        m_runHasVal = m_runHasVal || point.hasVal;
    }
    if (best > 0) {
        m_charts->setBestEpoch(best);
        m_bestAccuracy = bestScore;
    }
    if (!points.isEmpty()) {
        updateProgress((long long)points.back().x() + 1, -1);
    }
}

void TrainingPanel::onIterations(const QList<wb::IterationStats>& iterations) {
    if (iterations.isEmpty()) {
        return;
    }
    QList<QPointF> points;
    QList<QPointF> rates;
    QList<QPointF> momenta;
    points.reserve(iterations.size());
    rates.reserve(iterations.size());
    momenta.reserve(iterations.size());
    for (const wb::IterationStats& s : iterations) {
        points.append(QPointF(double(s.step), s.loss));
        rates.append(QPointF(double(s.step), s.lr));
        momenta.append(QPointF(double(s.step), s.momentum));
    }
    m_charts->addIterations(points);
    m_charts->addAppliedRates(rates, momenta);
    m_iterationsSeen += iterations.size();

    const wb::IterationStats& last = iterations.back();
    if (m_totalSteps <= 0 && last.iterations_per_epoch > 0) {
        m_totalSteps = (long long)std::max(1, m_run.epochs) * last.iterations_per_epoch;
        m_progress->setRange(0, int(std::min<long long>(m_totalSteps, INT32_MAX)));
    }
    updateProgress(last.step + 1, last.eta_seconds);
    if (isStopping()) {
        return;
    }
    showHeadline(tr("Epoch %1/%2 · iteration %3/%4 · loss %5 · %6 img/s · lr %7")
                     .arg(last.epoch + 1)
                     .arg(std::max(m_run.epochs, last.epoch + 1))
                     .arg(last.iteration + 1)
                     .arg(last.iterations_per_epoch)
                     .arg(last.loss, 0, 'f', 4)
                     .arg(last.images_per_second, 0, 'f', 0)
                     .arg(last.lr, 0, 'g', 3));
}

void TrainingPanel::onEpoch(const wb::EpochStats& stats) {
    EpochPoint point;
    point.epoch = stats.epoch + 1;
    point.trainLoss = stats.train_loss;
    point.trainAccuracy = stats.train_accuracy;
    point.hasVal = stats.has_val;
    point.valLoss = stats.val_loss;
    point.valAccuracy = stats.val_accuracy;
    m_charts->addEpoch(point);
    m_charts->setBestEpoch(stats.best_epoch + 1);
    ++m_epochsSeen;
    m_runHasVal = m_runHasVal || stats.has_val;

    QString text = tr("Epoch %1: train loss %2, accuracy %3")
                       .arg(stats.epoch + 1)
                       .arg(stats.train_loss, 0, 'f', 4)
                       .arg(percent(stats.train_accuracy));
    if (stats.has_val) {
        text += tr(" · validation loss %1, accuracy %2")
                    .arg(stats.val_loss, 0, 'f', 4)
                    .arg(percent(stats.val_accuracy));
    }
    text += tr(" · %1 s").arg(stats.seconds, 0, 'f', 1);
    if (stats.is_best) {
        text += stats.has_val ? tr(" · best so far")
                              : tr(" · best train accuracy so far (no validation split)");
    }
    emit messageLogged(wb::Level::Info, text);
    if (!std::isfinite(stats.train_loss) || (stats.has_val && !std::isfinite(stats.val_loss))) {
        emit messageLogged(wb::Level::Warning,
                           tr("Epoch %1 has a non-finite loss: the run diverged; try a smaller "
                              "learning rate")
                               .arg(stats.epoch + 1));
    }
}

void TrainingPanel::onFinished(const wb::RunResult& result) {
    m_lastResult = result;
    setRunning(false);
    const QString status = QString::fromStdString(result.status);
    const QString message = QString::fromStdString(result.message);
    m_progress->setRange(0, 1);
    m_progress->setValue(result.status == "finished" ? 1 : 0);

    QString summary;
    if (result.status == "finished") {
        m_progress->setFormat(tr("Finished in %1").arg(formatDuration(result.seconds)));
        summary = tr("Finished %n epoch(s) in %1", nullptr, result.epochs_done)
                      .arg(formatDuration(result.seconds));
    } else if (result.status == "cancelled") {
        m_progress->setFormat(tr("Stopped"));
        summary = tr("Stopped after %n epoch(s)", nullptr, result.epochs_done);
    } else {
        m_progress->setFormat(tr("Failed"));
        summary = tr("Failed: %1").arg(message.isEmpty() ? tr("unknown error") : message);
    }
    if (result.best_epoch >= 0) {
        // Without a validation split the trainer's "best_val_accuracy" is train accuracy.
        const QString best = m_epochsSeen == 0 ? tr("best accuracy")
                             : m_runHasVal     ? tr("best validation accuracy")
                                               : tr("best train accuracy (no validation split)");
        summary += tr(" · %1 %2 at epoch %3")
                       .arg(best, percent(result.best_val_accuracy))
                       .arg(result.best_epoch + 1);
    }
    if (result.has_test) {
        summary += tr(" · test accuracy %1 (loss %2)")
                       .arg(percent(result.test_accuracy))
                       .arg(result.test_loss, 0, 'f', 4);
    }
    showHeadline(summary);
    m_result->setText(result.run_dir.empty()
                          ? QString()
                          : tr("Run folder: %1").arg(QString::fromStdString(result.run_dir)));
    m_result->setVisible(!result.run_dir.empty());
    m_charts->flush();
    qCDebug(lcTrain) << "finished:" << status << message;
    emit messageLogged(result.status == "failed" ? wb::Level::Error : wb::Level::Info, summary);
    emit runFinished(result);
}

void TrainingPanel::updateProgress(long long stepsDone, double etaSeconds) {
    if (m_totalSteps <= 0) {
        return;
    }
    m_progress->setValue(int(std::min<long long>(stepsDone, m_progress->maximum())));
    const QString elapsed = formatDuration(m_elapsed.elapsed() / 1000.0);
    if (etaSeconds >= 0 && std::isfinite(etaSeconds)) {
        m_progress->setFormat(
            tr("%p% · elapsed %1 · ETA %2").arg(elapsed, formatDuration(etaSeconds)));
    } else {
        m_progress->setFormat(tr("%p% · elapsed %1").arg(elapsed));
    }
}

}  // namespace wb::ui
