#include "engine/trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include "engine/checkpoint.h"
#include "engine/devices.h"
#include "engine/distributed.h"
#include "engine/errors.h"
#include "engine/evaluation.h"
#include "engine/finetune.h"
#include "engine/grad_scaler.h"
#include "engine/image_folder.h"
#include "engine/loader.h"
#include "engine/models.h"
#include "engine/run_folder.h"
#include "engine/tb_logger.h"
#include "engine/train_schedule.h"
#include "engine/training_setup.h"

namespace fs = std::filesystem;

namespace wb {

namespace {

/// `text` as one word for a POSIX shell: as it is when that is safe, else in single quotes.
std::string shell_quoted(const std::string& text) {
    const bool plain = !text.empty() && text.find_first_not_of(
                                            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                            "0123456789_-./:=+@%,") == std::string::npos;
    if (plain) {
        return text;
    }
    std::string out = "'";
    for (char c : text) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
}

/// CUDA autocast for the forward passes in its scope (mixed precision).
struct AutocastScope {
    AutocastScope() { at::autocast::set_enabled(true); }
    ~AutocastScope() {
        at::autocast::set_enabled(false);
        at::autocast::clear_cache();
    }
    AutocastScope(const AutocastScope&) = delete;
    AutocastScope& operator=(const AutocastScope&) = delete;
};

/// What the ranks other than 0 of a data-parallel run report: their warnings and errors,
/// named by rank. Rank 0 reports the run.
class RankObserver : public Observer {
public:
    RankObserver(Observer& target, int rank) : target_(target), rank_(rank) {}
    void on_message(Level level, const std::string& text) override {
        if (level != Level::Info) {
            target_.on_message(level, "rank " + std::to_string(rank_) + ": " + text);
        }
    }

private:
    Observer& target_;
    int rank_;
};

}  // namespace

namespace {

const std::vector<std::string> kIterationColumns = {"step",     "epoch", "iteration", "loss",
                                                    "accuracy", "lr",    "momentum"};
const std::vector<std::string> kMetricColumns = {
    "epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds", "lr"};

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// The body of train() and resume(): throws on errors, which they turn into a failed result.
class Run {
public:
    /// A new run of `e`, or, with `resume_dir`, the continuation of that run folder.
    Run(const Experiment& e, Observer& obs, const std::atomic<bool>& cancel,
        std::string resume_dir = {})
        : e_(e), obs_(&obs), cancel_(cancel), resume_dir_(std::move(resume_dir)) {}

    RunResult execute();
    /// What is known so far, for a run that failed part way.
    RunResult partial() const {
        RunResult r = result_;
        r.refused = !training_;
        r.seconds = (training_ ? previous_seconds_ : 0) + seconds_since(start_);
        return r;
    }

private:
    void open_folder();
    void resume_folder();
    void prepare_schedule();
    bool train_epoch(int epoch);
    /// Gradual unfreezing: the parameters that train in `epoch`, with a message when it changes.
    void unfreeze_for(int epoch);
    bool finish_epoch(int epoch, Clock::time_point epoch_start, double train_seconds);
    /// finish_epoch() in a single process. In a data-parallel run rank 0's batch-norm
    /// statistics go to every rank first, rank 0 alone validates and writes, and the ranks
    /// agree on a cancel and on early stopping.
    bool end_epoch(int epoch, Clock::time_point epoch_start, double train_seconds);
    void open_tensorboard(long long resume_step);
    void report_decode_failures();
    bool checkpoint_due() const;
    /// Saves resume.pt after `steps_done` optimizer steps (`batches_done` batches) of the
    /// current epoch.
    void save_mid_epoch(long long batches_done, int steps_done);
    /// Early stopping after an epoch with validation: true when the run should stop.
    bool should_stop_early(const EpochStats& stats);
    /// Computes the metrics of `predictions`, writes the evaluation files into `dir` and
    /// hands the report to the observer.
    void report_evaluation(Predictions predictions, int epoch, const std::string& split,
                           const std::string& checkpoint, const std::string& dir);
    /// Joins the process group of a data-parallel run when the environment asks for one.
    void join_group();
    /// The error of a loss that is not finite (`loss` NaN when another rank saw it).
    TrainingError diverged(double loss, int epoch, int iteration) const;

public:
    /// Writes the end of the TensorBoard session (final metrics, status); never throws.
    void close_logs(const RunResult& result) noexcept;

private:
    std::string last_good_checkpoint() const {
        if (!run_) {
            return "Rank 0 keeps the last good checkpoint.";
        }
        return result_.epochs_done > 0
                   ? "The last good checkpoint (epoch " + std::to_string(result_.epochs_done) +
                         ") is kept in " + run_->file("last.pt")
                   : "No epoch had finished, so there is no checkpoint.";
    }

    const Clock::time_point start_ = Clock::now();
    Experiment e_;
    /// The caller's observer; on the ranks other than 0 of a data-parallel run, one that passes
    /// on only their warnings and errors.
    Observer* obs_;
    const std::atomic<bool>& cancel_;
    std::string resume_dir_;
    TrainingSetup s_;
    std::optional<Schedule> schedule_;
    std::unique_ptr<RunFolder> run_;
    std::unique_ptr<RunLock> lock_;  ///< held by the process that writes run_
    std::unique_ptr<TensorBoardLogger> tb_;
    CsvLog iterations_;
    CsvLog metrics_;
    RunResult result_;
    Progress progress_;
    Clock::time_point first_step_end_;
    long long session_steps_ = 0;     ///< steps taken since this process started the run
    int first_epoch_ = 0;             ///< the epoch this process started from
    double previous_seconds_ = 0;     ///< time of the sessions before a resume
    std::size_t reported_skips_ = 0;  ///< decode failures of the loader already reported
    long long steps_per_epoch_ = 0;
    long long total_steps_ = 0;
    double epoch_loss_sum_ = 0;
    std::int64_t epoch_correct_ = 0;
    std::int64_t epoch_count_ = 0;
    Clock::time_point last_checkpoint_ = Clock::now();
    /// Data-parallel training: the process group, null in a single process.
    std::unique_ptr<Distributed> dist_;
    std::unique_ptr<Observer> rank_observer_;
    /// Rank 0, or a single process: the one that writes the run folder and reports.
    bool main_ = true;
    std::optional<GradScaler> scaler_;  ///< mixed_precision on CUDA
    bool training_ = false;             ///< the first epoch of this session has begun
    std::vector<torch::Tensor> params_;
    std::vector<torch::Tensor> buffers_;
};

// One optimizer step per group of grad_accumulation batches; the last group of an epoch may
// be shorter, and each batch's loss is divided by its group's size, so that the gradient is
// the mean over the group's batches.
bool Run::train_epoch(int epoch) {
    Classifier& model = *s_.model;
    Loader& loader = *s_.train_loader;
    unfreeze_for(epoch);
    model.train();
    // A run resumed from a checkpoint in the middle of this epoch starts at its next batch.
    const bool mid_epoch = progress_.epoch_batches > 0;
    long long batch_index = mid_epoch ? progress_.epoch_batches : 0;
    int iteration = mid_epoch ? static_cast<int>(progress_.epoch_steps) : 0;
    epoch_loss_sum_ = mid_epoch ? progress_.epoch_loss_sum : 0;
    epoch_correct_ = mid_epoch ? progress_.epoch_correct : 0;
    epoch_count_ = mid_epoch ? progress_.epoch_count : 0;
    progress_.epoch_batches = progress_.epoch_steps = 0;
    loader.start_epoch(epoch, static_cast<std::size_t>(batch_index));
    const long long batches = static_cast<long long>(loader.num_batches());
    const int accumulation = e_.grad_accumulation;
    double rate = 0;
    int in_group = 0;
    int group_size = 0;
    double group_loss = 0;
    std::int64_t group_correct = 0;
    std::int64_t group_count = 0;
    bool group_diverged = false;
    auto last = Clock::now();
    while (auto batch = loader.next()) {
        // The ranks of a data-parallel run agree on a cancel at the end of each group.
        if (cancel_ && !dist_) {
            return false;
        }
        if (in_group == 0) {
            model.zero_grad(/*set_to_none=*/true);
            group_size = static_cast<int>(std::min<long long>(accumulation, batches - batch_index));
            group_loss = 0;
            group_correct = 0;
            group_count = 0;
            group_diverged = false;
        }
        if (tb_ && batch_index == 0) {
            tb_->training_batch(batch->images, epoch, progress_.step);
        }
        auto images = batch->images.to(s_.device);
        auto labels = batch->labels.to(s_.device);
        torch::Tensor logits;
        if (scaler_) {
            AutocastScope autocast;
            logits = model.forward(images).to(torch::kFloat);
        } else {
            logits = model.forward(images);
        }
        auto loss = torch::nn::functional::cross_entropy(logits, labels);
        const double loss_value = loss.item<double>();
        if (!std::isfinite(loss_value)) {
            if (!dist_) {
                throw diverged(loss_value, epoch, iteration);
            }
            group_diverged = true;
        }
        torch::Tensor group_part = group_size > 1 ? loss / group_size : loss;
        (scaler_ ? scaler_->scale(group_part) : group_part).backward();
        const auto n = labels.size(0);
        group_loss += loss_value * n;
        group_correct += logits.argmax(1).eq(labels).sum().item<std::int64_t>();
        group_count += n;
        ++batch_index;
        if (++in_group < group_size) {
            continue;
        }
        in_group = 0;
        if (dist_) {
            // One small allreduce for the group's sums and the ranks' flags, one for the
            // gradients: every rank then takes the same step on the mean gradient.
            const std::vector<double> g =
                dist_->sum({group_loss, double(group_correct), double(group_count),
                            group_diverged ? 1.0 : 0.0, cancel_ ? 1.0 : 0.0});
            if (g[4] > 0) {
                return false;
            }
            if (g[3] > 0) {
                throw diverged(group_diverged ? loss_value : NAN, epoch, iteration);
            }
            group_loss = g[0];
            group_correct = static_cast<std::int64_t>(g[1]);
            group_count = static_cast<std::int64_t>(g[2]);
            dist_->average_gradients(params_);
        }

        const long long step = progress_.step;
        const AppliedSchedule applied =
            apply_schedule(*s_.optimizer, *schedule_, step, s_.lr_factors);
        // Mixed precision: a step whose gradients overflowed is skipped and lowers the scale.
        if (!scaler_ || scaler_->unscale(params_)) {
            s_.optimizer->step();
        }
        if (scaler_) {
            scaler_->update();
        }
        progress_.last_lr = applied.lr;
        epoch_loss_sum_ += group_loss;
        epoch_correct_ += group_correct;
        epoch_count_ += group_count;

        const double dt = std::max(seconds_since(last), 1e-9);
        last = Clock::now();
        rate = rate == 0 ? group_count / dt : 0.9 * rate + 0.1 * (group_count / dt);
        IterationStats it;
        it.epoch = epoch;
        it.iteration = iteration;
        it.step = step;
        it.iterations_per_epoch = static_cast<int>(steps_per_epoch_);
        it.batch_size = static_cast<int>(group_count);
        it.loss = group_loss / group_count;
        it.accuracy = static_cast<double>(group_correct) / group_count;
        it.epoch_loss =
            epoch_loss_sum_ / static_cast<double>(std::max<std::int64_t>(epoch_count_, 1));
        it.lr = applied.lr;
        it.momentum = applied.momentum;
        it.images_per_second = rate;
        // Timed from the end of the first step, which carries one-off start-up costs.
        if (session_steps_ == 0) {
            first_step_end_ = Clock::now();
        }
        const double per_step =
            session_steps_ == 0 ? dt : seconds_since(first_step_end_) / session_steps_;
        it.eta_seconds = per_step * static_cast<double>(total_steps_ - step - 1);
        if (main_) {
            iterations_.row({double(step), double(epoch + 1), double(iteration + 1), it.loss,
                             it.accuracy, it.lr, it.momentum});
        }
        obs_->on_iteration(it);
        if (tb_) {
            tb_->iteration(it);
        }
        ++progress_.step;
        ++session_steps_;
        ++iteration;
        if (main_ && batch_index < batches && checkpoint_due()) {
            save_mid_epoch(batch_index, iteration);
        }
    }
    // A data-parallel run agrees on a late cancel at the end of the epoch.
    return dist_ || !cancel_;
}

TrainingError Run::diverged(double loss, int epoch, int iteration) const {
    const std::string what = std::isnan(loss) ? "NaN" : "infinite";
    return TrainingError("the loss became " + what + " at epoch " + std::to_string(epoch + 1) +
                         ", iteration " + std::to_string(iteration + 1) +
                         (dist_ ? " (in at least one process)" : "") +
                         "; the learning rate is probably too high. " + last_good_checkpoint());
}

void Run::unfreeze_for(int epoch) {
    const ModelConfig& m = e_.model;
    const std::int64_t trainable = set_trainable(*s_.model, m, epoch);
    if (m.unfreeze_epoch > 0 && epoch + 1 == m.unfreeze_epoch) {
        obs_->on_message(Level::Info, "epoch " + std::to_string(epoch + 1) +
                                          ": every layer trains from now on (" +
                                          std::to_string(trainable) + " parameters)");
    }
}

// A checkpoint in the middle of an epoch is due every checkpoint.every_steps optimizer steps
// and when checkpoint.every_minutes have passed since the last one.
bool Run::checkpoint_due() const {
    const CheckpointConfig& c = e_.checkpoint;
    if (c.every_steps > 0 && progress_.step % c.every_steps == 0) {
        return true;
    }
    return c.every_minutes > 0 && seconds_since(last_checkpoint_) >= c.every_minutes * 60;
}

void Run::save_mid_epoch(long long batches_done, int steps_done) {
    Progress p = progress_;
    p.epoch_batches = batches_done;
    p.epoch_steps = steps_done;
    p.epoch_loss_sum = epoch_loss_sum_;
    p.epoch_correct = epoch_correct_;
    p.epoch_count = epoch_count_;
    p.seconds = previous_seconds_ + seconds_since(start_);
    // The logs up to this step must be on disk before the checkpoint that resumes after them.
    if (tb_) {
        tb_->flush();
    }
    save_resume_state(*s_.model, *s_.optimizer, p, s_.device, *run_);
    last_checkpoint_ = Clock::now();
}

// Fails the run before its first step when the schedule does not fit the run's length.
void Run::prepare_schedule() {
    const long long batches = static_cast<long long>(s_.train_loader->num_batches());
    steps_per_epoch_ = (batches + e_.grad_accumulation - 1) / e_.grad_accumulation;
    total_steps_ = steps_per_epoch_ * e_.epochs;
    try {
        schedule_ = Schedule::make(schedule_spec(e_, steps_per_epoch_), total_steps_);
    } catch (const ConfigError& error) {
        throw ConfigError("", 0, 0,
                          std::string(error.what()) + " (this run has " +
                              std::to_string(total_steps_) +
                              " optimizer steps: " + std::to_string(steps_per_epoch_) +
                              " per epoch, " + std::to_string(e_.epochs) + " epochs)");
    }
}

void Run::open_folder() {
    run_ = std::make_unique<RunFolder>(RunFolder::create(e_.runs_dir, e_.name));
    lock_ = std::make_unique<RunLock>(run_->path());
    result_.run_dir = run_->path();
    save_experiment(e_, run_->file("experiment.yaml"));
    std::string classes;
    for (const auto& c : s_.scan.classes) {
        classes += c + "\n";
    }
    run_->write_text("classes.txt", classes);
    std::string skipped;
    for (const auto& s : s_.scan.skipped) {
        skipped += s.path + "\t" + s.reason + "\n";
    }
    run_->write_text("skipped.txt", skipped);
    run_->write_text("dataset.txt", s_.scan.summary());
    iterations_ = CsvLog(run_->file("iterations.csv"), kIterationColumns);
    metrics_ = CsvLog(run_->file("metrics.csv"), kMetricColumns);
    progress_.train_size = static_cast<std::int64_t>(s_.scan.train.size());
}

void Run::resume_folder() {
    run_ = std::make_unique<RunFolder>(RunFolder::open(resume_dir_));
    if (main_) {
        // Before anything is read: a folder that another process trains is left alone.
        lock_ = std::make_unique<RunLock>(run_->path());
    }
    const std::string state = run_->file(kResumeFile);
    if (!std::filesystem::exists(state)) {
        throw DataError(run_->path() +
                        ": no resume.pt, so the run cannot be resumed (it stopped before its "
                        "first epoch ended, or an older version wrote it)");
    }
    std::string classes;
    for (const auto& c : s_.scan.classes) {
        classes += c + "\n";
    }
    if (read_text(run_->file("classes.txt")) != classes) {
        throw DataError(e_.data.root + ": the classes differ from " + run_->file("classes.txt") +
                        "; the dataset changed since the run started");
    }
    progress_ = load_resume_state(*s_.model, *s_.optimizer, s_.device, state);
    previous_seconds_ = progress_.seconds;
    if (progress_.stopped_early) {
        throw DataError(run_->path() + ": the run stopped early after epoch " +
                        std::to_string(progress_.epochs_done) + " (" + e_.early_stopping.metric +
                        " had not improved for " + std::to_string(e_.early_stopping.patience) +
                        " epochs); there is nothing to resume");
    }
    if (progress_.epochs_done >= e_.epochs) {
        throw DataError(run_->path() + ": the run has finished all its " +
                        std::to_string(e_.epochs) +
                        " epochs; there is nothing to resume (train again with --config " +
                        run_->file("experiment.yaml") + " and more epochs for a new run)");
    }
    if (progress_.train_size != static_cast<std::int64_t>(s_.scan.train.size())) {
        throw DataError(e_.data.root + ": " + std::to_string(s_.scan.train.size()) +
                        " training images now, " + std::to_string(progress_.train_size) +
                        " when the run started; resuming would not follow the same run");
    }
    const int processes = dist_ ? dist_->world_size() : 1;
    if (progress_.world_size != processes) {
        throw DataError(
            run_->path() + ": the run trained as " + std::to_string(progress_.world_size) +
            " processes, and each reads its own part of every batch; resume it as " +
            std::to_string(progress_.world_size) + " too: workbench-cli launch " +
            "--nproc-per-node " + std::to_string(progress_.world_size) + " resume " + run_->path());
    }
    if (progress_.step != progress_.epochs_done * steps_per_epoch_ + progress_.epoch_steps ||
        progress_.epoch_steps >= steps_per_epoch_) {
        throw DataError(state + ": step " + std::to_string(progress_.step) + " after " +
                        std::to_string(progress_.epochs_done) + " epochs and " +
                        std::to_string(progress_.epoch_steps) + " steps does not fit " +
                        std::to_string(steps_per_epoch_) + " steps per epoch");
    }
    if (!main_) {
        // The other ranks of a data-parallel run read the checkpoint and write nothing.
        return;
    }
    // Only now, when the folder is accepted: a refused resume leaves its result.yaml alone.
    result_.run_dir = run_->path();
    iterations_ = CsvLog::resume(run_->file("iterations.csv"), kIterationColumns, progress_.step);
    metrics_ = CsvLog::resume(run_->file("metrics.csv"), kMetricColumns, progress_.epochs_done);
    std::error_code ec;
    std::filesystem::remove(run_->file("result.yaml"), ec);
    result_.epochs_done = progress_.epochs_done;
    result_.best_epoch = progress_.best_epoch;
    result_.best_val_accuracy = std::max(progress_.best_score, 0.0);
    result_.has_val = progress_.has_val;
    obs_->on_message(Level::Info,
                     "resuming " + run_->path() +
                         (progress_.epoch_steps > 0
                              ? " in epoch " + std::to_string(progress_.epochs_done + 1) +
                                    " after its iteration " + std::to_string(progress_.epoch_steps)
                              : " after epoch " + std::to_string(progress_.epochs_done)) +
                         " (step " + std::to_string(progress_.step) + ")");
}

// Validates, checkpoints and reports an epoch whose training part is done; false when
// cancelled during validation.
bool Run::finish_epoch(int epoch, Clock::time_point epoch_start, double train_seconds) {
    EpochStats es;
    es.epoch = epoch;
    es.train_loss = epoch_loss_sum_ / std::max<std::int64_t>(epoch_count_, 1);
    es.train_accuracy =
        static_cast<double>(epoch_correct_) / std::max<std::int64_t>(epoch_count_, 1);
    report_decode_failures();
    Predictions predictions;
    if (!s_.scan.val.empty()) {
        // Features only for the projector, once: they are N x D floats.
        const bool features = tb_ && e_.tensorboard.embeddings && epoch + 1 == e_.epochs;
        predictions = collect_predictions(*s_.model, *s_.val_loader, s_.device, &cancel_, features);
        if (cancel_) {
            return false;
        }
        const double n = std::max<double>(1, static_cast<double>(predictions.size()));
        const double loss =
            std::accumulate(predictions.losses.begin(), predictions.losses.end(), 0.0) / n;
        std::size_t correct = 0;
        for (std::size_t i = 0; i < predictions.size(); ++i) {
            correct += predictions.predicted[i] == predictions.labels[i];
        }
        if (!std::isfinite(loss)) {
            throw TrainingError("the validation loss became " + std::to_string(loss) +
                                " at epoch " + std::to_string(epoch + 1) +
                                ": the model diverged; the learning rate is probably too high. " +
                                last_good_checkpoint());
        }
        es.has_val = true;
        result_.has_val = true;
        progress_.has_val = true;
        es.val_loss = loss;
        es.val_accuracy = static_cast<double>(correct) / n;
    }
    es.seconds = seconds_since(epoch_start);
    es.lr = progress_.last_lr;
    es.eta_seconds = seconds_since(start_) / (epoch + 1 - first_epoch_) * (e_.epochs - epoch - 1);
    const double score = es.has_val ? es.val_accuracy : es.train_accuracy;
    save_checkpoint(*s_.model, *run_, "last.pt");
    if (score > progress_.best_score) {
        progress_.best_score = score;
        progress_.best_epoch = epoch;
        result_.best_epoch = epoch;
        result_.best_val_accuracy = score;
        es.is_best = true;
        save_checkpoint(*s_.model, *run_, "best.pt");
    }
    es.best_epoch = result_.best_epoch;
    metrics_.row({double(epoch + 1), es.train_loss, es.train_accuracy,
                  es.has_val ? es.val_loss : NAN, es.has_val ? es.val_accuracy : NAN, es.seconds,
                  es.lr});
    progress_.epochs_done = epoch + 1;
    result_.epochs_done = epoch + 1;
    progress_.seconds = previous_seconds_ + seconds_since(start_);
    progress_.stopped_early = should_stop_early(es);
    // At the step of the epoch's last iteration: a run resumed from this checkpoint starts a
    // TensorBoard session at the next step, which drops only what came after it. The logs are
    // on disk before the checkpoint that resumes after them.
    if (tb_) {
        tb_->epoch(es, progress_.step - 1, epoch_count_ / std::max(train_seconds, 1e-9), *s_.model,
                   es.has_val ? &predictions : nullptr);
        tb_->flush();
    }
    save_resume_state(*s_.model, *s_.optimizer, progress_, s_.device, *run_);
    last_checkpoint_ = Clock::now();
    obs_->on_epoch(es);
    if (es.has_val) {
        char name[32];
        std::snprintf(name, sizeof name, "epoch_%03d", epoch + 1);
        report_evaluation(std::move(predictions), epoch, "val",
                          "epoch " + std::to_string(epoch + 1),
                          (fs::path(run_->path()) / "evaluation" / "val" / name).string());
    }
    return true;
}

bool Run::end_epoch(int epoch, Clock::time_point epoch_start, double train_seconds) {
    if (!dist_) {
        return finish_epoch(epoch, epoch_start, train_seconds);
    }
    dist_->broadcast_parameters(buffers_);
    // A failure on rank 0 (a diverged validation, a full disk) ends its process, and with it
    // the others' next collective.
    const bool ok = !main_ || finish_epoch(epoch, epoch_start, train_seconds);
    const std::vector<double> f =
        dist_->sum({ok && !cancel_ ? 0.0 : 1.0, progress_.stopped_early ? 1.0 : 0.0});
    progress_.epochs_done = epoch + 1;
    result_.epochs_done = epoch + 1;
    progress_.stopped_early = f[1] > 0;
    return f[0] == 0;
}

void Run::join_group() {
    const std::string device = resolve_device(e_.device);
    dist_ = Distributed::from_environment(device == "cpu" ? "cpu" : "cuda");
    if (!dist_) {
        return;
    }
    main_ = dist_->is_main();
    if (device != "cpu") {
        e_.device = "cuda:" + std::to_string(dist_->local_rank());
    }
    if (!main_) {
        rank_observer_ = std::make_unique<RankObserver>(*obs_, dist_->rank());
        obs_ = rank_observer_.get();
    }
    obs_->on_message(Level::Info, "data-parallel training: " + std::to_string(dist_->world_size()) +
                                      " processes, " + std::to_string(e_.batch_size) +
                                      " images per process and batch (" +
                                      std::to_string(e_.batch_size * dist_->world_size()) +
                                      " per step)");
}

bool Run::should_stop_early(const EpochStats& es) {
    const EarlyStoppingConfig& c = e_.early_stopping;
    if (!c.enabled || !es.has_val) {
        return false;
    }
    const bool lower_is_better = c.metric == "val_loss";
    const double value = lower_is_better ? es.val_loss : es.val_accuracy;
    const bool improved = std::isnan(progress_.stop_best) ||
                          (lower_is_better ? value < progress_.stop_best - c.min_delta
                                           : value > progress_.stop_best + c.min_delta);
    if (improved) {
        progress_.stop_best = value;
        progress_.stop_bad_epochs = 0;
        return false;
    }
    ++progress_.stop_bad_epochs;
    if (progress_.stop_bad_epochs < c.patience || es.epoch + 1 >= e_.epochs) {
        return false;
    }
    result_.stopped_early = true;
    result_.message = "stopped early after epoch " + std::to_string(es.epoch + 1) + " of " +
                      std::to_string(e_.epochs) + ": " + c.metric + " has not improved for " +
                      std::to_string(c.patience) + " epochs (best " +
                      std::to_string(progress_.stop_best) + ")";
    obs_->on_message(Level::Info, result_.message);
    return true;
}

void Run::report_evaluation(Predictions predictions, int epoch, const std::string& split,
                            const std::string& checkpoint, const std::string& dir) {
    auto report = std::make_shared<EvaluationReport>();
    predictions.features.clear();
    predictions.features.shrink_to_fit();
    predictions.feature_size = 0;
    report->run_dir = run_->path();
    report->checkpoint = checkpoint;
    report->split = split;
    report->classes = s_.scan.classes;
    report->predictions = std::move(predictions);
    compute_metrics(*report);
    report->output_dir = write_evaluation_files(*report, dir);
    EpochEvaluation evaluation;
    evaluation.epoch = epoch;
    evaluation.split = split;
    evaluation.report = std::move(report);
    obs_->on_evaluation(evaluation);
}

// With data.verify_decode off, a file that fails to decode is only found by the loader, which
// fills its place in the batch: name it once and add it to skipped.txt.
void Run::report_decode_failures() {
    const auto failed = s_.train_loader->skipped_files();
    if (failed.size() <= reported_skips_) {
        return;
    }
    std::ofstream list(run_->file("skipped.txt"), std::ios::app);
    for (std::size_t i = reported_skips_; i < failed.size(); ++i) {
        obs_->on_message(Level::Warning, "could not decode " + failed[i].path +
                                             " while training (" + failed[i].reason +
                                             "); another image took its place in the batch");
        list << failed[i].path << "\t" << failed[i].reason << "\n";
    }
    reported_skips_ = failed.size();
}

void Run::open_tensorboard(long long resume_step) {
    if (!e_.tensorboard.enabled) {
        return;
    }
    try {
        tb_ = std::make_unique<TensorBoardLogger>(e_, run_->path(), s_.scan.classes, resume_step,
                                                  progress_.epochs_done);
        const std::string watch =
            e_.tensorboard.log_dir.empty() ? e_.runs_dir : e_.tensorboard.log_dir;
        obs_->on_message(Level::Info, "TensorBoard logs: " + tb_->log_dir() +
                                          " (watch with: tensorboard --logdir " +
                                          shell_quoted(watch) + ")");
    } catch (const std::exception& error) {
        obs_->on_message(Level::Warning,
                         std::string("no TensorBoard logs for this run: ") + error.what());
    }
}

void Run::close_logs(const RunResult& result) noexcept {
    if (!tb_) {
        return;
    }
    try {
        tb_->finished(result);
    } catch (const std::exception& error) {
        obs_->on_message(
            Level::Warning,
            std::string("the TensorBoard logs could not be finished: ") + error.what());
    }
}

RunResult Run::execute() {
    join_group();
    // A resumed run's weights come from resume.pt, not from model.weights again.
    Experiment prepared = e_;
    if (!resume_dir_.empty() && e_.model.arch != "torchscript") {
        prepared.model.weights.clear();
    }
    s_ = prepare_training(prepared, *obs_,
                          dist_ ? Shard{dist_->rank(), dist_->world_size()} : Shard{});
    s_.experiment.model.weights = e_.model.weights;
    if (dist_ && e_.threads == 0) {
        // The processes on this machine share its cores.
        set_threads(std::max(
            1, static_cast<int>(std::thread::hardware_concurrency()) / dist_->local_world_size()));
    }
    e_ = s_.experiment;
    params_ = s_.model->parameters();
    buffers_ = s_.model->buffers();
    if (e_.mixed_precision && s_.device.is_cuda()) {
        scaler_.emplace(s_.device);
    }
    // One optimizer step per group of grad_accumulation batches: the same count as
    // wb::total_steps(train size, batch_size, epochs, grad_accumulation, drop_last).
    prepare_schedule();
    progress_.world_size = dist_ ? dist_->world_size() : 1;
    if (!resume_dir_.empty()) {
        resume_folder();
    } else if (main_) {
        open_folder();
    } else {
        progress_.train_size = static_cast<std::int64_t>(s_.scan.train.size());
    }
    if (dist_) {
        // Every rank starts from rank 0's model.
        std::vector<torch::Tensor> state = params_;
        state.insert(state.end(), buffers_.begin(), buffers_.end());
        dist_->broadcast_parameters(state);
    }

    first_epoch_ = progress_.epochs_done;
    if (e_.early_stopping.enabled && s_.scan.val.empty()) {
        obs_->on_message(Level::Warning,
                         "early stopping needs a validation split, and this dataset has none; "
                         "the run trains all its epochs");
    }
    RunInfo info;
    info.run_dir = run_ ? run_->path() : "";
    info.model = e_.model.arch;
    info.parameters = parameter_count(*s_.model);
    info.trainable_parameters = parameter_count(*s_.model, /*trainable_only=*/true);
    info.epochs = e_.epochs;
    info.iterations_per_epoch = static_cast<int>(steps_per_epoch_);
    obs_->on_run_started(info);
    if (main_) {
        obs_->on_message(Level::Info, "run folder: " + run_->path());
        open_tensorboard(resume_dir_.empty() ? 0 : progress_.step);
    }
    training_ = true;
    for (int epoch = progress_.epochs_done; epoch < e_.epochs; ++epoch) {
        const auto epoch_start = Clock::now();
        if (!train_epoch(epoch) || !end_epoch(epoch, epoch_start, seconds_since(epoch_start))) {
            result_.status = "cancelled";
            break;
        }
        if (progress_.stopped_early) {
            break;
        }
    }
    if (main_ && !s_.scan.test.empty() && result_.status != "cancelled" &&
        result_.best_epoch >= 0) {
        load_checkpoint(*s_.model, run_->file("best.pt"));
        auto test_loader = s_.eval_loader(s_.scan.test);
        Predictions test = collect_predictions(*s_.model, *test_loader, s_.device, &cancel_);
        if (!cancel_ && test.size() > 0) {
            const double n = static_cast<double>(test.size());
            std::size_t correct = 0;
            for (std::size_t i = 0; i < test.size(); ++i) {
                correct += test.predicted[i] == test.labels[i];
            }
            result_.has_test = true;
            result_.test_loss = std::accumulate(test.losses.begin(), test.losses.end(), 0.0) / n;
            result_.test_accuracy = static_cast<double>(correct) / n;
            report_evaluation(std::move(test), result_.best_epoch, "test", "best.pt",
                              (fs::path(run_->path()) / "evaluation" / "test").string());
        }
    }
    if (result_.status.empty()) {
        result_.status = "finished";
    }
    result_.seconds = previous_seconds_ + seconds_since(start_);
    return result_;
}

void write_result(const RunResult& r) {
    if (r.run_dir.empty()) {
        return;
    }
    YAML::Emitter out;
    out << YAML::BeginMap;
    out << YAML::Key << "status" << YAML::Value << r.status;
    if (!r.message.empty()) {
        out << YAML::Key << "message" << YAML::Value << YAML::DoubleQuoted << r.message;
    }
    out << YAML::Key << "epochs_done" << YAML::Value << r.epochs_done;
    out << YAML::Key << "best_epoch" << YAML::Value << r.best_epoch + 1;
    out << YAML::Key << (r.has_val ? "best_val_accuracy" : "best_train_accuracy") << YAML::Value
        << r.best_val_accuracy;
    if (r.has_test) {
        out << YAML::Key << "test_loss" << YAML::Value << r.test_loss;
        out << YAML::Key << "test_accuracy" << YAML::Value << r.test_accuracy;
    }
    out << YAML::Key << "seconds" << YAML::Value << r.seconds;
    if (r.stopped_early) {
        out << YAML::Key << "stopped_early" << YAML::Value << true;
    }
    out << YAML::EndMap;
    std::ofstream(fs::path(r.run_dir) / "result.yaml") << out.c_str() << "\n";
}

RunResult run_guarded(Run& run, Observer& observer) {
    RunResult result;
    try {
        result = run.execute();
    } catch (const std::exception& ex) {
        result = run.partial();
        result.status = "failed";
        result.message = error_text(ex);
        observer.on_message(Level::Error, result.message);
    }
    run.close_logs(result);
    write_result(result);
    observer.on_finished(result);
    return result;
}

}  // namespace

void set_threads(int threads) {
    int n = threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
    at::set_num_threads(std::max(n, 1));
    // Gradients that shrink to denormal numbers (a loss near zero) slow each step tenfold.
    at::globalContext().setFlushDenormal(true);
}

std::string demo_dataset_dir() {
    if (const char* env = std::getenv("WB_DEMO_DATA"); env && *env) {
        return env;
    }
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        for (const auto& rel :
             {"../share/workbench/demo", "../../../resources/demo", "../../resources/demo"}) {
            fs::path candidate = exe.parent_path() / rel;
            if (fs::is_directory(candidate, ec)) {
                return fs::canonical(candidate, ec).string();
            }
        }
    }
    return "resources/demo";
}

RunResult train(const Experiment& experiment, Observer& observer, const std::atomic<bool>& cancel) {
    Run run(experiment, observer, cancel);
    return run_guarded(run, observer);
}

RunResult resume(const std::string& run_dir, Observer& observer, const std::atomic<bool>& cancel,
                 const std::string& data_root) {
    Experiment experiment;
    try {
        if (fs::exists(fs::path(run_dir) / "experiment.yaml") &&
            !fs::exists(fs::path(run_dir) / "resume.pt")) {
            throw DataError(run_dir +
                            ": no resume.pt, so the run cannot be resumed (it stopped before its "
                            "first epoch ended, or it is not a training run)");
        }
        experiment = load_experiment((fs::path(run_dir) / "experiment.yaml").string());
        // Refused before the dataset is scanned, which can take a while.
        const fs::path result_file = fs::path(run_dir) / "result.yaml";
        if (fs::exists(result_file)) {
            const YAML::Node done = YAML::LoadFile(result_file.string());
            if (done["stopped_early"] && done["stopped_early"].as<bool>(false)) {
                throw DataError(run_dir + ": the run stopped early (" +
                                done["message"].as<std::string>("") +
                                "); there is nothing to resume");
            }
            if (done["status"] && done["status"].as<std::string>("") == "finished") {
                throw DataError(run_dir + ": the run has finished all its " +
                                std::to_string(experiment.epochs) +
                                " epochs; there is nothing to resume");
            }
        }
    } catch (const std::exception& error) {
        RunResult result;
        result.status = "failed";
        result.refused = true;
        result.message = error.what();
        observer.on_message(Level::Error, result.message);
        observer.on_finished(result);
        return result;
    }
    if (!data_root.empty()) {
        observer.on_message(
            Level::Info, "dataset read from " + data_root + " instead of " + experiment.data.root);
        experiment.data.root = data_root;
    }
    Run run(experiment, observer, cancel, run_dir);
    return run_guarded(run, observer);
}

}  // namespace wb
