#pragma once

// What an evaluation produces: the per-image predictions, the metrics over them, and the
// files written from them (evaluation.json, confusion_matrix.csv, predictions.csv). Plain C++,
// no libtorch; engine/evaluation.h runs a model to get the predictions.

#include <cstdint>
#include <string>
#include <vector>

#include "engine/metrics.h"

namespace wb {

/// A model's outputs over N images, in the loader's order.
struct Predictions {
    int num_classes = 0;
    std::vector<int> labels;     ///< [N] true class
    std::vector<int> predicted;  ///< [N] argmax of the logits (the lower class on a tie)
    /// [N x num_classes] row-major, softmax of the logits.
    std::vector<float> probabilities;
    std::vector<float> losses;       ///< [N] cross-entropy of each image
    std::vector<std::string> paths;  ///< [N] image files
    /// [N x feature_size] row-major penultimate-layer features (Classifier::features()); empty
    /// unless asked for.
    std::vector<float> features;
    std::int64_t feature_size = 0;

    std::size_t size() const { return labels.size(); }
    /// Probability of the predicted class of image i.
    float confidence(std::size_t i) const {
        return probabilities[i * static_cast<std::size_t>(num_classes) +
                             static_cast<std::size_t>(predicted[i])];
    }
};

/// The number of classes top_k_accuracy is reported for (evaluation.json's top5_accuracy).
constexpr int kTopK = 5;

struct EvaluationReport {
    std::string run_dir;
    std::string checkpoint;  ///< as given, e.g. "best.pt"
    std::string split;       ///< "train", "val" or "test"
    std::vector<std::string> classes;
    Predictions predictions;
    ClassificationMetrics metrics;
    /// Top-5 accuracy; 1 with 5 classes or fewer (scikit-learn's convention for k >= classes).
    double top5_accuracy = 0;
    double mean_loss = 0;    ///< mean of predictions.losses
    std::string output_dir;  ///< where the files went; empty when none were written
    bool cancelled = false;  ///< stopped before the end; the report is partial and unwritten
};

/// Fills metrics, top5_accuracy and mean_loss from report.predictions.
void compute_metrics(EvaluationReport& report);

/// evaluation.json: where it came from, accuracy, top5_accuracy, mean_loss, per_class
/// (name, precision, recall, f1, support), macro_avg, weighted_avg, confusion_matrix (rows =
/// true class) and classes. Written with nlohmann::json, indented by 2.
std::string evaluation_json(const EvaluationReport& report);

/// confusion_matrix.csv: a header row "true/predicted" and the class names, then one row per
/// true class: its name and its counts. Fields quoted per RFC 4180 where needed.
std::string confusion_matrix_csv(const ConfusionMatrix& confusion,
                                 const std::vector<std::string>& classes);

/// predictions.csv: path,true,predicted,probability,loss with one row per image; classes by
/// name, the probability of the predicted class. Fields quoted per RFC 4180 where needed.
std::string predictions_csv(const Predictions& predictions,
                            const std::vector<std::string>& classes);

/// One field of a CSV row: quoted, with quotes doubled, when it holds a comma, a quote, CR or
/// LF (RFC 4180); as is otherwise.
std::string csv_field(const std::string& text);

/// For a terminal: what was evaluated, the classification report, top-5 accuracy, mean loss
/// and the confusion matrix.
std::string evaluation_text(const EvaluationReport& report);

}  // namespace wb
