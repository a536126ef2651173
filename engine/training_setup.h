#pragma once

// What a training run and a learning-rate range test both start from: the scanned dataset,
// the model and optimizer on their device, and the loaders. Internal to wb_train (it includes
// libtorch); nothing outside the engine includes it.

#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <string>

#include "engine/experiment.h"
#include "engine/image_folder.h"
#include "engine/loader.h"
#include "engine/models.h"
#include "engine/observer.h"

namespace wb {

struct TrainingSetup {
    /// The experiment as run: data.root and runs_dir made absolute, the normalization of
    /// "dataset" resolved to numbers.
    Experiment experiment;
    DatasetScan scan;
    torch::Device device{torch::kCPU};
    std::shared_ptr<Classifier> model;
    std::unique_ptr<torch::optim::Optimizer> optimizer;
    /// Rate of each parameter group relative to the schedule's: {1} for one group, {1,
    /// model.backbone_lr_factor} for the head and the backbone (apply_schedule()).
    std::vector<double> lr_factors{1.0};
    /// The training loader's options; evaluation loaders take the same without shuffling,
    /// augmentation or drop_last.
    LoaderOptions train_options;
    std::unique_ptr<Loader> train_loader;
    std::unique_ptr<Loader> val_loader;  ///< over scan.val, which may be empty

    /// A loader over `samples` for evaluation (in order, no augmentation).
    std::unique_ptr<Loader> eval_loader(const std::vector<Sample>& samples) const;
};

/// Which part of the training data this process reads: shard `rank` of `count` in
/// data-parallel training (see LoaderOptions), the whole of it by default.
struct Shard {
    int rank = 0;
    int count = 1;
};

/// Checks the experiment, scans the dataset (reporting skips and warnings to `observer`),
/// seeds torch with experiment.seed, builds the model on its device and the optimizer, and
/// makes the loaders, the training loader over `shard`. Throws ConfigError, DataError on what
/// the user must fix.
TrainingSetup prepare_training(const Experiment& experiment, Observer& observer, Shard shard = {});

/// The optimizer of `config` over `params` at rate config.lr.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerConfig& config,
                                                        std::vector<torch::Tensor> params);

/// The optimizer of a run over `model` (on its device): the parameters that train in the first
/// epoch set (set_trainable()), and with model.backbone_lr_factor below 1 two parameter groups,
/// the head at optimizer.lr and the backbone at the factor times that. `lr_factors` receives
/// the groups' factors for apply_schedule().
std::unique_ptr<torch::optim::Optimizer> make_model_optimizer(Classifier& model,
                                                              const Experiment& experiment,
                                                              std::vector<double>* lr_factors);

/// A path as the user typed it, with a leading ~ expanded and made absolute, so that a saved
/// experiment repeats the run from any working folder.
std::string absolute_path(const std::string& path);

/// The message of an exception, without the C++ backtrace that libtorch appends.
std::string error_text(const std::exception& error);

using Clock = std::chrono::steady_clock;
inline double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace wb
