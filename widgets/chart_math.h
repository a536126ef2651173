#pragma once

// Small numeric helpers behind the training charts: display decimation, smoothing, axis ranges.
// Plain Qt value types, no widgets, so they can be tested alone.

#include <QList>
#include <QPointF>

namespace wb::ui {

/// Reduces `points` (x ascending) to at most about `maxPoints` for display by keeping, in each
/// bucket of neighbours, the lowest and the highest point in x order. Spikes stay visible; the
/// first and last points are always kept. Returns `points` unchanged when it is small enough.
QList<QPointF> decimateMinMax(const QList<QPointF>& points, int maxPoints);

/// Keeps every k-th point of a smooth curve so that about `maxPoints` remain, plus the last one.
QList<QPointF> decimateStride(const QList<QPointF>& points, int maxPoints);

/// Exponential moving average with the start-up bias removed (as TensorBoard smooths scalars):
/// the first value is shown as is instead of being pulled towards zero.
class SmoothedValue {
public:
    /// `factor` in [0, 1): 0 is no smoothing, 0.99 is very smooth.
    explicit SmoothedValue(double factor = 0.9) : m_factor(factor) {}

    double add(double value);
    void reset();
    void setFactor(double factor);
    double factor() const { return m_factor; }

private:
    double m_factor;
    double m_average = 0;
    double m_weight = 0;  ///< 1 - factor^n: how much of the average is real data
};

/// A closed interval for an axis.
struct AxisRange {
    double min = 0;
    double max = 1;
    double tickInterval = 0.2;
};

/// A range that holds every value in [lo, hi] with `padFraction` of the span free on both sides
/// (so markers at the extremes are drawn whole), a minimum span of `minSpan`, and a round tick
/// interval for about `targetTicks` ticks. `floor` clamps the lower end (e.g. 0 for a loss).
AxisRange paddedRange(double lo, double hi, double padFraction, double minSpan, int targetTicks,
                      double floor);

/// A range for an axis of whole steps (iterations) from `first` to `last`: as wide as the data
/// (a single step gets a span of 1) with 2% room on the right, whole-number ticks of a round
/// interval for about `targetTicks` ticks. Five iterations give 0 to about 4, not 0 to 10.
AxisRange stepAxisRange(double first, double last, int targetTicks);

/// A round interval (1, 2 or 5 times a power of ten) that splits `span` into about `targetTicks`.
double niceTickInterval(double span, int targetTicks);

}  // namespace wb::ui
