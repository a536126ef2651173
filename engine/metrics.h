#pragma once

// Classification metrics over true and predicted labels: the confusion matrix, accuracy, top-k
// accuracy, per-class precision, recall, F1 and support, and their averages. Plain C++, no
// libtorch. The values equal scikit-learn's (tests/python/metrics_reference.py checks them).
//
// Zero division follows scikit-learn's zero_division=0: a class that is never predicted has
// precision 0, a class with no support (absent from the labels) has recall 0, and F1 is 0 when
// precision and recall are both 0. Every class of 0 .. num_classes-1 is reported and counted
// in the macro average, including classes absent from the labels, from the predictions or from
// both; the weighted average weighs by support, so classes without support do not count there.

#include <cstdint>
#include <string>
#include <vector>

namespace wb {

/// Counts of (true class, predicted class) pairs.
struct ConfusionMatrix {
    int num_classes = 0;
    /// num_classes x num_classes, row-major: row = true class, column = predicted class.
    std::vector<std::int64_t> counts;

    std::int64_t at(int truth, int predicted) const {
        return counts[static_cast<std::size_t>(truth) * num_classes + predicted];
    }
};

/// Precision, recall and F1 in [0, 1] of one class or an average; support in images.
struct ClassMetrics {
    double precision = 0;
    double recall = 0;
    double f1 = 0;
    std::int64_t support = 0;  ///< true images of the class; for an average, all images
};

struct ClassificationMetrics {
    ConfusionMatrix confusion;
    std::vector<ClassMetrics> per_class;  ///< indexed by class
    ClassMetrics macro;                   ///< unweighted mean over all num_classes classes
    ClassMetrics weighted;                ///< mean weighted by support
    double accuracy = 0;                  ///< correct / images; 0 without images
    std::int64_t correct = 0;
};

/// The confusion matrix of `labels` against `predicted` (same length, values in
/// [0, num_classes)); throws std::invalid_argument otherwise.
ConfusionMatrix confusion_matrix(const std::vector<int>& labels, const std::vector<int>& predicted,
                                 int num_classes);

/// Everything above from one confusion matrix. Without images every value is 0.
ClassificationMetrics classification_metrics(const ConfusionMatrix& confusion);
ClassificationMetrics classification_metrics(const std::vector<int>& labels,
                                             const std::vector<int>& predicted, int num_classes);

/// The fraction of images whose true class is among the `k` highest of its row of
/// `probabilities` (N x num_classes, row-major; any score works). Ties rank the higher class
/// index first, as scikit-learn's top_k_accuracy_score does (a stable sort, reversed), so with
/// k >= num_classes every image is a hit. 0 without images; throws std::invalid_argument for
/// k < 1 or mismatched sizes.
double top_k_accuracy(const std::vector<float>& probabilities, const std::vector<int>& labels,
                      int num_classes, int k);

/// A table like scikit-learn's classification_report: precision, recall, f1-score and support
/// per class (named by `class_names`, one per class), then accuracy, macro avg and weighted avg,
/// with `digits` decimals.
std::string classification_report_text(const ClassificationMetrics& metrics,
                                       const std::vector<std::string>& class_names, int digits = 4);

/// The confusion matrix for a terminal: one row per true class ("index name"), one column per
/// predicted class, headed by its index.
std::string confusion_matrix_text(const ConfusionMatrix& confusion,
                                  const std::vector<std::string>& class_names);

}  // namespace wb
