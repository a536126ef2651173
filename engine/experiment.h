#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/preprocessing.h"

namespace wb {

struct DataConfig {
    /// Dataset folder; empty means the bundled demo dataset.
    std::string root;
    /// Used only when the folder has no phase folders (see SplitOptions).
    double val_fraction = 0.1;
    double test_fraction = 0.1;
    std::uint64_t split_seed = 42;
    /// Background decoding threads of the loader.
    int workers = 2;
    /// Memory cache of decoded images, in MiB.
    int cache_mb = 1024;
    /// Video datasets: decoded videos beyond cache_mb go to a disk cache of this many MiB
    /// (0: none), in a folder made inside `cache_dir` (empty: the system's temporary folder)
    /// and removed when the run ends.
    int disk_cache_mb = 8192;
    std::string cache_dir;
    bool verify_decode = true;
};

/// The network, where its first weights come from, and which of its parts train.
struct ModelConfig {
    /// One of available_models().
    std::string arch = "small_cnn";
    /// Empty: random initialization. Otherwise pretrained weights mapped onto `arch` by name
    /// (engine/pretrained.h): a TorchScript archive (torch.jit.script or torch.jit.trace of a
    /// torchvision model), a state dict saved as a plain dict, one of our checkpoints or
    /// exports, or a run folder (its best.pt). The last linear layer is new when the number of
    /// classes differs.
    std::string weights;
    /// "all" (every layer trains), "head" (only the last linear layer; the rest is a fixed
    /// feature extractor with its batch norm in eval mode) or "last_stages" (the head and the
    /// last `stages` stages of the backbone, see model_stages()).
    std::string finetune = "all";
    int stages = 1;  ///< "last_stages": backbone stages that train, >= 1
    /// Rate of the backbone's parameters relative to the head's, in (0, 1]; every schedule
    /// keeps the ratio.
    double backbone_lr_factor = 1.0;
    /// Gradual unfreezing: with "head" or "last_stages", every layer trains from this epoch on
    /// (1-based); 0 never.
    int unfreeze_epoch = 0;
    /// c3d_bn: channels of every layer and of fc6, fc7 times this (> 0).
    double width = 1.0;
};

struct OptimizerConfig {
    /// "sgd", "adam" or "adamw".
    std::string type = "sgd";
    double lr = 0.01;
    double momentum = 0.9;  ///< SGD only
    bool nesterov = false;  ///< SGD only
    double weight_decay = 5e-4;
    double beta1 = 0.9;  ///< Adam and AdamW
    double beta2 = 0.999;
    double eps = 1e-8;
};

/// Learning-rate schedule, set at every optimizer step (see engine/schedule.h for the curves).
/// Epoch counts are turned into optimizer steps once the dataset size is known.
struct ScheduleConfig {
    /// "constant", "step" (multiply by `gamma` every `step_epochs` epochs), "multistep"
    /// (multiply by `gamma` at each of `milestones`), "cosine" (from optimizer.lr down to
    /// `eta_min` over the run after the warm-up) or "onecycle" (peak rate optimizer.lr).
    std::string policy = "constant";
    int step_epochs = 7;  ///< "step": epochs between two decays, counted after the warm-up
    double gamma = 0.1;   ///< "step", "multistep": factor of each decay, in (0, 1]
    /// "multistep": epochs (after the warm-up) at which the rate decays; increasing, >= 1.
    std::vector<int> milestones;
    double eta_min = 0.0;  ///< "cosine": the last rate, in [0, optimizer.lr]

    /// "onecycle" (fastai's fit_one_cycle): optimizer.lr is the peak rate. The rate rises from
    /// lr / div_factor during the first pct_start of the steps, then anneals to
    /// lr / div_factor / final_div_factor.
    double pct_start = 0.3;  ///< in (0, 1)
    double div_factor = 25.0;
    double final_div_factor = 1e4;
    bool three_phase = false;    ///< rise, fall back, then anneal (the paper's variant)
    std::string anneal = "cos";  ///< "cos" or "linear"
    /// Cycle SGD momentum / Adam beta1 between max_momentum (ends) and base_momentum (peak
    /// rate). It replaces optimizer.momentum and optimizer.beta1, even an SGD momentum of 0.
    bool cycle_momentum = true;
    double base_momentum = 0.85;  ///< in [0, max_momentum]
    double max_momentum = 0.95;   ///< in [0, 1)

    /// Every policy but "onecycle": optimizer steps of linear warm-up from
    /// warmup_start_factor * optimizer.lr; the policy's own clock starts after it.
    int warmup_steps = 0;
    double warmup_start_factor = 0.1;  ///< in (0, 1]
};

/// The learning-rate range test (engine/lr_finder.h): rates from start_lr to end_lr over
/// num_iter optimizer steps, on the experiment's model, optimizer and data.
struct LrFinderConfig {
    double start_lr = 1e-7;            ///< > 0
    double end_lr = 10;                ///< > start_lr
    int num_iter = 100;                ///< optimizer steps, >= 2
    std::string mode = "exponential";  ///< "exponential" (constant ratio) or "linear"
    double smooth_beta = 0.98;         ///< EMA factor of the smoothed loss, in [0, 1)
    /// Stop when the smoothed loss rises this many times above the best one; 0 never stops.
    double diverge_threshold = 5.0;
    /// "train": the loss of each training batch; "val": the loss on a fixed validation subset
    /// of `val_batches` batches, evaluated after each step (slower, smoother).
    std::string loss = "train";
    int val_batches = 4;
};

/// What a run writes for TensorBoard (engine/tensorboard): runs `train/` and `val/` under the
/// log folder, and the run's hyperparameters in the folder itself. Scalars (loss, accuracy,
/// rate, momentum, time, speed) are always written when `enabled`; the rest can be turned off.
struct TensorBoardConfig {
    bool enabled = true;
    /// Empty: `tensorboard/` inside the run folder. Otherwise a folder shared by runs, which
    /// gets one subfolder per run, named as the run folder.
    std::string log_dir;
    bool histograms = true;      ///< weights and gradients of every parameter, each epoch
    bool images = true;          ///< a training batch, the confusion matrix, the worst mistakes
    bool pr_curves = true;       ///< per class, on the validation set, each epoch
    bool embeddings = true;      ///< penultimate features of validation images, for the projector
    int embedding_images = 500;  ///< at most this many validation images in the projector
    bool text = true;            ///< the experiment file
    bool hparams = true;         ///< hyperparameters with the final metrics
};

/// When a run saves resume.pt, the state it continues from after a crash or a stop. The end of
/// each epoch always saves one; these add saves in the middle of an epoch.
struct CheckpointConfig {
    int every_steps = 0;        ///< also every this many optimizer steps; 0: not by steps
    double every_minutes = 10;  ///< also when this much time passed since the last save; 0: not
};

/// Stops the run when the validation metric has not improved for `patience` epochs in a row.
/// The test split is then evaluated with best.pt, as after the last epoch.
struct EarlyStoppingConfig {
    bool enabled = false;
    std::string metric = "val_loss";  ///< "val_loss" (lower is better) or "val_accuracy"
    int patience = 5;                 ///< >= 1
    /// An epoch improves only when it beats the best by more than this; >= 0.
    double min_delta = 0.0;
};

/// Everything that defines a training run. Saved as experiment.yaml in the run folder; the
/// same file given back reproduces the run.
struct Experiment {
    std::string name = "experiment";
    DataConfig data;
    ModelConfig model;
    Preprocessing preprocessing;
    OptimizerConfig optimizer;
    ScheduleConfig schedule;
    LrFinderConfig lr_finder;
    TensorBoardConfig tensorboard;
    CheckpointConfig checkpoint;
    EarlyStoppingConfig early_stopping;
    int epochs = 3;
    int batch_size = 64;
    /// Batches whose gradients are summed into one optimizer step (gradient accumulation);
    /// the effective batch is batch_size * grad_accumulation.
    int grad_accumulation = 1;
    std::uint64_t seed = 42;
    /// Intra-op threads; 0 means the number of cores.
    int threads = 0;
    /// "auto" (the first CUDA device when there is one, else the CPU), "cpu", "cuda" or
    /// "cuda:N".
    std::string device = "auto";
    /// CUDA only: forward passes in float16 where it is safe (autocast), with a dynamic loss
    /// scale; the weights stay float32.
    bool mixed_precision = false;
    /// Folder that receives one run folder per run.
    std::string runs_dir = "runs";

    bool operator==(const Experiment& other) const;
};

/// The models the engine can build.
const std::vector<std::string>& available_models();

/// Smallest square input, in pixels, that a model accepts.
int min_image_size(const std::string& arch);

/// Parses an experiment. Every key is optional (defaults above); an unknown key, a wrong type
/// or a bad value throws ConfigError with `source_name`, the line and the column.
Experiment parse_experiment(const std::string& yaml_text, const std::string& source_name);
Experiment load_experiment(const std::string& path);
std::string to_yaml(const Experiment& experiment);
void save_experiment(const Experiment& experiment, const std::string& path);

/// The preprocessing that weights for model.weights come with: a run folder's own (from its
/// experiment.yaml, normalization statistics included), else ImageNet's (224x224, three
/// channels, ImageNet mean and std). Augmentation settings are kept from `defaults`. Throws
/// ConfigError for a run folder with a bad experiment file.
Preprocessing pretrained_preprocessing(const std::string& weights, Preprocessing defaults = {});

/// Checks every value and the combinations (fractions below 1 together, one mean and std per
/// channel, ...); throws ConfigError with line 0. parse_experiment() runs the same checks and
/// reports the line and column of the offending value.
void validate(const Experiment& experiment);

}  // namespace wb
