#include "widgets/lr_plot.h"

#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QGraphicsLayout>
#include <QGraphicsRectItem>
#include <QGraphicsSimpleTextItem>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QMouseEvent>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>
#include <QValueAxis>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>
#include <limits>

#include "widgets/chart_math.h"

namespace wb::ui {
namespace {

constexpr int kRedrawIntervalMs = 100;  // at most 10 redraws a second
constexpr double kClickSlop = 3;        // pixels a click may move and still be a click
constexpr double kGrabPixels = 6;       // how near a line a press grabs or snaps to it
constexpr double kZoomPerNotch = 0.8;   // span factor per wheel notch (120 eighths of a degree)
constexpr double kMinDecades = 0.05;    // narrowest rate span a zoom reaches
constexpr double kMaxDecades = 20;      // widest
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const QColor kLossColor(31, 119, 180);
const QColor kPickedColor(214, 39, 40);
const QColor kSuggestionColors[] = {QColor(255, 127, 14),  QColor(44, 160, 44),
                                    QColor(148, 103, 189), QColor(140, 86, 75),
                                    QColor(227, 119, 194), QColor(188, 189, 34)};

bool validRate(double lr) {
    return std::isfinite(lr) && lr > 0;
}

QString rateText(double lr) {
    return QString::number(lr, 'e', 2);
}

QString lossText(double loss) {
    return std::isfinite(loss) ? QString::number(loss, 'g', 4) : QStringLiteral("–");
}

QLineSeries* makeLine(QChart* chart, const QString& name, const QColor& color, qreal width,
                      Qt::PenStyle style = Qt::SolidLine) {
    auto* series = new QLineSeries;
    series->setName(name);
    QPen pen(color);
    pen.setWidthF(width);
    pen.setStyle(style);
    series->setPen(pen);
    chart->addSeries(series);
    return series;
}

/// The y value at log10(lr) on the polyline through `points` (x = rate), linear in log10 of
/// the rate; the first segment that holds it wins. NaN outside the curve.
double interpolateLog(const QList<QPointF>& points, double lr) {
    if (!validRate(lr) || points.isEmpty()) {
        return kNaN;
    }
    const double x = std::log10(lr);
    if (points.size() == 1) {
        return std::abs(std::log10(points[0].x()) - x) < 1e-12 ? points[0].y() : kNaN;
    }
    for (qsizetype i = 0; i + 1 < points.size(); ++i) {
        const double xa = std::log10(points[i].x());
        const double xb = std::log10(points[i + 1].x());
        if (x < std::min(xa, xb) || x > std::max(xa, xb)) {
            continue;
        }
        if (xa == xb) {
            return points[i].y();
        }
        const double t = (x - xa) / (xb - xa);
        return points[i].y() + t * (points[i + 1].y() - points[i].y());
    }
    return kNaN;
}

/// The rule in the header: [lowest point, highest smoothed value up to the smoothed minimum].
void lossRange(const QList<QPointF>& raw, const QList<QPointF>& smoothed, double* lo, double* hi) {
    const QList<QPointF>& rule = smoothed.isEmpty() ? raw : smoothed;
    *lo = std::numeric_limits<double>::infinity();
    *hi = -*lo;
    if (rule.isEmpty()) {
        return;
    }
    qsizetype argmin = 0;
    for (qsizetype i = 1; i < rule.size(); ++i) {
        if (rule[i].y() < rule[argmin].y()) {
            argmin = i;
        }
    }
    for (qsizetype i = 0; i <= argmin; ++i) {
        *hi = std::max(*hi, rule[i].y());
    }
    for (const QList<QPointF>* list : {&raw, &smoothed}) {
        for (const QPointF& p : *list) {
            *lo = std::min(*lo, p.y());
        }
    }
}

/// Lines labelled on the plot stay out of the legend, which keeps the curves and the
/// suggestions that found nothing ("valley: none").
void hideFromLegend(QChart* chart, QAbstractSeries* series) {
    for (QLegendMarker* marker : chart->legend()->markers(series)) {
        marker->setVisible(false);
    }
}

/// Labels per decade on the rate axis for a span of `decades`: 1 (powers of 10) down to 4
/// decades, more when zoomed in (at least 4 labels), fewer (every other decade) past 10.
double ticksPerDecade(double decades) {
    if (decades > 10) {
        return 0.5;
    }
    for (double k : {1.0, 2.0, 4.0, 10.0, 20.0, 50.0}) {
        if (decades * k >= 4) {
            return k;
        }
    }
    return 100.0;
}

}  // namespace

LrPlot::LrPlot(QWidget* parent) : QWidget(parent), m_picked(kNaN), m_pressPicked(kNaN) {
    m_chart = new QChart;
    m_chart->setAnimationOptions(QChart::NoAnimation);
    m_chart->setMargins(QMargins(4, 2, 8, 2));
    m_chart->legend()->setAlignment(Qt::AlignTop);

    m_x = new QLogValueAxis;
    m_x->setBase(10);
    m_x->setLabelFormat(QStringLiteral("%.0e"));
    m_x->setMinorTickCount(8);
    m_x->setTitleText(tr("learning rate (log scale)"));
    m_y = new QValueAxis;
    m_y->setTitleText(tr("loss"));
    m_y->setTickType(QValueAxis::TicksDynamic);
    for (QAbstractAxis* axis :
         {static_cast<QAbstractAxis*>(m_x), static_cast<QAbstractAxis*>(m_y)}) {
        QFont font = axis->titleFont();
        font.setPointSizeF(font.pointSizeF() * 0.9);
        font.setBold(false);
        axis->setTitleFont(font);
    }
    m_chart->addAxis(m_x, Qt::AlignBottom);
    m_chart->addAxis(m_y, Qt::AlignLeft);

    QColor light = kLossColor;
    light.setAlpha(90);
    m_rawSeries = makeLine(m_chart, tr("loss"), light, 1.0);
    m_smoothSeries = makeLine(m_chart, tr("smoothed"), kLossColor, 2.5);
    m_pickedSeries = makeLine(m_chart, tr("picked: none"), kPickedColor, 2.0);
    for (QLineSeries* series : {m_rawSeries, m_smoothSeries, m_pickedSeries}) {
        series->attachAxis(m_x);
        series->attachAxis(m_y);
    }
    hideFromLegend(m_chart, m_pickedSeries);
    m_pickedLabel = makeLabel(kPickedColor);

    m_view = new QChartView(m_chart, this);
    m_view->setRenderHint(QPainter::Antialiasing);
    m_view->setMinimumSize(320, 220);
    m_view->viewport()->setMouseTracking(true);
    m_view->viewport()->setCursor(Qt::CrossCursor);
    m_view->viewport()->installEventFilter(this);

    m_status = new QLabel;
    m_status->setContentsMargins(6, 0, 6, 0);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_resetButton = new QPushButton(tr("Reset view"));
    m_resetButton->setToolTip(tr("Back to the automatic ranges (wheel zooms, right drag pans)"));
    connect(m_resetButton, &QPushButton::clicked, this, &LrPlot::resetView);
    m_readout = new QLabel;
    m_readout->setContentsMargins(6, 0, 6, 2);
    m_readout->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* top = new QHBoxLayout;
    top->addWidget(m_status, 1);
    top->addWidget(m_resetButton);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addLayout(top);
    layout->addWidget(m_view, 1);
    layout->addWidget(m_readout);

    m_redrawTimer = new QTimer(this);
    m_redrawTimer->setSingleShot(true);
    m_redrawTimer->setInterval(kRedrawIntervalMs);
    connect(m_redrawTimer, &QTimer::timeout, this, &LrPlot::redraw);
    connect(m_chart, &QChart::plotAreaChanged, this, &LrPlot::updateLabels);
    connect(m_x, &QLogValueAxis::rangeChanged, this, &LrPlot::updateLabels);
    connect(m_y, &QValueAxis::rangeChanged, this, &LrPlot::updateMarkers);

    redraw();
    m_redrawCount = 0;
}

LrPlot::~LrPlot() = default;

void LrPlot::clear() {
    m_raw.clear();
    m_smoothed.clear();
    m_picked = kNaN;
    m_autoView = true;
    setSuggestions({});  // redraws
}

void LrPlot::addPoint(double lr, double loss, double smoothed) {
    if (!validRate(lr)) {
        return;
    }
    if (std::isfinite(loss)) {
        m_raw.append(QPointF(lr, loss));
    }
    if (std::isfinite(smoothed)) {
        m_smoothed.append(QPointF(lr, smoothed));
    }
    scheduleRedraw();
}

void LrPlot::setCurve(const QList<double>& lrs, const QList<double>& losses,
                      const QList<double>& smoothed) {
    m_raw.clear();
    m_smoothed.clear();
    const qsizetype n = std::min({lrs.size(), losses.size(), smoothed.size()});
    for (qsizetype i = 0; i < n; ++i) {
        addPoint(lrs[i], losses[i], smoothed[i]);
    }
    flush();
}

void LrPlot::setSuggestions(const QList<LrSuggestion>& suggestions) {
    for (QLineSeries* series : m_suggestionSeries) {
        m_chart->removeSeries(series);
        delete series;
    }
    for (const Label& label : m_suggestionLabels) {
        delete label.box;
    }
    m_suggestionSeries.clear();
    m_suggestionLabels.clear();
    m_suggestions = suggestions;
    const int colors = int(std::size(kSuggestionColors));
    for (qsizetype i = 0; i < suggestions.size(); ++i) {
        const LrSuggestion& s = suggestions[i];
        const QColor color = kSuggestionColors[i % colors];
        const QString name = validRate(s.lr) ? s.name + QLatin1Char(' ') + rateText(s.lr)
                                             : tr("%1: none").arg(s.name);
        QLineSeries* series = makeLine(m_chart, name, color, 1.8, Qt::DashLine);
        series->attachAxis(m_x);
        series->attachAxis(m_y);
        if (validRate(s.lr)) {
            hideFromLegend(m_chart, series);
        }
        m_suggestionSeries.append(series);
        Label label = makeLabel(color);
        setLabelText(label, validRate(s.lr) ? name : QString());
        m_suggestionLabels.append(label);
    }
    redraw();
}

void LrPlot::setPickedRate(double lr) {
    setPicked(lr);
    if (m_autoView) {
        applyAutoRanges();
    }
}

void LrPlot::setPicked(double lr) {
    m_picked = validRate(lr) ? lr : kNaN;
    m_pickedSeries->setName(validRate(lr) ? tr("picked %1").arg(rateText(lr)) : tr("picked: none"));
    setLabelText(m_pickedLabel, validRate(lr) ? m_pickedSeries->name() : QString());
    updateMarkers();
    updateReadout();
}

void LrPlot::setStatus(const QString& text) {
    m_status->setText(text);
}

QString LrPlot::status() const {
    return m_status->text();
}

void LrPlot::flush() {
    m_redrawTimer->stop();
    redraw();
}

void LrPlot::scheduleRedraw() {
    m_dirty = true;
    if (!m_redrawTimer->isActive()) {
        m_redrawTimer->start();
    }
}

void LrPlot::redraw() {
    m_dirty = false;
    m_rawSeries->replace(m_raw);
    m_smoothSeries->replace(m_smoothed);
    if (m_autoView) {
        applyAutoRanges();
    }
    updateMarkers();
    updateReadout();
    ++m_redrawCount;
}

void LrPlot::resetView() {
    m_autoView = true;
    applyAutoRanges();
}

void LrPlot::applyAutoRanges() {
    double lo = std::numeric_limits<double>::infinity();
    double hi = -lo;
    auto widen = [&](double lr) {
        if (validRate(lr)) {
            lo = std::min(lo, std::log10(lr));
            hi = std::max(hi, std::log10(lr));
        }
    };
    for (const QList<QPointF>* list : {&m_raw, &m_smoothed}) {
        for (const QPointF& p : *list) {
            widen(p.x());
        }
    }
    for (const LrSuggestion& s : m_suggestions) {
        widen(s.lr);
    }
    widen(m_picked);
    if (!std::isfinite(lo)) {
        lo = -7;
        hi = 1;
    } else if (hi - lo < 1) {
        const double centre = (lo + hi) / 2;
        lo = centre - 0.5;
        hi = centre + 0.5;
    }
    const double pad = 0.03 * (hi - lo);
    setXRange(std::pow(10.0, lo - pad), std::pow(10.0, hi + pad));

    double yLo = 0;
    double yHi = 0;
    lossRange(m_raw, m_smoothed, &yLo, &yHi);
    const AxisRange y = std::isfinite(yLo) && std::isfinite(yHi)
                            ? paddedRange(yLo, yHi, 0.08, std::max(1e-3, 0.1 * std::abs(yHi)), 5, 0)
                            : paddedRange(0, 2.5, 0, 0.1, 5, 0);
    setYRange(y.min, y.max);
}

void LrPlot::setXRange(double lo, double hi) {
    const double decades = std::log10(hi / lo);
    const double k = ticksPerDecade(decades);
    m_x->setBase(std::pow(10.0, 1.0 / k));
    m_x->setMinorTickCount(k == 1 ? 8 : 0);
    m_x->setLabelFormat(k <= 1 ? QStringLiteral("%.0e")
                               : (k <= 20 ? QStringLiteral("%.1e") : QStringLiteral("%.2e")));
    m_x->setRange(lo, hi);
}

void LrPlot::setYRange(double lo, double hi) {
    const double interval = niceTickInterval(hi - lo, 5);
    // Dynamic ticks are laid out on every change: pass through a coarse interval so that no
    // mixed state of old and new lays out millions of ticks.
    m_y->setTickAnchor(0);
    m_y->setTickInterval(std::max(m_y->max() - m_y->min(), hi - lo));
    m_y->setRange(lo, hi);
    m_y->setTickInterval(interval);
    if (interval >= 1) {
        m_y->setLabelFormat(QStringLiteral("%.0f"));
    } else if (interval >= 1e-4) {
        const int decimals = int(std::ceil(-std::log10(interval) - 1e-9));
        m_y->setLabelFormat(QStringLiteral("%.%1f").arg(decimals));
    } else {
        m_y->setLabelFormat(QStringLiteral("%.2e"));
    }
}

void LrPlot::updateMarkers() {
    // Vertical lines span the y axis exactly, so they never widen it.
    const double y0 = m_y->min();
    const double y1 = m_y->max();
    auto place = [&](QLineSeries* series, double lr) {
        if (validRate(lr)) {
            series->replace(QList<QPointF>{QPointF(lr, y0), QPointF(lr, y1)});
        } else {
            series->clear();
        }
    };
    for (qsizetype i = 0; i < m_suggestionSeries.size(); ++i) {
        place(m_suggestionSeries[i], m_suggestions[i].lr);
    }
    place(m_pickedSeries, m_picked);
    updateLabels();
}

LrPlot::Label LrPlot::makeLabel(const QColor& color) {
    Label label;
    label.box = new QGraphicsRectItem(m_chart);
    label.box->setPen(Qt::NoPen);
    label.box->setBrush(QColor(255, 255, 255, 215));
    label.box->setZValue(1000);
    label.box->setAcceptedMouseButtons(Qt::NoButton);
    label.text = new QGraphicsSimpleTextItem(label.box);
    label.text->setBrush(color.darker(115));
    QFont font = label.text->font();
    font.setBold(true);
    font.setPointSizeF(font.pointSizeF() * 0.9);
    label.text->setFont(font);
    label.box->hide();
    return label;
}

void LrPlot::setLabelText(const Label& label, const QString& text) {
    label.text->setText(text);
    label.box->setRect(label.text->boundingRect().adjusted(-3, -1, 3, 1));
}

QStringList LrPlot::suggestionLabels() const {
    QStringList texts;
    for (const Label& label : m_suggestionLabels) {
        texts.append(label.text->text());
    }
    return texts;
}

QString LrPlot::pickedLabel() const {
    return m_pickedLabel.text->text();
}

void LrPlot::updateLabels() {
    const QRectF plot = m_chart->plotArea();
    const double xMin = m_x->min();
    const double xMax = m_x->max();
    // Places `label` beside the line at pixel x `px`, on the right when it fits, and returns
    // its rectangle in chart coordinates.
    auto place = [&](const Label& label, double px, double top) {
        const QRectF r = label.box->rect();
        double left = px + 4 - r.left();
        if (left + r.right() > plot.right()) {
            left = px - 4 - r.right();
        }
        label.box->setPos(left, top - r.top());
        return label.box->mapRectToParent(r);
    };
    auto visible = [&](double lr, const Label& label) {
        return validRate(lr) && lr >= xMin && lr <= xMax && !label.text->text().isEmpty() &&
               plot.width() > 0;
    };
    // Suggestions at the top, each in the first row where it overlaps no label to its left.
    QList<qsizetype> order;
    for (qsizetype i = 0; i < m_suggestionLabels.size(); ++i) {
        const bool show = visible(m_suggestions[i].lr, m_suggestionLabels[i]);
        m_suggestionLabels[i].box->setVisible(show);
        if (show) {
            order.append(i);
        }
    }
    std::sort(order.begin(), order.end(),
              [&](qsizetype a, qsizetype b) { return m_suggestions[a].lr < m_suggestions[b].lr; });
    QList<QRectF> placed;
    for (qsizetype i : order) {
        const Label& label = m_suggestionLabels[i];
        const double px =
            m_chart->mapToPosition(QPointF(m_suggestions[i].lr, 0), m_smoothSeries).x();
        const double rowHeight = label.box->rect().height() + 2;
        for (int row = 0;; ++row) {
            const QRectF r = place(label, px, plot.top() + 3 + row * rowHeight);
            const bool clash = std::any_of(placed.begin(), placed.end(),
                                           [&](const QRectF& p) { return p.intersects(r); });
            if (!clash || row > 8) {
                placed.append(r);
                break;
            }
        }
    }
    const bool showPicked = visible(m_picked, m_pickedLabel);
    m_pickedLabel.box->setVisible(showPicked);
    if (showPicked) {
        place(m_pickedLabel, m_chart->mapToPosition(QPointF(m_picked, 0), m_smoothSeries).x(),
              plot.bottom() - 3 - m_pickedLabel.box->rect().height());
    }
}

double LrPlot::smoothedLossAt(double lr) const {
    return interpolateLog(m_smoothed, lr);
}

double LrPlot::rawLossAt(double lr) const {
    return interpolateLog(m_raw, lr);
}

QString LrPlot::readoutText() const {
    return m_readout->text();
}

void LrPlot::updateReadout() {
    const QString picked =
        validRate(m_picked) ? tr("picked %1").arg(rateText(m_picked)) : tr("no rate picked");
    bool inPlot = false;
    const QPointF value = m_hovering ? valueAt(m_hoverPos, &inPlot) : QPointF();
    if (!inPlot) {
        m_readout->setText(picked + tr("   ·   click the plot to pick a rate, wheel to zoom"));
        return;
    }
    const double lr = value.x();
    m_readout->setText(
        tr("lr %1   smoothed loss %2   raw %3   ·   %4")
            .arg(rateText(lr), lossText(smoothedLossAt(lr)), lossText(rawLossAt(lr)), picked));
}

QPointF LrPlot::positionOf(double lr, double loss) const {
    const QPointF chartPos = m_chart->mapToPosition(QPointF(lr, loss), m_smoothSeries);
    return m_view->viewportTransform().map(m_chart->mapToScene(chartPos));
}

double LrPlot::pixelX(double lr) const {
    return positionOf(lr, m_y->min()).x();
}

QPointF LrPlot::valueAt(const QPointF& viewportPos, bool* inPlot) const {
    const QPointF scenePos = m_view->viewportTransform().inverted().map(viewportPos);
    const QPointF chartPos = m_chart->mapFromScene(scenePos);
    if (inPlot) {
        *inPlot = m_chart->plotArea().contains(chartPos);
    }
    return m_chart->mapToValue(chartPos, m_smoothSeries);
}

double LrPlot::rateForPick(const QPointF& viewportPos) const {
    double best = kGrabPixels + 1;
    double snapped = kNaN;
    for (const LrSuggestion& s : m_suggestions) {
        if (!validRate(s.lr)) {
            continue;
        }
        const double d = std::abs(pixelX(s.lr) - viewportPos.x());
        if (d <= kGrabPixels && d < best) {
            best = d;
            snapped = s.lr;
        }
    }
    if (!std::isnan(snapped)) {
        return snapped;
    }
    // A drag may leave the plot: pick at its edge instead.
    const QPointF left = positionOf(m_x->min(), m_y->min());
    const QPointF right = positionOf(m_x->max(), m_y->min());
    const double x = std::clamp(viewportPos.x(), left.x(), right.x());
    const double lr = valueAt(QPointF(x, viewportPos.y())).x();
    // A pixel spans about 1% of the rate on a usual plot: 3 significant digits say as much.
    return validRate(lr) ? rateText(lr).toDouble() : kNaN;
}

bool LrPlot::eventFilter(QObject* watched, QEvent* event) {
    if (watched != m_view->viewport()) {
        return QWidget::eventFilter(watched, event);
    }
    switch (event->type()) {
        case QEvent::MouseButtonPress:
        case QEvent::MouseButtonDblClick:  // the second press of a double click
            return mousePress(static_cast<QMouseEvent*>(event));
        case QEvent::MouseMove:
            return mouseMove(static_cast<QMouseEvent*>(event));
        case QEvent::MouseButtonRelease:
            return mouseRelease(static_cast<QMouseEvent*>(event));
        case QEvent::Wheel:
            return wheel(static_cast<QWheelEvent*>(event));
        case QEvent::Leave:
            m_hovering = false;
            updateReadout();
            return false;
        default:
            return false;
    }
}

bool LrPlot::mousePress(QMouseEvent* event) {
    bool inPlot = false;
    valueAt(event->position(), &inPlot);
    if (!inPlot || m_drag != Drag::None) {
        return false;
    }
    m_pressPos = event->position();
    const bool left = event->button() == Qt::LeftButton;
    if (event->button() == Qt::RightButton || event->button() == Qt::MiddleButton ||
        (left && (event->modifiers() & Qt::ControlModifier))) {
        m_drag = Drag::Pan;
        m_pressLogMin = std::log10(m_x->min());
        m_pressLogMax = std::log10(m_x->max());
        m_pressYMin = m_y->min();
        m_pressYMax = m_y->max();
        m_view->viewport()->setCursor(Qt::ClosedHandCursor);
        return true;
    }
    if (!left) {
        return false;
    }
    m_drag = Drag::Pending;
    m_pressPicked = m_picked;
    m_pressOnMarker =
        validRate(m_picked) && std::abs(pixelX(m_picked) - m_pressPos.x()) <= kGrabPixels;
    return true;
}

bool LrPlot::mouseMove(QMouseEvent* event) {
    const QPointF pos = event->position();
    bool inPlot = false;
    valueAt(pos, &inPlot);
    m_hovering = inPlot || m_drag != Drag::None;
    m_hoverPos = pos;
    const QPointF moved = pos - m_pressPos;
    switch (m_drag) {
        case Drag::None: {
            const bool onMarker =
                validRate(m_picked) && std::abs(pixelX(m_picked) - pos.x()) <= kGrabPixels;
            m_view->viewport()->setCursor(onMarker ? Qt::SplitHCursor : Qt::CrossCursor);
            updateReadout();
            return false;
        }
        case Drag::Pending:
            if (std::abs(moved.x()) + std::abs(moved.y()) > kClickSlop) {
                m_drag = m_pressOnMarker ? Drag::Marker : Drag::Ignored;
                if (m_drag == Drag::Marker) {
                    setPicked(rateForPick(pos));
                }
            }
            break;
        case Drag::Marker:
            setPicked(rateForPick(pos));
            break;
        case Drag::Pan: {
            const QRectF plot = m_chart->plotArea();
            if (plot.width() > 0 && plot.height() > 0) {
                const double dLog = -moved.x() * (m_pressLogMax - m_pressLogMin) / plot.width();
                const double dY = moved.y() * (m_pressYMax - m_pressYMin) / plot.height();
                m_autoView = false;
                setXRange(std::pow(10.0, m_pressLogMin + dLog),
                          std::pow(10.0, m_pressLogMax + dLog));
                setYRange(m_pressYMin + dY, m_pressYMax + dY);
            }
            break;
        }
        case Drag::Ignored:
            break;
    }
    updateReadout();
    return true;
}

bool LrPlot::mouseRelease(QMouseEvent* event) {
    const Drag drag = m_drag;
    m_drag = Drag::None;
    m_view->viewport()->setCursor(Qt::CrossCursor);
    double lr = kNaN;
    if (drag == Drag::Pending && event->button() == Qt::LeftButton) {
        lr = rateForPick(event->position());  // a click
    } else if (drag == Drag::Marker) {
        lr = rateForPick(event->position());
    } else {
        return drag != Drag::None;
    }
    setPicked(lr);
    if (validRate(lr) && !(lr == m_pressPicked)) {
        emit pickedRateChanged(lr);
    }
    return true;
}

bool LrPlot::wheel(QWheelEvent* event) {
    bool inPlot = false;
    const QPointF centre = valueAt(event->position(), &inPlot);
    const double notches = event->angleDelta().y() / 120.0;
    if (!inPlot || notches == 0 || !validRate(centre.x())) {
        return false;
    }
    const double logMin = std::log10(m_x->min());
    const double logMax = std::log10(m_x->max());
    const double c = std::log10(centre.x());
    const double f = std::clamp(std::pow(kZoomPerNotch, notches), kMinDecades / (logMax - logMin),
                                kMaxDecades / (logMax - logMin));
    const double yMin = m_y->min();
    const double yMax = m_y->max();
    m_autoView = false;
    setXRange(std::pow(10.0, c + (logMin - c) * f), std::pow(10.0, c + (logMax - c) * f));
    if ((yMax - yMin) * f > 1e-12 * std::max(1.0, std::abs(centre.y()))) {
        setYRange(centre.y() + (yMin - centre.y()) * f, centre.y() + (yMax - centre.y()) * f);
    }
    updateReadout();
    event->accept();
    return true;
}

bool LrPlot::saveImage(const QString& path) const {
    // Rendering changes nothing the caller can see, but Qt's grab() is not const.
    auto* self = const_cast<LrPlot*>(this);
    if (m_dirty) {
        self->flush();
    }
    if (!isVisible() && layout()) {
        layout()->activate();
    }
    // The chart lays out its axis labels and legend on a posted layout request; a picture taken
    // before the event loop runs would miss them.
    for (QGraphicsWidget* item : {static_cast<QGraphicsWidget*>(m_chart),
                                  static_cast<QGraphicsWidget*>(m_chart->legend())}) {
        if (QGraphicsLayout* itemLayout = item->layout()) {
            itemLayout->activate();
        }
    }
    const QPixmap pixmap = self->grab();
    return !pixmap.isNull() && pixmap.toImage().save(path, "PNG");
}

}  // namespace wb::ui
