#pragma once

// The files a run resumes from: checkpoints of the model (last.pt, best.pt) and resume.pt
// with everything else a resumed run needs. Internal to wb_train (it includes libtorch).

#include <torch/torch.h>

#include <cstdint>
#include <limits>
#include <string>

#include "engine/models.h"
#include "engine/run_folder.h"

namespace wb {

constexpr const char* kResumeFile = "resume.pt";

/// Where a run stands at a checkpoint: with the model, the optimizer and torch's random
/// generators in resume.pt, a resumed run follows the curve of one that was never stopped
/// (the loader's order and augmentation depend only on the seed, the epoch and the position,
/// so an epoch can restart at any batch).
struct Progress {
    int epochs_done = 0;
    long long step = 0;
    double best_score = -1;
    int best_epoch = -1;
    double last_lr = 0;
    bool has_val = false;
    std::int64_t train_size = 0;  ///< training images when the run started
    double seconds = 0;           ///< the run's time up to the checkpoint, all sessions
    // A checkpoint in the middle of epoch `epochs_done`: batches and optimizer steps done in it,
    // and its running sums; all 0 at the end of an epoch.
    std::int64_t epoch_batches = 0;
    std::int64_t epoch_steps = 0;
    double epoch_loss_sum = 0;
    std::int64_t epoch_correct = 0;
    std::int64_t epoch_count = 0;
    // Early stopping: the best value of its metric and the epochs since it improved.
    double stop_best = std::numeric_limits<double>::quiet_NaN();  ///< NaN: no epoch yet
    int stop_bad_epochs = 0;
    bool stopped_early = false;
    int world_size = 1;  ///< processes of a data-parallel run; the shards depend on it
};

/// Writes `archive` as `name` in the run folder. It is serialized in memory first: libtorch's
/// file writer aborts the process when a write fails (a full disk), and RunFolder::write_text
/// reports that instead, keeping the previous file whole.
void save_archive(torch::serialize::OutputArchive& archive, const RunFolder& run,
                  const std::string& name);
/// The model's parameters and buffers as `name` in the run folder, and back.
void save_checkpoint(torch::nn::Module& model, const RunFolder& run, const std::string& name);
void load_checkpoint(torch::nn::Module& model, const std::string& path);

/// resume.pt: the model, the optimizer's state, `p`, and torch's random generators (the CPU's,
/// and `device`'s when it is a CUDA device).
void save_resume_state(Classifier& model, torch::optim::Optimizer& optimizer, const Progress& p,
                       const torch::Device& device, const RunFolder& run);
/// Loads resume.pt at `path` into `model` and `optimizer`, restores the random generators and
/// returns the progress; keys an older file lacks keep their defaults. Throws DataError naming
/// the file when it cannot be read.
Progress load_resume_state(Classifier& model, torch::optim::Optimizer& optimizer,
                           const torch::Device& device, const std::string& path);

}  // namespace wb
