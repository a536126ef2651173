#include "widgets/chart_math.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace wb::ui {

QList<QPointF> decimateMinMax(const QList<QPointF>& points, int maxPoints) {
    const qsizetype n = points.size();
    if (maxPoints < 4 || n <= maxPoints) {
        return points;
    }
    // Two points per bucket; the first and the last point are kept on their own.
    const qsizetype buckets = (maxPoints - 2) / 2;
    const double bucketSize = double(n - 2) / double(buckets);
    QList<QPointF> out;
    out.reserve(maxPoints);
    out.append(points.front());
    for (qsizetype b = 0; b < buckets; ++b) {
        const qsizetype begin = 1 + qsizetype(std::floor(b * bucketSize));
        const qsizetype end =
            std::min<qsizetype>(n - 1, 1 + qsizetype(std::floor((b + 1) * bucketSize)));
        if (begin >= end) {
            continue;
        }
        qsizetype lo = begin;
        qsizetype hi = begin;
        for (qsizetype i = begin + 1; i < end; ++i) {
            if (points[i].y() < points[lo].y()) {
                lo = i;
            }
            if (points[i].y() > points[hi].y()) {
                hi = i;
            }
        }
        out.append(points[std::min(lo, hi)]);
        if (lo != hi) {
            out.append(points[std::max(lo, hi)]);
        }
    }
    out.append(points.back());
    return out;
}

QList<QPointF> decimateStride(const QList<QPointF>& points, int maxPoints) {
    const qsizetype n = points.size();
    if (maxPoints < 2 || n <= maxPoints) {
        return points;
    }
    const qsizetype stride = (n + maxPoints - 2) / (maxPoints - 1);
    QList<QPointF> out;
    out.reserve(maxPoints + 1);
    for (qsizetype i = 0; i < n; i += stride) {
        out.append(points[i]);
    }
    if (out.back() != points.back()) {
        out.append(points.back());
    }
    return out;
}

double SmoothedValue::add(double value) {
    m_average = m_factor * m_average + (1.0 - m_factor) * value;
    m_weight = m_factor * m_weight + (1.0 - m_factor);
    return m_weight > 0 ? m_average / m_weight : value;
}

void SmoothedValue::reset() {
    m_average = 0;
    m_weight = 0;
}

void SmoothedValue::setFactor(double factor) {
    m_factor = std::clamp(factor, 0.0, 0.999);
}

double niceTickInterval(double span, int targetTicks) {
    if (!(span > 0) || !std::isfinite(span)) {
        return 1.0;
    }
    const double raw = span / std::max(1, targetTicks);
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    const double mantissa = raw / power;
    double nice = 10;
    if (mantissa <= 1.0) {
        nice = 1;
    } else if (mantissa <= 2.0) {
        nice = 2;
    } else if (mantissa <= 5.0) {
        nice = 5;
    }
    return nice * power;
}

AxisRange stepAxisRange(double first, double last, int targetTicks) {
    if (!std::isfinite(first) || !std::isfinite(last) || last < first) {
        first = 0;
        last = 0;
    }
    const double span = std::max(1.0, last - first);
    AxisRange range;
    range.min = first;
    range.max = first + span * 1.02;
    range.tickInterval = std::max(1.0, niceTickInterval(span, targetTicks));
    return range;
}

AxisRange paddedRange(double lo, double hi, double padFraction, double minSpan, int targetTicks,
                      double floor) {
    if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi) {
        lo = 0;
        hi = 1;
    }
    const bool aboveFloor = lo >= floor;
    double span = hi - lo;
    if (span < minSpan) {
        const double centre = (lo + hi) / 2;
        lo = centre - minSpan / 2;
        hi = centre + minSpan / 2;
        span = minSpan;
        if (aboveFloor && lo < floor) {
            // Widened below the floor (a loss of 0, the first step): grow upwards instead.
            lo = floor;
            hi = floor + minSpan;
        }
    }
    AxisRange range;
    range.min = lo - span * padFraction;
    range.max = hi + span * padFraction;
    if (aboveFloor && range.min < floor) {
        range.min = floor;
    }
    range.tickInterval = niceTickInterval(range.max - range.min, targetTicks);
    return range;
}

}  // namespace wb::ui
