#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/evaluation_report.h"
#include "engine/lr_finder.h"

namespace wb {

/// What a run reports while it goes. Every call comes from the thread that runs the engine;
/// an implementation that feeds a GUI must hand the values over to its own thread.
struct DatasetInfo {
    std::string root;
    std::vector<std::string> classes;
    std::vector<int> train_counts, val_counts, test_counts;  ///< per class
    int skipped = 0;
    std::string summary;
};

struct RunInfo {
    std::string run_dir;
    std::string model;
    long long parameters = 0;
    long long trainable_parameters = 0;  ///< of those, the ones that train in the first epoch
    int epochs = 0;
    int iterations_per_epoch = 0;
};

struct IterationStats {
    int epoch = 0;       ///< 0-based
    int iteration = 0;   ///< within the epoch, 0-based
    long long step = 0;  ///< global optimizer step, 0-based
    int iterations_per_epoch = 0;
    int batch_size = 0;  ///< images in this batch (the last one may be partial)
    double loss = 0;
    double accuracy = 0;  ///< of this batch, in [0, 1]
    /// Mean training loss of the epoch so far, this step included (and the part of the epoch
    /// before a resume): at the epoch's last step, its train loss.
    double epoch_loss = 0;
    double lr = 0;  ///< the rate the optimizer used for this step
    /// The SGD momentum or Adam/AdamW beta1 used for this step: the schedule's under 1cycle,
    /// the configured one otherwise.
    double momentum = 0;
    double images_per_second = 0;
    double eta_seconds = 0;  ///< to the end of the run
};

struct EpochStats {
    int epoch = 0;  ///< 0-based
    double train_loss = 0;
    double train_accuracy = 0;
    bool has_val = false;
    double val_loss = 0;
    double val_accuracy = 0;
    double seconds = 0;
    double eta_seconds = 0;
    double lr = 0;         ///< the rate of the epoch's last optimizer step
    bool is_best = false;  ///< best validation accuracy so far (train accuracy without val)
    int best_epoch = 0;
};

struct RunResult {
    std::string run_dir;
    /// "finished", "cancelled" or "failed".
    std::string status;
    std::string message;
    /// A failed run that never took a step: its settings, its data or the folder to resume
    /// were refused (a bad schedule, a missing dataset, a finished run). A refused resume
    /// leaves the run folder as it was.
    bool refused = false;
    int epochs_done = 0;
    int best_epoch = -1;
    /// Validation accuracy of the best epoch; its training accuracy when there is no
    /// validation split (has_val false).
    double best_val_accuracy = 0;
    bool has_val = false;
    bool has_test = false;
    double test_loss = 0;
    double test_accuracy = 0;
    double seconds = 0;
    /// Early stopping ended the run before its last epoch (status "finished"; the message
    /// says why).
    bool stopped_early = false;
};

/// The evaluation of one split during a run: the validation set after each epoch, the test set
/// on the best checkpoint at the end. Shared and immutable: an observer may keep it.
struct EpochEvaluation {
    int epoch = 0;      ///< 0-based; for the test split, the best epoch
    std::string split;  ///< "val" or "test"
    /// Predictions (without features), metrics and confusion matrix; also written to
    /// <run>/evaluation/val/epoch_<NNN>/ or <run>/evaluation/test/.
    std::shared_ptr<const EvaluationReport> report;
};

enum class Level { Info, Warning, Error };

class Observer {
public:
    virtual ~Observer() = default;
    virtual void on_message(Level, const std::string&) {}
    virtual void on_dataset(const DatasetInfo&) {}
    virtual void on_run_started(const RunInfo&) {}
    virtual void on_iteration(const IterationStats&) {}
    virtual void on_epoch(const EpochStats&) {}
    virtual void on_finished(const RunResult&) {}
    /// A split evaluated during training (see EpochEvaluation).
    virtual void on_evaluation(const EpochEvaluation&) {}
    /// One step of a learning-rate range test (find_learning_rate()).
    virtual void on_lr_step(const LrFinderStep&) {}
};

}  // namespace wb
