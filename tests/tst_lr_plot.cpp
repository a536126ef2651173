// The learning-rate range test plot: data rules, suggestion and picked markers, picking with the
// mouse, zoom and pan, the readout and the saved image, on the offscreen platform.

#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QFileInfo>
#include <QImage>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QValueAxis>
#include <QtTest>
#include <cmath>
#include <limits>

#include "widgets/lr_plot.h"

using namespace wb::ui;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

/// A range test as it usually looks: flat at first, a dip around 3e-3, then the loss explodes.
struct Curve {
    QList<double> lrs;
    QList<double> losses;
    QList<double> smoothed;
};

Curve typicalCurve(int n = 100) {
    Curve c;
    double avg = 0;
    const double beta = 0.85;
    for (int i = 0; i < n; ++i) {
        const double x = -7.0 + 8.0 * i / (n - 1);  // log10(lr) from -7 to 1
        const double clean =
            2.3 - 1.9 / (1 + std::exp(-2.5 * (x + 4.0))) + 0.05 * std::exp(2.2 * (x + 1.5));
        const double loss = clean * (1 + 0.08 * std::sin(7.3 * i) * std::cos(2.1 * i));
        avg = beta * avg + (1 - beta) * loss;
        c.lrs.append(std::pow(10.0, x));
        c.losses.append(loss);
        c.smoothed.append(avg / (1 - std::pow(beta, i + 1)));
    }
    return c;
}

QList<QPointF> points(const QLineSeries* series) {
    return series->points();
}

void sendMouse(QWidget* w, QEvent::Type type, const QPointF& pos, Qt::MouseButton button,
               Qt::MouseButtons buttons, Qt::KeyboardModifiers modifiers = {}) {
    QMouseEvent event(type, pos, w->mapToGlobal(pos), button, buttons, modifiers);
    QApplication::sendEvent(w, &event);
}

void sendWheel(QWidget* w, const QPointF& pos, int angle) {
    QWheelEvent event(pos, w->mapToGlobal(pos), QPoint(), QPoint(0, angle), Qt::NoButton,
                      Qt::NoModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(w, &event);
}

/// The number after `key` in `text` ("smoothed loss 0.412" → 0.412); NaN when absent.
double numberAfter(const QString& text, const QString& key) {
    const QRegularExpression re(QRegularExpression::escape(key) + QStringLiteral(" ([-+0-9.eE]+)"));
    const QRegularExpressionMatch m = re.match(text);
    return m.hasMatch() ? m.captured(1).toDouble() : kNaN;
}

double midLoss(LrPlot& plot) {
    return (plot.yAxis()->min() + plot.yAxis()->max()) / 2;
}

}  // namespace

class TestLrPlot : public QObject {
    Q_OBJECT
private slots:
    void skipsNonFiniteAndNonPositivePoints();
    void setCurveMatchesAddPoint();
    void addPointRedrawsThrottled();
    void suggestionMarkersCarryTheirValues();
    void clickPicksTheRateUnderTheCursor();
    void clickNearSuggestionPicksItExactly();
    void dragMovesThePickedMarker();
    void wheelZoomsAroundTheCursorAndResetRestores();
    void rightDragPans();
    void readoutShowsInterpolatedSmoothedLoss();
    void yRangeKeepsTheDipVisibleWhenTheLossExplodes();
    void clearForgetsEverythingButTheStatus();
    void saveImageWritesPng();
};

void TestLrPlot::skipsNonFiniteAndNonPositivePoints() {
    LrPlot plot;
    plot.addPoint(0, 1, 1);
    plot.addPoint(-1e-3, 1, 1);
    plot.addPoint(kNaN, 1, 1);
    plot.addPoint(kInf, 1, 1);
    plot.addPoint(1e-3, kNaN, 0.5);  // raw dropped, smoothed kept
    plot.addPoint(1e-2, 0.7, kInf);  // smoothed dropped, raw kept
    plot.addPoint(1e-1, -kInf, kNaN);
    plot.addPoint(1.0, 0.6, 0.55);
    plot.flush();
    QCOMPARE(points(plot.rawSeries()), (QList<QPointF>{{1e-2, 0.7}, {1.0, 0.6}}));
    QCOMPARE(points(plot.smoothedSeries()), (QList<QPointF>{{1e-3, 0.5}, {1.0, 0.55}}));
    QVERIFY(plot.xAxis()->min() > 0);
    QVERIFY(std::isfinite(plot.yAxis()->min()) && std::isfinite(plot.yAxis()->max()));

    // The same through setCurve, with a shorter list cutting the others.
    plot.setCurve({0, 1e-3, 1e-2, kNaN, 1.0, 5.0}, {1, kNaN, 0.7, 1, 0.6, 0.1},
                  {1, 0.5, kInf, 1, 0.55});
    QCOMPARE(points(plot.rawSeries()), (QList<QPointF>{{1e-2, 0.7}, {1.0, 0.6}}));
    QCOMPARE(points(plot.smoothedSeries()), (QList<QPointF>{{1e-3, 0.5}, {1.0, 0.55}}));
}

void TestLrPlot::setCurveMatchesAddPoint() {
    const Curve c = typicalCurve();
    LrPlot whole;
    whole.setCurve(c.lrs, c.losses, c.smoothed);
    LrPlot live;
    for (int i = 0; i < c.lrs.size(); ++i) {
        live.addPoint(c.lrs[i], c.losses[i], c.smoothed[i]);
    }
    live.flush();
    QCOMPARE(points(live.rawSeries()), points(whole.rawSeries()));
    QCOMPARE(points(live.smoothedSeries()), points(whole.smoothedSeries()));
    QCOMPARE(points(whole.rawSeries()).size(), c.lrs.size());
    QCOMPARE(live.xAxis()->min(), whole.xAxis()->min());
    QCOMPARE(live.xAxis()->max(), whole.xAxis()->max());
    QCOMPARE(live.yAxis()->min(), whole.yAxis()->min());
    QCOMPARE(live.yAxis()->max(), whole.yAxis()->max());
    // The automatic x range holds the whole test.
    QVERIFY(whole.xAxis()->min() < 1e-7 && whole.xAxis()->max() > 10);
}

void TestLrPlot::addPointRedrawsThrottled() {
    const Curve c = typicalCurve();
    LrPlot plot;
    const int before = plot.redrawCount();
    for (int i = 0; i < 50; ++i) {
        plot.addPoint(c.lrs[i], c.losses[i], c.smoothed[i]);
    }
    QCOMPARE(plot.redrawCount(), before);
    QVERIFY(points(plot.rawSeries()).isEmpty());
    QTRY_COMPARE(plot.redrawCount(), before + 1);
    QCOMPARE(points(plot.rawSeries()).size(), 50);
    QTest::qWait(250);
    QCOMPARE(plot.redrawCount(), before + 1);
}

void TestLrPlot::suggestionMarkersCarryTheirValues() {
    const Curve c = typicalCurve();
    LrPlot plot;
    plot.resize(800, 500);
    plot.show();
    QVERIFY(QTest::qWaitForWindowExposed(&plot));
    plot.setCurve(c.lrs, c.losses, c.smoothed);
    plot.setSuggestions({{QStringLiteral("steepest"), 3.2e-3},
                         {QStringLiteral("valley"), kNaN},
                         {QStringLiteral("min/10"), 1.234e-2}});
    const auto& series = plot.suggestionSeries();
    QCOMPARE(series.size(), 3);
    QCOMPARE(series[0]->name(), QStringLiteral("steepest 3.20e-03"));
    QCOMPARE(series[1]->name(), QStringLiteral("valley: none"));
    QCOMPARE(series[2]->name(), QStringLiteral("min/10 1.23e-02"));
    const QStringList labels = plot.suggestionLabels();
    QCOMPARE(labels.size(), 3);
    QCOMPARE(numberAfter(labels[0], QStringLiteral("steepest")), 3.2e-3);
    QVERIFY(labels[1].isEmpty());  // nothing drawn on the plot for "none"
    QVERIFY(std::abs(numberAfter(labels[2], QStringLiteral("min/10")) / 1.234e-2 - 1) < 0.01);
    // Vertical lines at exactly the rate, spanning the y axis; none for the NaN one.
    QCOMPARE(points(series[0]).size(), 2);
    QCOMPARE(points(series[0])[0].x(), 3.2e-3);
    QCOMPARE(points(series[0])[1].x(), 3.2e-3);
    QCOMPARE(points(series[0])[0].y(), plot.yAxis()->min());
    QCOMPARE(points(series[0])[1].y(), plot.yAxis()->max());
    QVERIFY(points(series[1]).isEmpty());
    // Labelled lines stay out of the legend; a suggestion that found nothing is only there.
    auto inLegend = [&](QLineSeries* s) {
        const auto markers = plot.chart()->legend()->markers(s);
        return !markers.isEmpty() && markers.front()->isVisible();
    };
    // (The legend shows its markers once it is laid out, in the event loop.)
    QTRY_VERIFY(inLegend(series[1]));
    QVERIFY(inLegend(plot.smoothedSeries()));
    QVERIFY(!inLegend(series[0]));
    QVERIFY(!inLegend(plot.pickedSeries()));
    QVERIFY(series[0]->color() != series[2]->color());
    QVERIFY(series[0]->color() != plot.pickedSeries()->color());
}

void TestLrPlot::clickPicksTheRateUnderTheCursor() {
    const Curve c = typicalCurve();
    LrPlot plot;
    plot.resize(800, 500);
    plot.show();
    QVERIFY(QTest::qWaitForWindowExposed(&plot));
    plot.setCurve(c.lrs, c.losses, c.smoothed);
    QSignalSpy spy(&plot, &LrPlot::pickedRateChanged);

    // From code: no signal.
    plot.setPickedRate(1e-5);
    QCOMPARE(plot.pickedRate(), 1e-5);
    QCOMPARE(spy.count(), 0);

    const double target = 3e-4;
    const QPointF exact = plot.positionOf(target, midLoss(plot));
    // The pixel computed the Qt Charts way lands at the same place.
    const QPointF viaChart = plot.view()->mapFromScene(plot.chart()->mapToScene(
        plot.chart()->mapToPosition(QPointF(target, midLoss(plot)), plot.smoothedSeries())));
    QVERIFY(std::abs(exact.x() - viaChart.x()) <= 1.0);
    QTest::mouseClick(plot.view()->viewport(), Qt::LeftButton, {}, exact.toPoint());
    QCOMPARE(spy.count(), 1);
    const double picked = plot.pickedRate();
    QVERIFY2(std::abs(std::log10(picked / target)) < 0.01, qPrintable(QString::number(picked)));
    QCOMPARE(spy.front().front().toDouble(), picked);
    QCOMPARE(points(plot.pickedSeries()).size(), 2);
    QCOMPARE(points(plot.pickedSeries())[0].x(), picked);
    QVERIFY(plot.pickedLabel().contains(QStringLiteral("picked")));
    QVERIFY(plot.readoutText().contains(QStringLiteral("picked")));

    // Clicking the same pixel again picks the same rate: nothing changed, no signal.
    QTest::mouseClick(plot.view()->viewport(), Qt::LeftButton, {}, exact.toPoint());
    QCOMPARE(spy.count(), 1);
    // Outside the plot area (on the axis labels) nothing is picked.
    QTest::mouseClick(plot.view()->viewport(), Qt::LeftButton, {}, QPoint(2, 2));
    QCOMPARE(spy.count(), 1);
    QCOMPARE(plot.pickedRate(), picked);
}

void TestLrPlot::clickNearSuggestionPicksItExactly() {
    const Curve c = typicalCurve();
    LrPlot plot;
    plot.resize(800, 500);
    plot.show();
    QVERIFY(QTest::qWaitForWindowExposed(&plot));
    plot.setCurve(c.lrs, c.losses, c.smoothed);
    const double steepest = 2.7183e-3;
    plot.setSuggestions(
        {{QStringLiteral("steepest"), steepest}, {QStringLiteral("min/10"), 3.1e-4}});
    QSignalSpy spy(&plot, &LrPlot::pickedRateChanged);
    const QPointF line = plot.positionOf(steepest, midLoss(plot));
    QTest::mouseClick(plot.view()->viewport(), Qt::LeftButton, {},
                      (line + QPointF(3, 0)).toPoint());
    QCOMPARE(plot.pickedRate(), steepest);  // exactly, not the rate at the pixel
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.front().front().toDouble(), steepest);

    // Far from any line: the rate at the pixel, which is not the suggestion.
    QTest::mouseClick(plot.view()->viewport(), Qt::LeftButton, {},
                      (line + QPointF(30, 0)).toPoint());
    QCOMPARE(spy.count(), 2);
    QVERIFY(plot.pickedRate() > steepest);
    QVERIFY(plot.pickedRate() != steepest);
}

void TestLrPlot::dragMovesThePickedMarker() {
    const Curve c = typicalCurve();
    LrPlot plot;
    plot.resize(800, 500);
    plot.show();
    QVERIFY(QTest::qWaitForWindowExposed(&plot));
    plot.setCurve(c.lrs, c.losses, c.smoothed);
    plot.setPickedRate(1e-4);
    QSignalSpy spy(&plot, &LrPlot::pickedRateChanged);
    QWidget* vp = plot.view()->viewport();
    const double y = midLoss(plot);
    const QPointF from = plot.positionOf(1e-4, y) + QPointF(2, 0);  // grabbed a bit to the side
    const QPointF to = plot.positionOf(1e-2, y);

    sendMouse(vp, QEvent::MouseButtonPress, from, Qt::LeftButton, Qt::LeftButton);
    for (int i = 1; i <= 10; ++i) {
        const QPointF p = from + (to - from) * (i / 10.0);
        sendMouse(vp, QEvent::MouseMove, p, Qt::NoButton, Qt::LeftButton);
        if (i == 5) {
            // The line follows the cursor while dragging; the signal waits for the release.
            QVERIFY(plot.pickedRate() > 2e-4 && plot.pickedRate() < 5e-3);
            QCOMPARE(points(plot.pickedSeries())[0].x(), plot.pickedRate());
            QCOMPARE(spy.count(), 0);
        }
    }
    sendMouse(vp, QEvent::MouseButtonRelease, to, Qt::LeftButton, Qt::NoButton);
    QCOMPARE(spy.count(), 1);
    QVERIFY2(std::abs(std::log10(plot.pickedRate() / 1e-2)) < 0.01,
             qPrintable(QString::number(plot.pickedRate())));
    QVERIFY(plot.isAutoView());  // a marker drag is not a pan

    // A left drag that does not start on the marker leaves it where it is.
    const QPointF elsewhere = plot.positionOf(1e-6, y);
    sendMouse(vp, QEvent::MouseButtonPress, elsewhere, Qt::LeftButton, Qt::LeftButton);
    sendMouse(vp, QEvent::MouseMove, elsewhere + QPointF(40, 0), Qt::NoButton, Qt::LeftButton);
    sendMouse(vp, QEvent::MouseButtonRelease, elsewhere + QPointF(40, 0), Qt::LeftButton,
              Qt::NoButton);
    QCOMPARE(spy.count(), 1);
    QVERIFY(std::abs(std::log10(plot.pickedRate() / 1e-2)) < 0.01);
}

void TestLrPlot::wheelZoomsAroundTheCursorAndResetRestores() {
    const Curve c = typicalCurve();
    LrPlot plot;
    plot.resize(800, 500);
    plot.show();
    QVERIFY(QTest::qWaitForWindowExposed(&plot));
    plot.setCurve(c.lrs, c.losses, c.smoothed);
    const double xMin = plot.xAxis()->min();
    const double xMax = plot.xAxis()->max();
    const double yMin = plot.yAxis()->min();
    const double yMax = plot.yAxis()->max();
    const double centre = 1e-3;
    const double centreLoss = 1.0;
    const QPointF at = plot.positionOf(centre, centreLoss);
    auto fraction = [&](double lr) {
        const double lo = std::log10(plot.xAxis()->min());
        const double hi = std::log10(plot.xAxis()->max());
        return (std::log10(lr) - lo) / (hi - lo);
    };
    const double before = fraction(centre);

    sendWheel(plot.view()->viewport(), at, 120);
    QVERIFY(!plot.isAutoView());
    const double oldSpan = std::log10(xMax / xMin);
    const double newSpan = std::log10(plot.xAxis()->max() / plot.xAxis()->min());
    QVERIFY2(std::abs(newSpan / oldSpan - 0.8) < 1e-6, qPrintable(QString::number(newSpan)));
    QVERIFY(std::abs(fraction(centre) - before) < 1e-6);  // the rate under the cursor stays
    QVERIFY(plot.xAxis()->min() > xMin && plot.xAxis()->max() < xMax);
    QVERIFY(plot.yAxis()->max() - plot.yAxis()->min() < yMax - yMin);
    // Zoomed far in, the rate axis still gets several labels.
    for (int i = 0; i < 20; ++i) {
        sendWheel(plot.view()->viewport(), at, 120);
    }
    QVERIFY(std::log10(plot.xAxis()->max() / plot.xAxis()->min()) >= 0.05 - 1e-9);
    QVERIFY(plot.xAxis()->min() < centre && plot.xAxis()->max() > centre);
    QVERIFY(plot.xAxis()->tickCount() >= 3);

    // New data does not move a zoomed view.
    const double zoomedMin = plot.xAxis()->min();
    plot.addPoint(100, 5, 5);
    plot.flush();
    QCOMPARE(plot.xAxis()->min(), zoomedMin);
    plot.setCurve(c.lrs, c.losses, c.smoothed);

    QTest::mouseClick(plot.resetViewButton(), Qt::LeftButton);
    QVERIFY(plot.isAutoView());
    QCOMPARE(plot.xAxis()->min(), xMin);
    QCOMPARE(plot.xAxis()->max(), xMax);
    QCOMPARE(plot.yAxis()->min(), yMin);
    QCOMPARE(plot.yAxis()->max(), yMax);
    QCOMPARE(plot.xAxis()->base(), 10.0);
}

void TestLrPlot::rightDragPans() {
    const Curve c = typicalCurve();
    LrPlot plot;
    plot.resize(800, 500);
    plot.show();
    QVERIFY(QTest::qWaitForWindowExposed(&plot));
    plot.setCurve(c.lrs, c.losses, c.smoothed);
    QSignalSpy spy(&plot, &LrPlot::pickedRateChanged);
    QWidget* vp = plot.view()->viewport();
    const double y = midLoss(plot);
    const double span = std::log10(plot.xAxis()->max() / plot.xAxis()->min());
    const QPointF from = plot.positionOf(1e-3, y);
    const QPointF to = plot.positionOf(1e-2, y);  // drag one decade to the right
    sendMouse(vp, QEvent::MouseButtonPress, from, Qt::RightButton, Qt::RightButton);
    sendMouse(vp, QEvent::MouseMove, to, Qt::NoButton, Qt::RightButton);
    sendMouse(vp, QEvent::MouseButtonRelease, to, Qt::RightButton, Qt::NoButton);
    // The rate that was under the cursor is under it again: the view moved a decade left.
    QVERIFY(std::abs(plot.positionOf(1e-3, y).x() - to.x()) < 1.0);
    QVERIFY(std::abs(std::log10(plot.xAxis()->max() / plot.xAxis()->min()) - span) < 1e-9);
    QVERIFY(!plot.isAutoView());
    QCOMPARE(spy.count(), 0);

    // Ctrl + left drag pans as well, and picks nothing.
    const QPointF a = plot.positionOf(1e-3, y);
    sendMouse(vp, QEvent::MouseButtonPress, a, Qt::LeftButton, Qt::LeftButton, Qt::ControlModifier);
    sendMouse(vp, QEvent::MouseMove, a - QPointF(50, 0), Qt::NoButton, Qt::LeftButton,
              Qt::ControlModifier);
    sendMouse(vp, QEvent::MouseButtonRelease, a - QPointF(50, 0), Qt::LeftButton, Qt::NoButton,
              Qt::ControlModifier);
    QVERIFY(std::abs(plot.positionOf(1e-3, y).x() - (a.x() - 50)) < 1.0);
    QCOMPARE(spy.count(), 0);
    QVERIFY(std::isnan(plot.pickedRate()));
}

void TestLrPlot::readoutShowsInterpolatedSmoothedLoss() {
    // smoothed = log10(lr)^2 at whole decades; between them the plot draws (and the readout
    // reads) straight lines in log10(lr), which differ from the parabola.
    QList<double> lrs, raw, smoothed;
    for (int k = -6; k <= 0; ++k) {
        lrs.append(std::pow(10.0, k));
        smoothed.append(double(k) * k);
        raw.append(2.0 * k * k + 1);
    }
    LrPlot plot;
    plot.resize(800, 500);
    plot.show();
    QVERIFY(QTest::qWaitForWindowExposed(&plot));
    plot.setCurve(lrs, raw, smoothed);
    QWidget* vp = plot.view()->viewport();

    for (double x : {-3.5, -4.8, -0.3}) {
        const QPoint pos = plot.positionOf(std::pow(10.0, x), midLoss(plot)).toPoint();
        sendMouse(vp, QEvent::MouseMove, pos, Qt::NoButton, Qt::NoButton);
        // The rate at that pixel, the Qt Charts way, and the expected losses by hand.
        const QPointF chartPos = plot.chart()->mapFromScene(plot.view()->mapToScene(pos));
        const double lr = plot.chart()->mapToValue(chartPos, plot.smoothedSeries()).x();
        const double lx = std::log10(lr);
        const double k = std::floor(lx);
        const double expectSmoothed = k * k + (lx - k) * ((k + 1) * (k + 1) - k * k);
        const double expectRaw = 2 * expectSmoothed + 1;
        const QString text = plot.readoutText();
        QVERIFY2(std::abs(numberAfter(text, QStringLiteral("lr")) / lr - 1) < 0.01,
                 qPrintable(text));
        QVERIFY2(std::abs(numberAfter(text, QStringLiteral("smoothed loss")) - expectSmoothed) <
                     2e-3 * expectSmoothed,
                 qPrintable(text + QStringLiteral(" expected %1").arg(expectSmoothed)));
        QVERIFY2(std::abs(numberAfter(text, QStringLiteral("raw")) - expectRaw) < 2e-3 * expectRaw,
                 qPrintable(text));
        // Not the parabola: the readout interpolates, it does not evaluate a model.
        QVERIFY(std::abs(numberAfter(text, QStringLiteral("smoothed loss")) - lx * lx) > 0.05);
    }
    // Beyond the curve there is no loss to read.
    sendMouse(vp, QEvent::MouseMove, plot.positionOf(1.3, midLoss(plot)), Qt::NoButton,
              Qt::NoButton);
    QVERIFY(std::isnan(numberAfter(plot.readoutText(), QStringLiteral("smoothed loss"))));
    QVERIFY(plot.readoutText().contains(QStringLiteral("lr ")));
    // Leaving the plot clears the cursor part.
    QEvent leave(QEvent::Leave);
    QApplication::sendEvent(vp, &leave);
    QVERIFY(!plot.readoutText().contains(QStringLiteral("smoothed loss")));
}

void TestLrPlot::yRangeKeepsTheDipVisibleWhenTheLossExplodes() {
    QList<double> lrs, losses;
    for (int i = 0; i < 60; ++i) {
        lrs.append(std::pow(10.0, -6 + i * 0.1));
        const double x = i / 59.0;
        losses.append(2.3 - 2.0 * std::sin(3.14159 * std::min(x, 0.8) / 1.6));  // 2.3 → 0.3
    }
    for (double blowUp : {5.0, 50.0, 1e4, 1e8}) {  // the last points explode
        losses.append(blowUp);
        lrs.append(lrs.back() * 1.3);
    }
    LrPlot plot;
    plot.setCurve(lrs, losses, losses);
    const double lo = plot.yAxis()->min();
    const double hi = plot.yAxis()->max();
    QVERIFY2(lo <= 0.3 && lo >= 0, qPrintable(QString::number(lo)));
    QVERIFY2(hi >= 2.3 && hi < 3.0, qPrintable(QString::number(hi)));
    // The dip spans most of the axis, and the explosion lies above it (clipped).
    QVERIFY((2.3 - 0.3) / (hi - lo) > 0.7);
    QVERIFY(losses.back() > hi);
    // The exploding points are still in the series: clipped when drawn, not dropped.
    QCOMPARE(points(plot.rawSeries()).size(), lrs.size());

    // A test still running (only falling so far) is shown whole.
    LrPlot running;
    running.setCurve(lrs.mid(0, 30), losses.mid(0, 30), losses.mid(0, 30));
    QVERIFY(running.yAxis()->max() >= losses.front());
    QVERIFY(running.yAxis()->min() <= losses[29]);
}

void TestLrPlot::clearForgetsEverythingButTheStatus() {
    const Curve c = typicalCurve();
    LrPlot plot;
    plot.setCurve(c.lrs, c.losses, c.smoothed);
    plot.setSuggestions({{QStringLiteral("steepest"), 1e-3}});
    plot.setPickedRate(2e-3);
    plot.setStatus(QStringLiteral("stopped: diverged at lr 3.1"));
    QSignalSpy spy(&plot, &LrPlot::pickedRateChanged);
    plot.clear();
    QVERIFY(points(plot.rawSeries()).isEmpty());
    QVERIFY(points(plot.smoothedSeries()).isEmpty());
    QVERIFY(plot.suggestionSeries().isEmpty());
    QVERIFY(std::isnan(plot.pickedRate()));
    QVERIFY(points(plot.pickedSeries()).isEmpty());
    QCOMPARE(plot.status(), QStringLiteral("stopped: diverged at lr 3.1"));
    QCOMPARE(spy.count(), 0);
    plot.setPickedRate(-1);
    QVERIFY(std::isnan(plot.pickedRate()));
}

void TestLrPlot::saveImageWritesPng() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const Curve c = typicalCurve();
    const QList<LrSuggestion> suggestions = {{QStringLiteral("steepest"), 1.8e-4},
                                             {QStringLiteral("valley"), 7.6e-4},
                                             {QStringLiteral("min/10"), 3.3e-4}};

    // Never shown: laid out for the picture all the same.
    LrPlot hidden;
    hidden.resize(640, 420);
    hidden.setCurve(c.lrs, c.losses, c.smoothed);
    const QString hiddenPath = dir.filePath(QStringLiteral("hidden.png"));
    QVERIFY(hidden.saveImage(hiddenPath));
    QImage image(hiddenPath);
    QVERIFY(!image.isNull());
    QVERIFY(image.width() >= 320 && image.height() >= 220);

    LrPlot plot;
    plot.resize(860, 520);
    plot.show();
    QVERIFY(QTest::qWaitForWindowExposed(&plot));
    for (int i = 0; i < c.lrs.size(); ++i) {
        plot.addPoint(c.lrs[i], c.losses[i], c.smoothed[i]);
    }
    plot.setSuggestions(suggestions);
    plot.setPickedRate(1e-3);
    plot.setStatus(QStringLiteral("stopped: diverged at lr 9.1 (step 100/100)"));
    const QString path = dir.filePath(QStringLiteral("lr_plot.png"));
    QVERIFY(plot.saveImage(path));  // draws the points still waiting for the timer
    QVERIFY(QFileInfo(path).size() > 0);
    QVERIFY(image.load(path));
    QCOMPARE(image.size(), plot.size() * plot.devicePixelRatio());
    QCOMPARE(points(plot.rawSeries()).size(), c.lrs.size());
    QVERIFY(!plot.saveImage(dir.filePath(QStringLiteral("no/such/folder/x.png"))));

    // By hand: WB_LR_PLOT_PNG=/tmp/lr_plot.png keeps a copy to look at.
    const QString keep = qEnvironmentVariable("WB_LR_PLOT_PNG");
    if (!keep.isEmpty()) {
        const QPointF hover = plot.positionOf(2.2e-3, midLoss(plot));
        sendMouse(plot.view()->viewport(), QEvent::MouseMove, hover, Qt::NoButton, Qt::NoButton);
        QVERIFY(plot.saveImage(keep));
    }
}

QTEST_MAIN(TestLrPlot)
#include "tst_lr_plot.moc"
