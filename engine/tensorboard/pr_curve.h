#pragma once

#include <cstddef>
#include <vector>

namespace wb::tb {

/// The data of one PR curve as TensorBoard's pr_curves plugin stores it: a float tensor of
/// shape [6, num_thresholds] whose rows are these six vectors, at thresholds
/// i / (num_thresholds - 1) for i in [0, num_thresholds).
struct PrCurve {
    int num_thresholds = 0;
    std::vector<float> true_positives;
    std::vector<float> false_positives;
    std::vector<float> true_negatives;
    std::vector<float> false_negatives;
    std::vector<float> precision;  ///< TP / max(TP + FP, 1e-7)
    std::vector<float> recall;     ///< TP / max(TP + FN, 1e-7)
};

/// TensorBoard's default number of thresholds.
inline constexpr int kDefaultPrThresholds = 201;

/// Computes a PR curve the way TensorBoard's pr_curve summary does: prediction p (clamped to
/// [0, 1], in single precision) falls in bucket floor(p * (num_thresholds - 1)) and counts as
/// positive at every threshold up to its bucket. `weights` (empty for all 1, else one per
/// label) scales each example's count. NaN predictions are left out. Throws
/// std::invalid_argument when the sizes differ or num_thresholds < 2.
PrCurve compute_pr_curve(const std::vector<bool>& labels, const std::vector<float>& predictions,
                         int num_thresholds = kDefaultPrThresholds,
                         const std::vector<float>& weights = {});

}  // namespace wb::tb
