#include "widgets/run_comparison.h"

#include <QApplication>
#include <QBoxLayout>
#include <QChart>
#include <QChartView>
#include <QCursor>
#include <QGridLayout>
#include <QLabel>
#include <QLineSeries>
#include <QLocale>
#include <QPainter>
#include <QPixmap>
#include <QSaveFile>
#include <QScatterSeries>
#include <QStackedLayout>
#include <QToolTip>
#include <QValueAxis>
#include <algorithm>
#include <cmath>
#include <limits>

#include "widgets/chart_math.h"

namespace wb::ui {
namespace {

// Tableau 10 (matplotlib's default cycle): ten hues that stay apart on a white background.
const QColor kPalette[] = {QColor(31, 119, 180),  QColor(255, 127, 14),  QColor(44, 160, 44),
                           QColor(214, 39, 40),   QColor(148, 103, 189), QColor(140, 86, 75),
                           QColor(227, 119, 194), QColor(127, 127, 127), QColor(188, 189, 34),
                           QColor(23, 190, 207)};
constexpr int kPaletteSize = int(sizeof(kPalette) / sizeof(kPalette[0]));

constexpr int kExportWidth = 1200;
constexpr int kExportChartHeight = 460;
constexpr qreal kLineWidth = 2.0;
constexpr qreal kBestMarkerSize = 18;
// Charts read best at about this width to height; the layout picks the arrangement nearer to it.
constexpr double kPreferredAspect = 1.5;
constexpr int kMinChartWidth = 280;
constexpr double kPi = 3.14159265358979323846;

QChart* makeChart(const QString& title) {
    auto* chart = new QChart;
    chart->setTitle(title);
    QFont font = chart->titleFont();
    font.setBold(true);
    chart->setTitleFont(font);
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->setMargins(QMargins(4, 2, 8, 2));
    // One legend above both charts (the colours are the same in each).
    chart->legend()->hide();
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

/// Dynamic ticks are laid out on every change: pass through the coarser of the two intervals,
/// so that neither the old interval over the new range nor the reverse lays out many ticks.
void setAxis(QValueAxis* axis, const AxisRange& range, double anchor, const char* format) {
    axis->setTickAnchor(anchor);
    axis->setTickInterval(std::max(axis->tickInterval(), range.tickInterval));
    axis->setRange(range.min, range.max);
    axis->setTickInterval(range.tickInterval);
    axis->setLabelFormat(QString::fromLatin1(format));
}

const char* decimalsFormat(double tickInterval) {
    if (tickInterval >= 1) {
        return "%.0f";
    }
    if (tickInterval >= 0.1) {
        return "%.1f";
    }
    if (tickInterval >= 0.01) {
        return "%.2f";
    }
    return "%.3f";
}

QPen runPen(int index) {
    QPen pen(RunComparison::colourFor(index));
    pen.setWidthF(kLineWidth);
    if (RunComparison::isDashed(index)) {
        pen.setStyle(Qt::DashLine);
    }
    return pen;
}

QLineSeries* makeLine(QChart* chart, const QString& name, int index) {
    auto* series = new QLineSeries;
    series->setName(name);
    series->setPen(runPen(index));
    // A run of one epoch has no line to draw; the point still shows.
    series->setPointsVisible(true);
    chart->addSeries(series);
    return series;
}

QScatterSeries* makeBestMarker(QChart* chart, const QString& name, int index) {
    auto* marker = new QScatterSeries;
    marker->setName(name);
    marker->setMarkerShape(QScatterSeries::MarkerShapeStar);
    marker->setMarkerSize(kBestMarkerSize);
    const QColor colour = RunComparison::colourFor(index);
    marker->setColor(colour);
    QPen border(colour.darker(160));
    border.setWidthF(1.0);
    marker->setPen(border);
    chart->addSeries(marker);
    return marker;
}

/// A short line in the run's pen with a star on it, as the charts draw the run.
QPixmap swatch(int index) {
    const qreal ratio = qApp ? qApp->devicePixelRatio() : 1.0;
    QPixmap pixmap(QSize(34, 16) * ratio);
    pixmap.setDevicePixelRatio(ratio);
    pixmap.fill(Qt::transparent);
    QPainter painter(&pixmap);
    painter.setRenderHint(QPainter::Antialiasing);
    QPen pen = runPen(index);
    pen.setWidthF(2.5);
    painter.setPen(pen);
    painter.drawLine(QPointF(1, 8), QPointF(33, 8));
    const QColor colour = RunComparison::colourFor(index);
    painter.setPen(QPen(colour.darker(160), 1.0));
    painter.setBrush(colour);
    QPolygonF star;
    for (int i = 0; i < 10; ++i) {
        const double r = i % 2 == 0 ? 7.0 : 3.0;
        const double a = kPi / 2 + i * kPi / 5;
        star << QPointF(17 + r * std::cos(a), 8 - r * std::sin(a));
    }
    painter.drawPolygon(star);
    return pixmap;
}

/// A label that elides its text in the middle when narrow: run folder names differ at both
/// ends (date and time first, the run's name and policy last).
class ElidedLabel : public QLabel {
public:
    explicit ElidedLabel(const QString& text) : QLabel(text) { setToolTip(text); }
    QSize minimumSizeHint() const override {
        return QSize(fontMetrics().horizontalAdvance(QStringLiteral("2025…step")),
                     QLabel::minimumSizeHint().height());
    }

protected:
    void paintEvent(QPaintEvent*) override {
        QPainter painter(this);
        const QRect area = contentsRect();
        painter.setPen(palette().color(foregroundRole()));
        painter.drawText(area, int(Qt::AlignLeft | Qt::AlignVCenter),
                         fontMetrics().elidedText(text(), Qt::ElideMiddle, area.width()));
    }
};

QString csvField(const QString& text) {
    if (!text.contains(QLatin1Char(',')) && !text.contains(QLatin1Char('"')) &&
        !text.contains(QLatin1Char('\n')) && !text.contains(QLatin1Char('\r'))) {
        return text;
    }
    QString quoted = text;
    quoted.replace(QLatin1String("\""), QLatin1String("\"\""));
    return QLatin1Char('"') + quoted + QLatin1Char('"');
}

QString csvNumber(double value) {
    return std::isfinite(value) ? QString::number(value, 'g', QLocale::FloatingPointShortest)
                                : QString();
}

double valueAt(const QList<double>& values, qsizetype i) {
    return i < values.size() ? values[i] : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

RunComparison::RunComparison(QWidget* parent) : QWidget(parent) {
    m_accuracyChart = makeChart(tr("Validation accuracy per epoch"));
    m_accX = makeAxis(m_accuracyChart, Qt::AlignBottom, tr("epoch"));
    m_accY = makeAxis(m_accuracyChart, Qt::AlignLeft, tr("accuracy (%)"));
    m_lossChart = makeChart(tr("Validation loss per epoch"));
    m_lossX = makeAxis(m_lossChart, Qt::AlignBottom, tr("epoch"));
    m_lossY = makeAxis(m_lossChart, Qt::AlignLeft, tr("loss"));

    auto makeView = [](QChart* chart) {
        auto* view = new QChartView(chart);
        view->setRenderHint(QPainter::Antialiasing);
        view->setMinimumSize(kMinChartWidth, 160);
        return view;
    };

    m_legendBox = new QWidget;
    auto* legendGrid = new QGridLayout(m_legendBox);
    legendGrid->setContentsMargins(6, 2, 6, 2);
    legendGrid->setHorizontalSpacing(8);
    legendGrid->setVerticalSpacing(2);

    m_charts = new QBoxLayout(QBoxLayout::LeftToRight);
    m_charts->setContentsMargins(0, 0, 0, 0);
    m_charts->setSpacing(4);
    m_charts->addWidget(makeView(m_accuracyChart), 1);
    m_charts->addWidget(makeView(m_lossChart), 1);

    auto* page = new QWidget;
    auto* pageLayout = new QVBoxLayout(page);
    pageLayout->setContentsMargins(0, 0, 0, 0);
    pageLayout->setSpacing(2);
    pageLayout->addWidget(m_legendBox);
    pageLayout->addLayout(m_charts, 1);

    m_hint = new QLabel(tr("Select runs in the table to compare them"));
    m_hint->setAlignment(Qt::AlignCenter);
    m_hint->setWordWrap(true);
    m_hint->setMargin(12);
    m_hint->setEnabled(false);  // drawn greyed, as a placeholder

    m_stack = new QStackedLayout(this);
    m_stack->setContentsMargins(0, 0, 0, 0);
    m_stack->addWidget(page);
    m_stack->addWidget(m_hint);

    rebuild();
}

RunComparison::~RunComparison() = default;

QColor RunComparison::colourFor(int index) {
    return kPalette[std::max(0, index) % kPaletteSize];
}

bool RunComparison::isDashed(int index) {
    return (std::max(0, index) / kPaletteSize) % 2 == 1;
}

int RunComparison::paletteSize() {
    return kPaletteSize;
}

void RunComparison::setRuns(const QList<ComparedRun>& runs) {
    m_runs = runs;
    rebuild();
}

int RunComparison::resolvedBest(const ComparedRun& run) const {
    const auto finiteAt = [&](int epoch) {
        const qsizetype i = run.epochs.indexOf(double(epoch));
        return i >= 0 && std::isfinite(valueAt(run.accuracy, i));
    };
    if (run.bestEpoch > 0 && finiteAt(run.bestEpoch)) {
        return run.bestEpoch;
    }
    int best = 0;
    double bestValue = -std::numeric_limits<double>::infinity();
    for (qsizetype i = 0; i < run.epochs.size(); ++i) {
        const double value = valueAt(run.accuracy, i);
        if (std::isfinite(value) && value > bestValue) {
            bestValue = value;
            best = int(std::lround(run.epochs[i]));
        }
    }
    return best;
}

int RunComparison::bestEpoch(int run) const {
    return run >= 0 && run < m_best.size() ? m_best[run] : 0;
}

QString RunComparison::displayLabel(int run) const {
    if (run < 0 || run >= m_runs.size()) {
        return {};
    }
    return m_runs[run].validation ? m_runs[run].label : tr("%1 (train)").arg(m_runs[run].label);
}

QString RunComparison::bestText(int run) const {
    const int best = bestEpoch(run);
    if (best <= 0) {
        return {};
    }
    const ComparedRun& r = m_runs[run];
    const double accuracy = valueAt(r.accuracy, r.epochs.indexOf(double(best)));
    const QString text = tr("best %1% @ %2").arg(100.0 * accuracy, 0, 'f', 1).arg(best);
    return r.validation ? text : tr("%1 (train)").arg(text);
}

void RunComparison::rebuild() {
    for (const RunSeries& s : std::as_const(m_series)) {
        for (QAbstractSeries* series : {static_cast<QAbstractSeries*>(s.accuracy),
                                        static_cast<QAbstractSeries*>(s.bestAccuracy)}) {
            m_accuracyChart->removeSeries(series);
            delete series;
        }
        for (QAbstractSeries* series :
             {static_cast<QAbstractSeries*>(s.loss), static_cast<QAbstractSeries*>(s.bestLoss)}) {
            m_lossChart->removeSeries(series);
            delete series;
        }
    }
    m_series.clear();
    m_best.clear();

    double accLo = std::numeric_limits<double>::infinity();
    double accHi = -accLo;
    double lossLo = accLo;
    double lossHi = -accLo;
    auto widen = [](double v, double& lo, double& hi) {
        if (std::isfinite(v)) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    };
    double lastEpoch = 1;
    bool allValidation = true;
    for (int r = 0; r < m_runs.size(); ++r) {
        const ComparedRun& run = m_runs[r];
        allValidation = allValidation && run.validation;
        const QString label = displayLabel(r);
        RunSeries s;
        s.accuracy = makeLine(m_accuracyChart, label, r);
        s.loss = makeLine(m_lossChart, label, r);
        QList<QPointF> accuracy, loss;
        for (qsizetype i = 0; i < run.epochs.size(); ++i) {
            const double epoch = run.epochs[i];
            if (!std::isfinite(epoch)) {
                continue;
            }
            const double acc = 100.0 * valueAt(run.accuracy, i);
            const double l = valueAt(run.loss, i);
            if (std::isfinite(acc)) {
                accuracy.append(QPointF(epoch, acc));
                widen(acc, accLo, accHi);
            }
            if (std::isfinite(l)) {
                loss.append(QPointF(epoch, l));
                widen(l, lossLo, lossHi);
            }
            lastEpoch = std::max(lastEpoch, epoch);
        }
        s.accuracy->replace(accuracy);
        s.loss->replace(loss);

        m_best.append(resolvedBest(run));
        s.accuracy->attachAxis(m_accX);
        s.accuracy->attachAxis(m_accY);
        s.loss->attachAxis(m_lossX);
        s.loss->attachAxis(m_lossY);
        m_series.append(s);
    }
    // The stars are added after every line, so that they are drawn above all of them.
    for (int r = 0; r < m_runs.size(); ++r) {
        const ComparedRun& run = m_runs[r];
        RunSeries& s = m_series[r];
        const QString label = displayLabel(r);
        const QString bestName = tr("%1: best epoch").arg(label);
        s.bestAccuracy = makeBestMarker(m_accuracyChart, bestName, r);
        s.bestLoss = makeBestMarker(m_lossChart, bestName, r);
        s.bestAccuracy->attachAxis(m_accX);
        s.bestAccuracy->attachAxis(m_accY);
        s.bestLoss->attachAxis(m_lossX);
        s.bestLoss->attachAxis(m_lossY);
        const int best = m_best[r];
        if (best <= 0) {
            continue;
        }
        const qsizetype i = run.epochs.indexOf(double(best));
        s.bestAccuracy->append(QPointF(best, 100.0 * valueAt(run.accuracy, i)));
        const double loss = valueAt(run.loss, i);
        if (std::isfinite(loss)) {
            s.bestLoss->append(QPointF(best, loss));
        }
        const QString tip = QStringLiteral("%1\n%2").arg(label, bestText(r));
        for (QScatterSeries* marker : {s.bestAccuracy, s.bestLoss}) {
            connect(marker, &QScatterSeries::hovered, this, [tip](const QPointF&, bool state) {
                if (state) {
                    QToolTip::showText(QCursor::pos(), tip);
                } else {
                    QToolTip::hideText();
                }
            });
        }
    }

    m_accuracyChart->setTitle(allValidation
                                  ? tr("Validation accuracy per epoch")
                                  : tr("Accuracy per epoch (validation; training where marked)"));
    m_lossChart->setTitle(allValidation ? tr("Validation loss per epoch")
                                        : tr("Loss per epoch (validation; training where marked)"));

    // Whole epochs, half an epoch of room on each side for the stars.
    AxisRange x;
    x.min = 0.5;
    x.max = lastEpoch + 0.5;
    x.tickInterval = std::max(1.0, std::round(niceTickInterval(lastEpoch, 10)));
    setAxis(m_accX, x, 1, "%.0f");
    setAxis(m_lossX, x, 1, "%.0f");
    const AxisRange acc = paddedRange(accLo, accHi, 0.12, 2.0, 5, 0);
    setAxis(m_accY, acc, 0, decimalsFormat(acc.tickInterval));
    const AxisRange loss = paddedRange(lossLo, lossHi, 0.12, 0.05, 5, 0);
    setAxis(m_lossY, loss, 0, decimalsFormat(loss.tickInterval));

    updateLegend();
    m_stack->setCurrentIndex(m_runs.isEmpty() ? 1 : 0);
}

void RunComparison::updateLegend() {
    auto* grid = static_cast<QGridLayout*>(m_legendBox->layout());
    while (QLayoutItem* item = grid->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    // Up to four runs one per line; more in two columns of entries.
    const int perLine = m_runs.size() > 4 ? 2 : 1;
    QStringList lines;
    for (int r = 0; r < m_runs.size(); ++r) {
        const int row = r / perLine;
        const int column = (r % perLine) * 3;
        auto* mark = new QLabel;
        mark->setPixmap(swatch(r));
        if (column > 0) {
            mark->setContentsMargins(16, 0, 0, 0);  // apart from the entry on its left
        }
        // A long folder name is elided rather than widening the panel; the best value stays
        // whole.
        auto* name = new ElidedLabel(displayLabel(r));
        auto* best = new QLabel(bestText(r));
        QFont font = best->font();
        font.setBold(true);
        best->setFont(font);
        QPalette palette = best->palette();
        palette.setColor(QPalette::WindowText, colourFor(r).darker(130));
        best->setPalette(palette);
        grid->addWidget(mark, row, column);
        grid->addWidget(name, row, column + 1);
        grid->addWidget(best, row, column + 2);
        lines.append(QStringLiteral("%1  %2").arg(displayLabel(r), bestText(r)).trimmed());
    }
    // The entries keep to the left; what is left over goes to an empty last column.
    for (int c = 0; c < grid->columnCount(); ++c) {
        grid->setColumnStretch(c, 0);
    }
    grid->setColumnStretch(perLine * 3, 1);
    m_legendText = lines.join(QLatin1Char('\n'));
}

void RunComparison::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    updateDirection();
}

void RunComparison::updateDirection() {
    // Side by side each chart is (w / 2) x h, stacked w x (h / 2): take the shape nearer to
    // the preferred aspect, side by side only when both charts keep their minimum width.
    const double w = std::max(1, width());
    const double h = std::max(1, height() - 40);  // about the legend
    const double side = std::abs(std::log((w / 2) / h / kPreferredAspect));
    const double stacked = std::abs(std::log(w / (h / 2) / kPreferredAspect));
    const bool sideBySide = w >= 2 * kMinChartWidth + 8 && side <= stacked;
    const auto direction = sideBySide ? QBoxLayout::LeftToRight : QBoxLayout::TopToBottom;
    if (m_charts->direction() != direction) {
        m_charts->setDirection(direction);
    }
}

bool RunComparison::isSideBySide() const {
    return m_charts->direction() == QBoxLayout::LeftToRight;
}

bool RunComparison::showsHint() const {
    return m_stack->currentIndex() == 1;
}

QString RunComparison::hintText() const {
    return showsHint() ? m_hint->text() : QString();
}

QString RunComparison::legendText() const {
    return m_legendText;
}

QLineSeries* RunComparison::accuracySeries(int run) const {
    return run >= 0 && run < m_series.size() ? m_series[run].accuracy : nullptr;
}

QLineSeries* RunComparison::lossSeries(int run) const {
    return run >= 0 && run < m_series.size() ? m_series[run].loss : nullptr;
}

QScatterSeries* RunComparison::bestAccuracyMarker(int run) const {
    return run >= 0 && run < m_series.size() ? m_series[run].bestAccuracy : nullptr;
}

QScatterSeries* RunComparison::bestLossMarker(int run) const {
    return run >= 0 && run < m_series.size() ? m_series[run].bestLoss : nullptr;
}

QString RunComparison::csvText() const {
    QString text = QStringLiteral("run,epoch,val_accuracy,val_loss,is_best\n");
    for (int r = 0; r < m_runs.size(); ++r) {
        const ComparedRun& run = m_runs[r];
        const QString label = csvField(displayLabel(r));
        for (qsizetype i = 0; i < run.epochs.size(); ++i) {
            const bool isBest = m_best[r] > 0 && run.epochs[i] == double(m_best[r]);
            text += QStringLiteral("%1,%2,%3,%4,%5\n")
                        .arg(label, csvNumber(run.epochs[i]), csvNumber(valueAt(run.accuracy, i)),
                             csvNumber(valueAt(run.loss, i)),
                             isBest ? QStringLiteral("1") : QStringLiteral("0"));
        }
    }
    return text;
}

bool RunComparison::exportCsv(const QString& path) const {
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        return false;
    }
    file.write(csvText().toUtf8());
    return file.commit();
}

bool RunComparison::exportPng(const QString& path) const {
    // A copy laid out at the export size: the on-screen widget keeps its size and layout.
    RunComparison copy;
    copy.setAttribute(Qt::WA_DontShowOnScreen);
    copy.setRuns(m_runs);
    copy.setAutoFillBackground(true);
    QPalette palette = copy.palette();
    palette.setColor(QPalette::Window, Qt::white);
    copy.setPalette(palette);
    const int legendHeight = m_runs.isEmpty() ? 0 : copy.m_legendBox->sizeHint().height();
    copy.resize(kExportWidth, kExportChartHeight + legendHeight);
    copy.show();
    // The charts lay themselves out on posted events.
    QCoreApplication::sendPostedEvents();
    copy.updateDirection();
    QCoreApplication::sendPostedEvents();
    const QImage image = copy.grab().toImage();
    copy.hide();
    return !image.isNull() && image.save(path, "PNG");
}

}  // namespace wb::ui
