#pragma once

#include <cstddef>
#include <vector>

namespace wb::tb {

/// A histogram as TensorBoard's HistogramProto stores it, built from the finite values of a
/// tensor. Buckets have equal width over [min, max]: bucket i counts the values in
/// [bucket_limit[i-1], bucket_limit[i]) (the first starts at min, the last includes max, which
/// is its limit), as numpy.histogram does. A tensor whose finite values are all equal gets one
/// bucket; a tensor with no finite value gets num = 0, min = max = sum = sum_squares = 0 and one
/// empty bucket [0, 0], which TensorBoard reads as an empty histogram.
struct Histogram {
    double min = 0;
    double max = 0;
    double num = 0;  ///< number of finite values
    double sum = 0;
    double sum_squares = 0;
    std::vector<double> bucket_limit;
    std::vector<double> bucket;  ///< counts, same length as bucket_limit

    /// Values left out of the buckets and of min, max, num and sum. TensorBoard has no field
    /// for them: log them yourself (say, as scalars) when they matter.
    std::size_t nan_count = 0;
    std::size_t pos_inf_count = 0;
    std::size_t neg_inf_count = 0;
    std::size_t nonfinite_count() const { return nan_count + pos_inf_count + neg_inf_count; }
};

/// TensorBoard's own histogram summaries default to 30 buckets.
inline constexpr int kDefaultHistogramBuckets = 30;

/// Builds the histogram of `values` (any shape, flattened) with `buckets` equal-width buckets
/// (at least 1). Throws std::invalid_argument for buckets < 1.
Histogram make_histogram(const float* values, std::size_t count,
                         int buckets = kDefaultHistogramBuckets);
inline Histogram make_histogram(const std::vector<float>& values,
                                int buckets = kDefaultHistogramBuckets) {
    return make_histogram(values.data(), values.size(), buckets);
}

}  // namespace wb::tb
