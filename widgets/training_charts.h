#pragma once

#include <QList>
#include <QPointF>
#include <QWidget>

#include "widgets/chart_math.h"

class QChart;
class QChartView;
class QLineSeries;
class QScatterSeries;
class QTimer;
class QValueAxis;

namespace wb::ui {

class SchedulePreview;

/// One finished epoch as the charts show it.
struct EpochPoint {
    int epoch = 1;  ///< 1-based, as shown on the axis
    double trainLoss = 0;
    double trainAccuracy = 0;  ///< in [0, 1]; drawn in percent
    bool hasVal = false;
    double valLoss = 0;
    double valAccuracy = 0;  ///< in [0, 1]
};

/// Live charts of a training run: the loss of every iteration (raw, thin and light, with an
/// exponentially smoothed line over it), and per epoch the train and validation loss and
/// accuracy, with the best epoch marked on both epoch charts; beside the iteration loss, the
/// learning rate and momentum the optimizer applied at each iteration.
///
/// Data is kept whole; the charts get whole buffers (QXYSeries::replace) from a coalescing
/// timer, so a burst of updates costs at most one redraw per `redrawInterval()` (100 ms). The
/// raw iteration line is decimated for display (min and max per bucket) past
/// `maxDisplayPoints()`. Axes follow the data and always include the best-epoch marker.
class TrainingCharts : public QWidget {
    Q_OBJECT
public:
    explicit TrainingCharts(QWidget* parent = nullptr);
    ~TrainingCharts() override;

    /// Forgets all data (a new run starts).
    void clear();

    /// One optimizer step: `step` is the global step (x), `loss` the batch loss.
    void addIteration(double step, double loss);
    void addIterations(const QList<QPointF>& stepLoss);
    void addEpoch(const EpochPoint& point);
    /// What the optimizer applied: (global step, learning rate) and (global step, momentum or
    /// Adam beta1), one point per iteration each.
    void addAppliedRates(const QList<QPointF>& stepLr, const QList<QPointF>& stepMomentum);
    /// The run's length, so that the rate chart spans the whole run with a tick per epoch(s).
    void setRunLength(long long stepsPerEpoch, long long totalSteps);

    /// Marks `epoch` (1-based) as the best one, as the trainer decided. Without a call, or with
    /// 0, the best epoch is the one with the highest validation accuracy (train accuracy when
    /// there is no validation), the earliest of equals.
    void setBestEpoch(int epoch);
    int bestEpoch() const;

    /// Smoothing of the iteration loss, in [0, 1). Default 0.9.
    void setSmoothing(double factor);
    void setMaxDisplayPoints(int points);
    int maxDisplayPoints() const { return m_maxDisplayPoints; }
    int redrawInterval() const;

    /// Redraws now instead of waiting for the timer.
    void flush();

    /// Read back, for tests and for saving.
    const QList<QPointF>& iterationLoss() const { return m_rawLoss; }
    const QList<EpochPoint>& epochs() const { return m_epochs; }
    const QList<QPointF>& appliedLearningRates() const { return m_appliedLr; }
    const QList<QPointF>& appliedMomenta() const { return m_appliedMomentum; }
    SchedulePreview* rateChart() const { return m_rates; }
    int redrawCount() const { return m_redrawCount; }
    QChart* iterationChart() const { return m_iterationChart; }
    QChart* lossChart() const { return m_lossChart; }
    QChart* accuracyChart() const { return m_accuracyChart; }
    QLineSeries* rawLossSeries() const { return m_rawSeries; }
    QLineSeries* smoothedLossSeries() const { return m_smoothSeries; }
    QLineSeries* trainLossSeries() const { return m_trainLossSeries; }
    QLineSeries* valLossSeries() const { return m_valLossSeries; }
    QLineSeries* trainAccuracySeries() const { return m_trainAccSeries; }
    QLineSeries* valAccuracySeries() const { return m_valAccSeries; }
    QScatterSeries* bestLossMarker() const { return m_bestLossMarker; }
    QScatterSeries* bestAccuracyMarker() const { return m_bestAccMarker; }

private:
    void scheduleRedraw();
    void redraw();
    void redrawIterations();
    void redrawEpochs();
    int computedBestEpoch() const;
    const EpochPoint* findEpoch(int epoch) const;

    QChart* m_iterationChart = nullptr;
    QChart* m_lossChart = nullptr;
    QChart* m_accuracyChart = nullptr;
    QLineSeries* m_rawSeries = nullptr;
    QLineSeries* m_smoothSeries = nullptr;
    QLineSeries* m_trainLossSeries = nullptr;
    QLineSeries* m_valLossSeries = nullptr;
    QLineSeries* m_trainAccSeries = nullptr;
    QLineSeries* m_valAccSeries = nullptr;
    QScatterSeries* m_bestLossMarker = nullptr;
    QScatterSeries* m_bestAccMarker = nullptr;
    QValueAxis* m_iterX = nullptr;
    QValueAxis* m_iterY = nullptr;
    QValueAxis* m_lossX = nullptr;
    QValueAxis* m_lossY = nullptr;
    QValueAxis* m_accX = nullptr;
    QValueAxis* m_accY = nullptr;
    QTimer* m_redrawTimer = nullptr;
    SchedulePreview* m_rates = nullptr;

    QList<QPointF> m_rawLoss;
    QList<QPointF> m_smoothedLoss;
    SmoothedValue m_smoother;
    double m_rawMin = 0;
    double m_rawMax = 0;
    QList<EpochPoint> m_epochs;
    QList<QPointF> m_appliedLr;
    QList<QPointF> m_appliedMomentum;
    bool m_ratesDirty = false;
    int m_bestOverride = 0;
    int m_maxDisplayPoints = 2000;
    bool m_iterationsDirty = false;
    bool m_epochsDirty = false;
    int m_redrawCount = 0;
};

}  // namespace wb::ui
