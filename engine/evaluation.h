#pragma once

// Evaluating a trained model: its predictions over a loader, and the evaluation of a run's
// checkpoint on one split of its dataset, written to <run_dir>/evaluation/<split>/.

#include <c10/core/Device.h>

#include <atomic>
#include <string>

#include "engine/evaluation_report.h"
#include "engine/observer.h"

namespace wb {

class Classifier;
class Loader;

/// Runs `model` over one epoch of `loader` in eval mode without gradients and collects the
/// labels, predictions, softmax probabilities, per-image losses and paths (from the batches'
/// indices into loader.samples()), plus the features when `with_features`. The model's
/// training mode is restored afterwards. Stops after the current batch when `*cancel` becomes
/// true and returns what it has. Use a loader without shuffling or augmentation.
Predictions collect_predictions(Classifier& model, Loader& loader, const c10::Device& device,
                                const std::atomic<bool>* cancel = nullptr,
                                bool with_features = false);

struct EvaluationOptions {
    /// A file in the run folder ("best.pt", "last.pt") or an absolute path.
    std::string checkpoint = "best.pt";
    /// "test", "val" or "train".
    std::string split = "test";
    /// Collect the penultimate-layer features into report.predictions.features.
    bool features = false;
    /// Write evaluation.json, confusion_matrix.csv and predictions.csv into
    /// <run_dir>/evaluation/<split>/ (replacing those of an earlier evaluation).
    bool write_files = true;
};

/// Evaluates a checkpoint of the run in `run_dir` on one split of its dataset: reads
/// experiment.yaml, rescans the data as the run did, checks its classes against classes.txt,
/// builds the model and loads the checkpoint, and runs the split through the run's
/// preprocessing without augmentation, in the order of the scan, with the run's batch size.
/// A run trained on CUDA is evaluated on the CPU when CUDA is not available here. The
/// dataset's summary and warnings go to `observer`. Throws DataError naming the file for a
/// missing or unreadable experiment.yaml, classes.txt or checkpoint, a dataset whose classes
/// differ from classes.txt, or an empty split; ConfigError for an unknown split. When `cancel`
/// becomes true it returns early with report.cancelled set and writes nothing.
EvaluationReport evaluate_checkpoint(const std::string& run_dir, const EvaluationOptions& options,
                                     Observer& observer, const std::atomic<bool>& cancel);

/// Writes report's three files into `dir` (created), each atomically; returns `dir`.
std::string write_evaluation_files(const EvaluationReport& report, const std::string& dir);

}  // namespace wb
