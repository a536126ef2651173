#include "widgets/training_charts.h"

#include <QChart>
#include <QChartView>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLineSeries>
#include <QScatterSeries>
#include <QTimer>
#include <QValueAxis>
#include <algorithm>
#include <cmath>
#include <limits>

#include "widgets/schedule_preview.h"

namespace wb::ui {
namespace {

constexpr int kRedrawIntervalMs = 100;  // at most 10 redraws a second

const QColor kTrainColor(31, 119, 180);
const QColor kValColor(255, 127, 14);
const QColor kBestColor(214, 39, 40);

QString labelFormatFor(double tickInterval) {
    const int decimals =
        tickInterval >= 1 ? 0 : std::min(6, int(std::ceil(-std::log10(tickInterval) - 1e-9)));
    return QStringLiteral("%.%1f").arg(decimals);
}

void applyRange(QValueAxis* axis, const AxisRange& range, double anchor) {
    // A dynamic-tick axis lays out its ticks on every change. Going from (old range, old
    // interval) to the new pair, pass through whichever mixed state has fewer ticks: a range of
    // 20,000 steps with the old interval of 0.5 would lay out 40,000 labels.
    const double oldSpan = axis->max() - axis->min();
    const double oldInterval = axis->tickInterval();
    const double newSpan = range.max - range.min;
    const bool intervalFirst =
        oldInterval <= 0 || newSpan / oldInterval > oldSpan / range.tickInterval;
    axis->setTickAnchor(anchor);
    if (intervalFirst) {
        axis->setTickInterval(range.tickInterval);
        axis->setRange(range.min, range.max);
    } else {
        axis->setRange(range.min, range.max);
        axis->setTickInterval(range.tickInterval);
    }
    axis->setLabelFormat(labelFormatFor(range.tickInterval));
}

QChart* makeChart(const QString& title) {
    auto* chart = new QChart;
    chart->setTitle(title);
    QFont font = chart->titleFont();
    font.setBold(true);
    chart->setTitleFont(font);
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->setMargins(QMargins(4, 2, 4, 2));
    chart->legend()->setAlignment(Qt::AlignTop);
    return chart;
}

QValueAxis* makeAxis(QChart* chart, Qt::Alignment alignment, const QString& title) {
    auto* axis = new QValueAxis;
    axis->setTitleText(title);
    axis->setTickType(QValueAxis::TicksDynamic);
    QFont font = axis->titleFont();
    font.setPointSizeF(font.pointSizeF() * 0.9);
    font.setBold(false);
    axis->setTitleFont(font);
    chart->addAxis(axis, alignment);
    return axis;
}

QLineSeries* makeLine(QChart* chart, const QString& name, const QColor& color, qreal width,
                      bool points) {
    auto* series = new QLineSeries;
    series->setName(name);
    QPen pen(color);
    pen.setWidthF(width);
    series->setPen(pen);
    series->setPointsVisible(points);
    chart->addSeries(series);
    return series;
}

QScatterSeries* makeBestMarker(QChart* chart) {
    auto* marker = new QScatterSeries;
    marker->setName(QStringLiteral("best epoch"));
    marker->setMarkerShape(QScatterSeries::MarkerShapeCircle);
    marker->setMarkerSize(13);
    marker->setColor(kBestColor);
    marker->setBorderColor(Qt::white);
    marker->setPointLabelsVisible(true);
    marker->setPointLabelsFormat(QStringLiteral("best"));
    marker->setPointLabelsColor(kBestColor);
    marker->setPointLabelsClipping(false);
    QFont font = marker->pointLabelsFont();
    font.setBold(true);
    marker->setPointLabelsFont(font);
    chart->addSeries(marker);
    return marker;
}

void attach(QAbstractSeries* series, QValueAxis* x, QValueAxis* y) {
    series->attachAxis(x);
    series->attachAxis(y);
}

QChartView* makeView(QChart* chart, QWidget* parent) {
    auto* view = new QChartView(chart, parent);
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumSize(240, 180);
    return view;
}

}  // namespace

TrainingCharts::TrainingCharts(QWidget* parent) : QWidget(parent) {
    m_iterationChart = makeChart(tr("Training loss per iteration"));
    m_iterX = makeAxis(m_iterationChart, Qt::AlignBottom, tr("iteration"));
    m_iterY = makeAxis(m_iterationChart, Qt::AlignLeft, tr("loss"));
    QColor light = kTrainColor;
    light.setAlpha(80);
    m_rawSeries = makeLine(m_iterationChart, tr("batch loss"), light, 1.0, false);
    m_smoothSeries = makeLine(m_iterationChart, tr("smoothed"), kTrainColor, 2.0, false);
    attach(m_rawSeries, m_iterX, m_iterY);
    attach(m_smoothSeries, m_iterX, m_iterY);

    m_lossChart = makeChart(tr("Loss per epoch"));
    m_lossX = makeAxis(m_lossChart, Qt::AlignBottom, tr("epoch"));
    m_lossY = makeAxis(m_lossChart, Qt::AlignLeft, tr("loss"));
    m_trainLossSeries = makeLine(m_lossChart, tr("train"), kTrainColor, 2.0, true);
    m_valLossSeries = makeLine(m_lossChart, tr("validation"), kValColor, 2.0, true);
    m_bestLossMarker = makeBestMarker(m_lossChart);
    attach(m_trainLossSeries, m_lossX, m_lossY);
    attach(m_valLossSeries, m_lossX, m_lossY);
    attach(m_bestLossMarker, m_lossX, m_lossY);

    m_accuracyChart = makeChart(tr("Accuracy per epoch"));
    m_accX = makeAxis(m_accuracyChart, Qt::AlignBottom, tr("epoch"));
    m_accY = makeAxis(m_accuracyChart, Qt::AlignLeft, tr("accuracy (%)"));
    m_trainAccSeries = makeLine(m_accuracyChart, tr("train"), kTrainColor, 2.0, true);
    m_valAccSeries = makeLine(m_accuracyChart, tr("validation"), kValColor, 2.0, true);
    m_bestAccMarker = makeBestMarker(m_accuracyChart);
    attach(m_trainAccSeries, m_accX, m_accY);
    attach(m_valAccSeries, m_accX, m_accY);
    attach(m_bestAccMarker, m_accX, m_accY);

    auto* layout = new QGridLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);
    m_rates = new SchedulePreview(tr("Applied learning rate and momentum"), this);
    // The iteration loss keeps most of the width; the rates need less detail.
    auto* top = new QHBoxLayout;
    top->setSpacing(4);
    top->addWidget(makeView(m_iterationChart, this), 3);
    top->addWidget(m_rates, 2);
    layout->addLayout(top, 0, 0, 1, 2);
    layout->addWidget(makeView(m_lossChart, this), 1, 0);
    layout->addWidget(makeView(m_accuracyChart, this), 1, 1);
    layout->setRowStretch(0, 1);
    layout->setRowStretch(1, 1);

    m_redrawTimer = new QTimer(this);
    m_redrawTimer->setSingleShot(true);
    m_redrawTimer->setInterval(kRedrawIntervalMs);
    connect(m_redrawTimer, &QTimer::timeout, this, &TrainingCharts::redraw);

    m_iterationsDirty = true;
    m_epochsDirty = true;
    redraw();
    m_redrawCount = 0;
}

TrainingCharts::~TrainingCharts() = default;

int TrainingCharts::redrawInterval() const {
    return m_redrawTimer->interval();
}

void TrainingCharts::clear() {
    m_rawLoss.clear();
    m_smoothedLoss.clear();
    m_smoother.reset();
    m_rawMin = 0;
    m_rawMax = 0;
    m_epochs.clear();
    m_bestOverride = 0;
    m_appliedLr.clear();
    m_appliedMomentum.clear();
    m_ratesDirty = true;
    m_iterationsDirty = true;
    m_epochsDirty = true;
    scheduleRedraw();
}

void TrainingCharts::addIteration(double step, double loss) {
    if (!std::isfinite(loss)) {
        // A diverged batch: nothing to draw, and it would wreck the axis range.
        return;
    }
    if (m_rawLoss.isEmpty()) {
        m_rawMin = m_rawMax = loss;
    } else {
        m_rawMin = std::min(m_rawMin, loss);
        m_rawMax = std::max(m_rawMax, loss);
    }
    m_rawLoss.append(QPointF(step, loss));
    m_smoothedLoss.append(QPointF(step, m_smoother.add(loss)));
    m_iterationsDirty = true;
    scheduleRedraw();
}

void TrainingCharts::addIterations(const QList<QPointF>& stepLoss) {
    for (const QPointF& p : stepLoss) {
        addIteration(p.x(), p.y());
    }
}

void TrainingCharts::addEpoch(const EpochPoint& point) {
    // A repeated epoch number replaces the earlier point (a resumed run reports it again).
    auto it = std::find_if(m_epochs.begin(), m_epochs.end(),
                           [&](const EpochPoint& e) { return e.epoch == point.epoch; });
    if (it != m_epochs.end()) {
        *it = point;
    } else {
        m_epochs.append(point);
        std::sort(m_epochs.begin(), m_epochs.end(),
                  [](const EpochPoint& a, const EpochPoint& b) { return a.epoch < b.epoch; });
    }
    m_epochsDirty = true;
    scheduleRedraw();
}

void TrainingCharts::addAppliedRates(const QList<QPointF>& stepLr,
                                     const QList<QPointF>& stepMomentum) {
    m_appliedLr.append(stepLr);
    m_appliedMomentum.append(stepMomentum);
    m_ratesDirty = true;
    scheduleRedraw();
}

void TrainingCharts::setRunLength(long long stepsPerEpoch, long long totalSteps) {
    m_rates->setRunLength(stepsPerEpoch, totalSteps);
}

void TrainingCharts::setBestEpoch(int epoch) {
    m_bestOverride = std::max(0, epoch);
    m_epochsDirty = true;
    scheduleRedraw();
}

int TrainingCharts::bestEpoch() const {
    if (m_bestOverride > 0 && findEpoch(m_bestOverride)) {
        return m_bestOverride;
    }
    return computedBestEpoch();
}

int TrainingCharts::computedBestEpoch() const {
    int best = 0;
    double bestValue = -std::numeric_limits<double>::infinity();
    for (const EpochPoint& e : m_epochs) {
        const double value = e.hasVal ? e.valAccuracy : e.trainAccuracy;
        if (value > bestValue) {
            bestValue = value;
            best = e.epoch;
        }
    }
    return best;
}

const EpochPoint* TrainingCharts::findEpoch(int epoch) const {
    for (const EpochPoint& e : m_epochs) {
        if (e.epoch == epoch) {
            return &e;
        }
    }
    return nullptr;
}

void TrainingCharts::setSmoothing(double factor) {
    m_smoother.setFactor(factor);
    m_smoother.reset();
    for (qsizetype i = 0; i < m_rawLoss.size(); ++i) {
        m_smoothedLoss[i].setY(m_smoother.add(m_rawLoss[i].y()));
    }
    m_iterationsDirty = true;
    scheduleRedraw();
}

void TrainingCharts::setMaxDisplayPoints(int points) {
    m_maxDisplayPoints = std::max(16, points);
    m_iterationsDirty = true;
    scheduleRedraw();
}

void TrainingCharts::flush() {
    m_redrawTimer->stop();
    redraw();
}

void TrainingCharts::scheduleRedraw() {
    if (!m_redrawTimer->isActive()) {
        m_redrawTimer->start();
    }
}

void TrainingCharts::redraw() {
    if (m_iterationsDirty) {
        redrawIterations();
        m_iterationsDirty = false;
    }
    if (m_epochsDirty) {
        redrawEpochs();
        m_epochsDirty = false;
    }
    if (m_ratesDirty) {
        m_rates->setCurves(m_appliedLr, m_appliedMomentum);
        m_ratesDirty = false;
    }
    ++m_redrawCount;
}

void TrainingCharts::redrawIterations() {
    m_rawSeries->replace(decimateMinMax(m_rawLoss, m_maxDisplayPoints));
    m_smoothSeries->replace(decimateStride(m_smoothedLoss, m_maxDisplayPoints / 2));
    const double lastStep = m_rawLoss.isEmpty() ? 0 : m_rawLoss.back().x();
    const double firstStep = m_rawLoss.isEmpty() ? 0 : m_rawLoss.front().x();
    applyRange(m_iterX, stepAxisRange(firstStep, lastStep, 8), firstStep);
    const AxisRange y = m_rawLoss.isEmpty() ? paddedRange(0, 2.5, 0, 0.1, 5, 0)
                                            : paddedRange(m_rawMin, m_rawMax, 0.06, 0.05, 5, 0);
    applyRange(m_iterY, y, 0);
}

void TrainingCharts::redrawEpochs() {
    QList<QPointF> trainLoss, valLoss, trainAcc, valAcc;
    double lossLo = std::numeric_limits<double>::infinity();
    double lossHi = -lossLo;
    double accLo = lossLo;
    double accHi = -lossLo;
    auto widen = [](double v, double& lo, double& hi) {
        if (std::isfinite(v)) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    };
    int lastEpoch = 1;
    for (const EpochPoint& e : m_epochs) {
        trainLoss.append(QPointF(e.epoch, e.trainLoss));
        trainAcc.append(QPointF(e.epoch, 100.0 * e.trainAccuracy));
        widen(e.trainLoss, lossLo, lossHi);
        widen(100.0 * e.trainAccuracy, accLo, accHi);
        if (e.hasVal) {
            valLoss.append(QPointF(e.epoch, e.valLoss));
            valAcc.append(QPointF(e.epoch, 100.0 * e.valAccuracy));
            widen(e.valLoss, lossLo, lossHi);
            widen(100.0 * e.valAccuracy, accLo, accHi);
        }
        lastEpoch = std::max(lastEpoch, e.epoch);
    }
    m_trainLossSeries->replace(trainLoss);
    m_valLossSeries->replace(valLoss);
    m_trainAccSeries->replace(trainAcc);
    m_valAccSeries->replace(valAcc);
    // Without a validation split there is no validation line, nor its legend entry.
    m_valLossSeries->setVisible(!valLoss.isEmpty());
    m_valAccSeries->setVisible(!valAcc.isEmpty());

    const int best = bestEpoch();
    const EpochPoint* b = best > 0 ? findEpoch(best) : nullptr;
    if (b) {
        const double loss = b->hasVal ? b->valLoss : b->trainLoss;
        const double acc = 100.0 * (b->hasVal ? b->valAccuracy : b->trainAccuracy);
        m_bestLossMarker->replace(QList<QPointF>{QPointF(best, loss)});
        m_bestAccMarker->replace(QList<QPointF>{QPointF(best, acc)});
        // The trainer picks the best epoch by validation accuracy, by train accuracy when
        // there is no validation split; the label says which.
        const QString name =
            (b->hasVal ? tr("best val: epoch %1, %2%") : tr("best train: epoch %1, %2%"))
                .arg(best)
                .arg(acc, 0, 'f', 1);
        m_bestLossMarker->setName(name);
        m_bestAccMarker->setName(name);
        // The axes below are computed from the same values, so the marker is always inside.
        widen(loss, lossLo, lossHi);
        widen(acc, accLo, accHi);
    } else {
        m_bestLossMarker->clear();
        m_bestAccMarker->clear();
        m_bestLossMarker->setName(tr("best epoch"));
        m_bestAccMarker->setName(tr("best epoch"));
    }

    // Epoch axes: whole epochs, half an epoch of room on each side for the markers.
    AxisRange x;
    x.min = 0.5;
    x.max = lastEpoch + 0.5;
    x.tickInterval = std::max(1.0, std::round(niceTickInterval(lastEpoch, 8)));
    applyRange(m_lossX, x, 1);
    applyRange(m_accX, x, 1);
    applyRange(m_lossY,
               m_epochs.isEmpty() ? paddedRange(0, 2.5, 0, 0.1, 5, 0)
                                  : paddedRange(lossLo, lossHi, 0.12, 0.05, 5, 0),
               0);
    applyRange(m_accY,
               m_epochs.isEmpty() ? paddedRange(0, 100, 0, 1, 5, 0)
                                  : paddedRange(accLo, accHi, 0.12, 2.0, 5, 0),
               0);
}

}  // namespace wb::ui
