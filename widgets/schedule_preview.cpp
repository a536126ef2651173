#include "widgets/schedule_preview.h"

#include <QChart>
#include <QChartView>
#include <QLabel>
#include <QLineSeries>
#include <QStackedLayout>
#include <QValueAxis>
#include <algorithm>
#include <cmath>

#include "widgets/chart_math.h"

namespace wb::ui {
namespace {

const QColor kRateColor(31, 119, 180);
const QColor kMomentumColor(44, 160, 44);
constexpr int kTargetTicks = 6;

QValueAxis* makeAxis(QChart* chart, Qt::Alignment alignment, const QString& title,
                     const QColor& color) {
    auto* axis = new QValueAxis;
    axis->setTitleText(title);
    QFont font = axis->titleFont();
    font.setPointSizeF(font.pointSizeF() * 0.9);
    font.setBold(false);
    axis->setTitleFont(font);
    if (color.isValid()) {
        axis->setTitleBrush(color);
        axis->setLabelsColor(color);
    }
    chart->addAxis(axis, alignment);
    return axis;
}

QLineSeries* makeLine(QChart* chart, const QString& name, const QColor& color) {
    auto* series = new QLineSeries;
    series->setName(name);
    QPen pen(color);
    pen.setWidthF(2.0);
    series->setPen(pen);
    chart->addSeries(series);
    return series;
}

/// Fits `axis` to the y values of `points`, with round ticks whose labels are as short as the
/// interval allows: "0.002", not "0.00209", which a narrow chart would elide.
void fitValues(QValueAxis* axis, const QList<QPointF>& points, double minSpan) {
    double lo = INFINITY;
    double hi = -INFINITY;
    for (const QPointF& p : points) {
        lo = std::min(lo, p.y());
        hi = std::max(hi, p.y());
    }
    if (!std::isfinite(lo) || !std::isfinite(hi)) {
        lo = 0;
        hi = 1;
    }
    // A flat rate gets a span of a fifth of its value, not a sliver of rounding noise.
    const AxisRange range =
        paddedRange(lo, hi, 0.05, std::max(minSpan, 0.2 * std::abs(hi)), 5, 0.0);
    // Dynamic ticks are laid out on every change: pass through a coarse interval, so that
    // neither the old interval over the new range nor the reverse lays out millions of ticks.
    const double coarse = std::max(axis->max() - axis->min(), range.max - range.min);
    axis->setTickType(QValueAxis::TicksDynamic);
    axis->setTickAnchor(0);
    axis->setTickInterval(coarse > 0 ? coarse : 1.0);
    axis->setRange(range.min, range.max);
    axis->setTickInterval(range.tickInterval);
    if (range.tickInterval >= 1) {
        axis->setLabelFormat(QStringLiteral("%.0f"));
    } else if (range.tickInterval >= 1e-4) {
        const int decimals = int(std::ceil(-std::log10(range.tickInterval) - 1e-9));
        axis->setLabelFormat(QStringLiteral("%.%1f").arg(decimals));
    } else {
        axis->setLabelFormat(QStringLiteral("%.0e"));
    }
}

}  // namespace

SchedulePreview::SchedulePreview(const QString& title, QWidget* parent) : QWidget(parent) {
    m_chart = new QChart;
    m_chart->setTitle(title);
    QFont font = m_chart->titleFont();
    font.setBold(true);
    m_chart->setTitleFont(font);
    m_chart->setAnimationOptions(QChart::NoAnimation);
    m_chart->setMargins(QMargins(4, 2, 4, 2));
    m_chart->legend()->setAlignment(Qt::AlignTop);

    m_x = makeAxis(m_chart, Qt::AlignBottom, tr("iteration"), QColor());
    m_x->setTickType(QValueAxis::TicksDynamic);
    m_x->setLabelFormat(QStringLiteral("%.0f"));
    m_lrAxis = makeAxis(m_chart, Qt::AlignLeft, tr("learning rate"), kRateColor);
    m_momentumAxis = makeAxis(m_chart, Qt::AlignRight, tr("momentum"), kMomentumColor);
    m_lrSeries = makeLine(m_chart, tr("learning rate"), kRateColor);
    m_momentumSeries = makeLine(m_chart, tr("momentum"), kMomentumColor);
    m_lrSeries->attachAxis(m_x);
    m_lrSeries->attachAxis(m_lrAxis);
    m_momentumSeries->attachAxis(m_x);
    m_momentumSeries->attachAxis(m_momentumAxis);

    auto* view = new QChartView(m_chart);
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumSize(240, 180);

    m_message = new QLabel;
    m_message->setWordWrap(true);
    m_message->setAlignment(Qt::AlignCenter);
    m_message->setMargin(12);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_message->setMinimumHeight(180);

    m_stack = new QStackedLayout(this);
    m_stack->setContentsMargins(0, 0, 0, 0);
    m_stack->addWidget(view);
    m_stack->addWidget(m_message);
    redraw();
}

SchedulePreview::~SchedulePreview() = default;

void SchedulePreview::setRunLength(long long stepsPerEpoch, long long totalSteps) {
    m_stepsPerEpoch = std::max(0LL, stepsPerEpoch);
    m_totalSteps = std::max(0LL, totalSteps);
    updateStepAxis();
}

void SchedulePreview::setCurves(const QList<QPointF>& learningRate,
                                const QList<QPointF>& momentum) {
    m_lr = learningRate;
    m_momentum = momentum;
    m_message->clear();
    m_stack->setCurrentIndex(0);
    redraw();
}

void SchedulePreview::showMessage(const QString& text) {
    m_message->setText(text);
    m_stack->setCurrentIndex(1);
}

bool SchedulePreview::showsCurves() const {
    return m_stack->currentIndex() == 0;
}

QString SchedulePreview::message() const {
    return showsCurves() ? QString() : m_message->text();
}

void SchedulePreview::redraw() {
    // Small rates are drawn in units of a power of ten named in the axis title, as plotting
    // tools do: "0.0004" does not fit beside a narrow chart, "4" does. A flat 0.01 gets ticks
    // 0.0005 apart, whose labels ("0.0100") do not fit either.
    double top = 0;
    for (const QPointF& p : m_lr) {
        top = std::max(top, std::abs(p.y()));
    }
    const int exponent = top > 0 && top < 0.1 ? int(std::floor(std::log10(top))) : 0;
    QList<QPointF> shown = m_lr;
    if (exponent != 0) {
        const double scale = std::pow(10.0, -exponent);
        for (QPointF& p : shown) {
            p.setY(p.y() * scale);
        }
        m_lrAxis->setTitleText(tr("learning rate (×1e%1)").arg(exponent));
    } else {
        m_lrAxis->setTitleText(tr("learning rate"));
    }
    m_lrScaleExponent = exponent;
    m_lrSeries->replace(decimateMinMax(shown, m_maxDisplayPoints));
    m_momentumSeries->replace(decimateMinMax(m_momentum, m_maxDisplayPoints));
    m_momentumSeries->setVisible(!m_momentum.isEmpty());
    m_momentumAxis->setVisible(!m_momentum.isEmpty());
    fitValues(m_lrAxis, shown, 1e-12);
    fitValues(m_momentumAxis, m_momentum, 0.1);
    updateStepAxis();
}

void SchedulePreview::updateStepAxis() {
    const double lastStep = m_lr.isEmpty() ? 0.0 : m_lr.back().x();
    const double end = std::max<double>({double(m_totalSteps), lastStep + 1, 1.0});
    // Ticks on epoch boundaries: every k epochs, k a round number giving a handful of ticks.
    // Whole iterations only: a run of 3 steps is not labelled 0, 0.5, 1, …
    double interval = std::max(1.0, niceTickInterval(end, kTargetTicks));
    QString title = tr("iteration");
    if (m_stepsPerEpoch > 0) {
        const double epochs = end / double(m_stepsPerEpoch);
        const double everyEpochs =
            std::max(1.0, std::round(niceTickInterval(epochs, kTargetTicks)));
        interval = everyEpochs * double(m_stepsPerEpoch);
        title = everyEpochs == 1 ? tr("iteration · a tick per epoch")
                                 : tr("iteration · a tick every %1 epochs").arg(everyEpochs);
    }
    // Through a coarse interval, as fitValues() does.
    m_x->setTickAnchor(0);
    m_x->setTickInterval(std::max(end, m_x->max() - m_x->min()));
    m_x->setRange(0, end);
    m_x->setTickInterval(interval);
    m_x->setTitleText(title);
}

}  // namespace wb::ui
