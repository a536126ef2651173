#pragma once

#include <QList>
#include <QPointF>
#include <QWidget>

class QChart;
class QLabel;
class QLineSeries;
class QStackedLayout;
class QValueAxis;

namespace wb::ui {

/// A learning-rate curve (left axis) and a momentum curve (right axis) over the optimizer steps
/// of a run, with a tick at epoch boundaries; or, instead of the curves, a message saying why
/// there is nothing to draw. Plain data in, no engine types: the planned schedule in the model
/// tab and the applied one during training both use it.
///
/// The curves are kept whole and decimated for display (min and max per bucket) past
/// `maxDisplayPoints()`, so a sharp step decay stays sharp.
class SchedulePreview : public QWidget {
    Q_OBJECT
public:
    explicit SchedulePreview(const QString& title, QWidget* parent = nullptr);
    ~SchedulePreview() override;

    /// The run's shape: ticks every whole number of epochs; the x axis spans `totalSteps`
    /// (or the data, when longer). 0 for either means unknown: the axis follows the data.
    void setRunLength(long long stepsPerEpoch, long long totalSteps);

    /// Shows the curves: (optimizer step, rate) and (optimizer step, momentum), step
    /// ascending; an empty `momentum` hides the momentum line. Hides the message.
    void setCurves(const QList<QPointF>& learningRate, const QList<QPointF>& momentum);
    /// Shows `text` in place of the chart (why there is no curve).
    void showMessage(const QString& text);

    bool showsCurves() const;
    /// The message shown instead of the chart; empty while the curves show.
    QString message() const;
    const QList<QPointF>& learningRates() const { return m_lr; }
    const QList<QPointF>& momenta() const { return m_momentum; }

    void setMaxDisplayPoints(int points) { m_maxDisplayPoints = points; }
    int maxDisplayPoints() const { return m_maxDisplayPoints; }

    QChart* chart() const { return m_chart; }
    QLineSeries* learningRateSeries() const { return m_lrSeries; }
    QLineSeries* momentumSeries() const { return m_momentumSeries; }
    QValueAxis* stepAxis() const { return m_x; }
    /// The rate axis shows rate * 10^-exponent when the rates are below 0.01 (its title says
    /// so); 0 otherwise.
    int learningRateScaleExponent() const { return m_lrScaleExponent; }

private:
    void redraw();
    void updateStepAxis();

    QStackedLayout* m_stack = nullptr;
    QLabel* m_message = nullptr;
    QChart* m_chart = nullptr;
    QLineSeries* m_lrSeries = nullptr;
    QLineSeries* m_momentumSeries = nullptr;
    QValueAxis* m_x = nullptr;
    QValueAxis* m_lrAxis = nullptr;
    QValueAxis* m_momentumAxis = nullptr;

    QList<QPointF> m_lr;
    QList<QPointF> m_momentum;
    long long m_stepsPerEpoch = 0;
    long long m_totalSteps = 0;
    int m_maxDisplayPoints = 1500;
    int m_lrScaleExponent = 0;
};

}  // namespace wb::ui
