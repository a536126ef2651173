#include "engine/tensorboard/pr_curve.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace wb::tb {

namespace {

// TensorBoard's floor for the denominators of precision and recall.
constexpr double kMinimumCount = 1e-7;

}  // namespace

PrCurve compute_pr_curve(const std::vector<bool>& labels, const std::vector<float>& predictions,
                         int num_thresholds, const std::vector<float>& weights) {
    if (num_thresholds < 2) {
        throw std::invalid_argument("a PR curve needs at least 2 thresholds, not " +
                                    std::to_string(num_thresholds));
    }
    if (labels.size() != predictions.size() ||
        (!weights.empty() && weights.size() != labels.size())) {
        throw std::invalid_argument("a PR curve needs one prediction (and weight) per label: " +
                                    std::to_string(labels.size()) + " labels, " +
                                    std::to_string(predictions.size()) + " predictions, " +
                                    std::to_string(weights.size()) + " weights");
    }
    const std::size_t n = static_cast<std::size_t>(num_thresholds);
    std::vector<double> tp_buckets(n, 0.0), fp_buckets(n, 0.0);
    const float top = static_cast<float>(num_thresholds - 1);
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const float p = predictions[i];
        if (std::isnan(p)) {
            continue;
        }
        const float clamped = std::clamp(p, 0.0f, 1.0f);
        const auto bucket = static_cast<std::size_t>(std::floor(clamped * top));
        const double weight = weights.empty() ? 1.0 : weights[i];
        (labels[i] ? tp_buckets : fp_buckets)[bucket] += weight;
    }

    PrCurve curve;
    curve.num_thresholds = num_thresholds;
    for (auto* row : {&curve.true_positives, &curve.false_positives, &curve.true_negatives,
                      &curve.false_negatives, &curve.precision, &curve.recall}) {
        row->resize(n);
    }
    // At threshold i, the positives are the examples in buckets i and above.
    std::vector<double> tp(n), fp(n);
    double tp_sum = 0, fp_sum = 0;
    for (std::size_t k = n; k-- > 0;) {
        tp_sum += tp_buckets[k];
        fp_sum += fp_buckets[k];
        tp[k] = tp_sum;
        fp[k] = fp_sum;
    }
    for (std::size_t k = 0; k < n; ++k) {
        const double tn = fp[0] - fp[k];
        const double fn = tp[0] - tp[k];
        curve.true_positives[k] = static_cast<float>(tp[k]);
        curve.false_positives[k] = static_cast<float>(fp[k]);
        curve.true_negatives[k] = static_cast<float>(tn);
        curve.false_negatives[k] = static_cast<float>(fn);
        curve.precision[k] = static_cast<float>(tp[k] / std::max(kMinimumCount, tp[k] + fp[k]));
        curve.recall[k] = static_cast<float>(tp[k] / std::max(kMinimumCount, tp[k] + fn));
    }
    return curve;
}

}  // namespace wb::tb
