#include "engine/tensorboard/histogram.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace wb::tb {

Histogram make_histogram(const float* values, std::size_t count, int buckets) {
    if (buckets < 1) {
        throw std::invalid_argument("a histogram needs at least one bucket, not " +
                                    std::to_string(buckets));
    }
    Histogram h;
    double lo = std::numeric_limits<double>::infinity();
    double hi = -std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < count; ++i) {
        const double v = values[i];
        if (std::isnan(v)) {
            ++h.nan_count;
        } else if (std::isinf(v)) {
            ++(v > 0 ? h.pos_inf_count : h.neg_inf_count);
        } else {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
            h.num += 1;
            h.sum += v;
            h.sum_squares += v * v;
        }
    }
    if (h.num == 0) {
        h.bucket_limit = {0.0};
        h.bucket = {0.0};
        return h;
    }
    h.min = lo;
    h.max = hi;
    if (lo == hi) {
        h.bucket_limit = {hi};
        h.bucket = {h.num};
        return h;
    }
    const double width = (hi - lo) / buckets;
    h.bucket_limit.resize(buckets);
    for (int i = 0; i < buckets; ++i) {
        h.bucket_limit[i] = lo + width * (i + 1);
    }
    h.bucket_limit.back() = hi;
    h.bucket.assign(buckets, 0.0);
    for (std::size_t i = 0; i < count; ++i) {
        const double v = values[i];
        if (!std::isfinite(v)) {
            continue;
        }
        // Half-open buckets like numpy.histogram's and TensorFlow's: a value on a limit
        // belongs to the bucket above it, except max, which is in the last one.
        auto index = static_cast<long>(std::floor((v - lo) / width));
        index = std::clamp<long>(index, 0, buckets - 1);
        while (index > 0 && v < h.bucket_limit[index - 1]) {
            --index;
        }
        while (index < buckets - 1 && v >= h.bucket_limit[index]) {
            ++index;
        }
        h.bucket[index] += 1;
    }
    return h;
}

}  // namespace wb::tb
