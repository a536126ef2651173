// workbench-cli: the headless engine. Runs the same jobs as the window, from an experiment
// YAML file or flags, and writes the same run folder. What a remote GPU box or a container runs.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include "app/launch.h"
#include "engine/errors.h"
#include "engine/evaluation.h"
#include "engine/experiment.h"
#include "engine/export.h"
#include "engine/idx.h"
#include "engine/image_folder.h"
#include "engine/lr_find_run.h"
#include "engine/predictor.h"
#include "engine/trainer.h"

namespace {

std::atomic<bool> g_cancel{false};

void on_signal(int) {
    g_cancel = true;
}

std::string clock_text(double seconds) {
    int s = static_cast<int>(seconds + 0.5);
    char buf[32];
    if (s >= 3600) {
        std::snprintf(buf, sizeof buf, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    } else {
        std::snprintf(buf, sizeof buf, "%d:%02d", s / 60, s % 60);
    }
    return buf;
}

/// Prints progress: a bar redrawn in place on a terminal, plain lines otherwise (a log file,
/// a container's output), at most one line every few seconds.
class ConsoleObserver : public wb::Observer {
public:
    explicit ConsoleObserver(bool tty) : tty_(tty) {}

    void on_message(wb::Level level, const std::string& text) override {
        end_bar();
        const char* tag = level == wb::Level::Error     ? "error: "
                          : level == wb::Level::Warning ? "warning: "
                                                        : "";
        std::fprintf(stderr, "%s%s\n", tag, text.c_str());
    }

    void on_dataset(const wb::DatasetInfo& info) override {
        std::printf("%s\n", info.summary.c_str());
    }

    /// A range test whose files go into the run folder when the run starts.
    void set_lr_find_dir(const std::string& dir) { lr_find_dir_ = dir; }

    void on_run_started(const wb::RunInfo& info) override {
        if (!lr_find_dir_.empty()) {
            wb::copy_lr_find_files(lr_find_dir_, info.run_dir);
        }
        const std::string trainable =
            info.trainable_parameters < info.parameters
                ? " (" + std::to_string(info.trainable_parameters) + " train)"
                : std::string();
        std::printf("model %s, %lld parameters%s, %d epoch%s of %d iterations\n",
                    info.model.c_str(), info.parameters, trainable.c_str(), info.epochs,
                    info.epochs == 1 ? "" : "s", info.iterations_per_epoch);
        std::fflush(stdout);
    }

    void on_iteration(const wb::IterationStats& it) override {
        // The running mean of this epoch (a resumed one too), which ends equal to the epoch's
        // train loss.
        const double mean_loss = it.epoch_loss;
        const auto now = std::chrono::steady_clock::now();
        const double since = std::chrono::duration<double>(now - last_print_).count();
        const bool last = it.iteration + 1 == it.iterations_per_epoch;
        if (tty_) {
            if (since < 0.1 && !last) {
                return;
            }
            const int width = 30;
            const int filled = (it.iteration + 1) * width / std::max(it.iterations_per_epoch, 1);
            std::printf("\repoch %d [%s%s] %d/%d mean loss %.4f  %.0f img/s  ETA %s   ",
                        it.epoch + 1, std::string(filled, '#').c_str(),
                        std::string(width - filled, '.').c_str(), it.iteration + 1,
                        it.iterations_per_epoch, mean_loss, it.images_per_second,
                        clock_text(it.eta_seconds).c_str());
            bar_open_ = true;
        } else {
            if (since < 10 && !last) {
                return;
            }
            std::printf("epoch %d iteration %d/%d mean loss %.4f lr %.3g %.0f img/s ETA %s\n",
                        it.epoch + 1, it.iteration + 1, it.iterations_per_epoch, mean_loss, it.lr,
                        it.images_per_second, clock_text(it.eta_seconds).c_str());
        }
        std::fflush(stdout);
        last_print_ = now;
    }

    void on_epoch(const wb::EpochStats& e) override {
        end_bar();
        std::printf("epoch %d: train loss %.4f acc %.2f%%", e.epoch + 1, e.train_loss,
                    100 * e.train_accuracy);
        if (e.has_val) {
            std::printf(" | val loss %.4f acc %.2f%%", e.val_loss, 100 * e.val_accuracy);
        }
        std::printf(" | %.1f s%s\n", e.seconds, e.is_best ? " | best" : "");
        std::fflush(stdout);
    }

    void on_finished(const wb::RunResult& r) override {
        end_bar();
        if (r.refused) {
            std::printf("refused: nothing was trained\n");
            std::fflush(stdout);
            return;
        }
        std::printf("%s after %d epochs in %.1f s", r.status.c_str(), r.epochs_done, r.seconds);
        if (r.best_epoch >= 0) {
            std::printf("; best epoch %d (%s acc %.2f%%)", r.best_epoch + 1,
                        r.has_val ? "val" : "train, no validation split,",
                        100 * r.best_val_accuracy);
        }
        std::printf("\n");
        if (r.has_test) {
            std::printf("test: loss %.4f accuracy %.2f%% (best checkpoint)\n", r.test_loss,
                        100 * r.test_accuracy);
        }
        if (!r.run_dir.empty()) {
            std::printf("run folder: %s\n", r.run_dir.c_str());
        }
        std::fflush(stdout);
    }

    void on_lr_step(const wb::LrFinderStep& step) override {
        const auto now = std::chrono::steady_clock::now();
        const double since = std::chrono::duration<double>(now - last_print_).count();
        if (tty_) {
            if (since < 0.1) {
                return;
            }
            std::printf("\rrange test step %d  lr %.3g  loss %.4f  smoothed %.4f   ",
                        step.iteration + 1, step.lr, step.loss, step.smoothed);
            bar_open_ = true;
        } else {
            if (since < 10) {
                return;
            }
            std::printf("range test step %d lr %.3g loss %.4f smoothed %.4f\n", step.iteration + 1,
                        step.lr, step.loss, step.smoothed);
        }
        std::fflush(stdout);
        last_print_ = now;
    }

    void lr_finished(const wb::LrFindReport& report) {
        end_bar();
        if (report.status == "failed") {
            return;
        }
        const auto& r = report.result;
        std::printf("range test %s after %zu steps in %.1f s", r.stop_reason.c_str(), r.lrs.size(),
                    report.seconds);
        if (!r.lrs.empty()) {
            std::printf(" (lr %.3g to %.3g)", r.lrs.front(), r.lrs.back());
        }
        std::printf("\nsuggested learning rates:\n%s", wb::suggestions_text(r).c_str());
        for (const auto& warning : r.warnings) {
            std::printf("warning: %s\n", warning.c_str());
        }
        std::printf("range test folder: %s\n", report.run_dir.c_str());
        std::fflush(stdout);
    }

private:
    void end_bar() {
        if (bar_open_) {
            std::printf("\n");
            bar_open_ = false;
        }
    }

    bool tty_;
    std::string lr_find_dir_;
    bool bar_open_ = false;
    std::chrono::steady_clock::time_point last_print_{};
};

/// Flags that override the experiment file, applied only when given.
struct TrainFlags {
    std::string config;
    std::string save_config;
    std::string find_lr;  ///< train: run the range test first and train at this suggestion
    wb::Experiment e;
};

void add_train_flags(CLI::App* cmd, TrainFlags& f) {
    cmd->add_option("-c,--config", f.config, "Experiment YAML file")->check(CLI::ExistingFile);
    cmd->add_option("--save-config", f.save_config,
                    "Write the resulting experiment as YAML and exit without training");
    cmd->add_option("-d,--data", f.e.data.root, "Dataset folder (default: the demo dataset)");
    cmd->add_option("--val-fraction", f.e.data.val_fraction, "Validation fraction when split");
    cmd->add_option("--test-fraction", f.e.data.test_fraction, "Test fraction when split");
    cmd->add_option("--workers", f.e.data.workers, "Background decoding threads");
    cmd->add_option("--cache-mb", f.e.data.cache_mb, "Decoded-image cache, MiB");
    cmd->add_option("--disk-cache-mb", f.e.data.disk_cache_mb, "Videos: disk cache, MiB");
    cmd->add_option("-m,--model", f.e.model.arch,
                    "Architecture: small_cnn, resnet18, resnet34, resnet50 (at least 8 px), "
                    "vgg16_bn (at least 32 px), c3d_bn (video clips) or torchscript");
    cmd->add_option("--weights", f.e.model.weights,
                    "Pretrained weights: a .pt file (TorchScript, plain-dict state dict, "
                    "checkpoint) or a run folder; sets their preprocessing unless "
                    "--image-size, --channels or --normalize say otherwise");
    cmd->add_option("--finetune", f.e.model.finetune, "all, head or last_stages");
    cmd->add_option("--stages", f.e.model.stages, "last_stages: backbone stages that train");
    cmd->add_option("--backbone-lr-factor", f.e.model.backbone_lr_factor,
                    "Backbone rate / head rate, in (0, 1]");
    cmd->add_option("--unfreeze-epoch", f.e.model.unfreeze_epoch,
                    "Every layer trains from this epoch on (head or last_stages)");
    cmd->add_option("--optimizer", f.e.optimizer.type, "sgd, adam or adamw");
    cmd->add_option("--lr", f.e.optimizer.lr, "Learning rate");
    cmd->add_option("--momentum", f.e.optimizer.momentum, "SGD momentum");
    cmd->add_option("--weight-decay", f.e.optimizer.weight_decay, "Weight decay");
    cmd->add_option("--schedule", f.e.schedule.policy,
                    "constant, step, multistep, cosine or onecycle (peak rate: --lr)");
    cmd->add_option("--step-epochs", f.e.schedule.step_epochs, "Step decay period, epochs");
    cmd->add_option("--gamma", f.e.schedule.gamma, "Step decay factor");
    cmd->add_option("--pct-start", f.e.schedule.pct_start, "onecycle: fraction of steps rising");
    cmd->add_option("--div-factor", f.e.schedule.div_factor, "onecycle: start rate = lr / this");
    cmd->add_option("-e,--epochs", f.e.epochs, "Epochs");
    cmd->add_option("-b,--batch-size", f.e.batch_size, "Batch size");
    cmd->add_option("--grad-accumulation", f.e.grad_accumulation,
                    "Batches summed into one optimizer step");
    cmd->add_option("--start-lr", f.e.lr_finder.start_lr, "Range test: first rate");
    cmd->add_option("--end-lr", f.e.lr_finder.end_lr, "Range test: last rate");
    cmd->add_option("--num-iter", f.e.lr_finder.num_iter, "Range test: optimizer steps");
    cmd->add_option("--lr-mode", f.e.lr_finder.mode, "Range test: exponential or linear");
    cmd->add_option("--smooth-beta", f.e.lr_finder.smooth_beta,
                    "Range test: EMA factor of the smoothed loss");
    cmd->add_option(
        "--diverge-threshold", f.e.lr_finder.diverge_threshold,
        "Range test: stop when the smoothed loss passes this times the best (0: never)");
    cmd->add_option("--lr-loss", f.e.lr_finder.loss,
                    "Range test: train (each batch) or val (a fixed validation subset)");
    cmd->add_option("--val-batches", f.e.lr_finder.val_batches,
                    "Range test with --lr-loss val: batches of the validation subset");
    cmd->add_option("--image-size", f.e.preprocessing.image_size, "Input side in pixels");
    cmd->add_option("--resize", f.e.preprocessing.resize, "Short side before cropping");
    cmd->add_option("--clip-frames", f.e.preprocessing.clip_frames,
                    "Videos: frames per clip (0: images)");
    cmd->add_option("--frame-stride", f.e.preprocessing.frame_stride, "Videos: frames between two");
    cmd->add_option("--clips-per-video", f.e.preprocessing.clips_per_video, "Videos");
    cmd->add_option("--width", f.e.model.width, "c3d_bn: channel multiplier");
    cmd->add_option("--channels", f.e.preprocessing.channels, "Input channels, 1 or 3");
    cmd->add_option("--normalize", f.e.preprocessing.normalize, "none, imagenet or dataset");
    cmd->add_flag("--hflip", f.e.preprocessing.hflip, "Random horizontal flips");
    cmd->add_option("--random-crop", f.e.preprocessing.crop_padding,
                    "Random crops with this padding");
    cmd->add_option("--seed", f.e.seed, "Random seed");
    cmd->add_option("--threads", f.e.threads, "Compute threads (0: all cores)");
    cmd->add_option("--device", f.e.device, "auto (CUDA when there is one), cpu, cuda or cuda:N");
    cmd->add_flag("--mixed-precision", f.e.mixed_precision, "CUDA: float16 autocast");
    cmd->add_option("--checkpoint-every", f.e.checkpoint.every_steps,
                    "Also save resume.pt every N optimizer steps (0: end of epochs only)");
    cmd->add_option("--early-stopping", f.e.early_stopping.patience,
                    "Stop when val_loss has not improved for this many epochs");
    cmd->add_option("--runs", f.e.runs_dir, "Folder for run folders");
    cmd->add_option("--log-dir", f.e.tensorboard.log_dir,
                    "TensorBoard: a folder shared by runs (default: tensorboard/ in each run)");
    cmd->add_flag("--no-tensorboard", "Write no TensorBoard event files");
    cmd->add_option("-n,--name", f.e.name, "Run name");
}

/// Starts from the config file (or defaults) and applies each flag the user gave.
wb::Experiment resolve_experiment(CLI::App* cmd, const TrainFlags& f) {
    wb::Experiment e = f.config.empty() ? wb::Experiment{} : wb::load_experiment(f.config);
    auto given = [&](const char* name) { return cmd->get_option(name)->count() > 0; };
    const wb::Experiment& g = f.e;
    if (given("--data"))
        e.data.root = g.data.root;
    if (given("--val-fraction"))
        e.data.val_fraction = g.data.val_fraction;
    if (given("--test-fraction"))
        e.data.test_fraction = g.data.test_fraction;
    if (given("--workers"))
        e.data.workers = g.data.workers;
    if (given("--cache-mb"))
        e.data.cache_mb = g.data.cache_mb;
    if (given("--disk-cache-mb"))
        e.data.disk_cache_mb = g.data.disk_cache_mb;
    if (given("--model"))
        e.model.arch = g.model.arch;
    if (given("--weights")) {
        e.model.weights = g.model.weights;
        e.preprocessing = wb::pretrained_preprocessing(e.model.weights, e.preprocessing);
    }
    if (given("--finetune"))
        e.model.finetune = g.model.finetune;
    if (given("--stages"))
        e.model.stages = g.model.stages;
    if (given("--backbone-lr-factor"))
        e.model.backbone_lr_factor = g.model.backbone_lr_factor;
    if (given("--unfreeze-epoch"))
        e.model.unfreeze_epoch = g.model.unfreeze_epoch;
    if (given("--optimizer"))
        e.optimizer.type = g.optimizer.type;
    if (given("--lr"))
        e.optimizer.lr = g.optimizer.lr;
    if (given("--momentum"))
        e.optimizer.momentum = g.optimizer.momentum;
    if (given("--weight-decay"))
        e.optimizer.weight_decay = g.optimizer.weight_decay;
    if (given("--schedule"))
        e.schedule.policy = g.schedule.policy;
    if (given("--step-epochs"))
        e.schedule.step_epochs = g.schedule.step_epochs;
    if (given("--gamma"))
        e.schedule.gamma = g.schedule.gamma;
    if (given("--pct-start"))
        e.schedule.pct_start = g.schedule.pct_start;
    if (given("--div-factor"))
        e.schedule.div_factor = g.schedule.div_factor;
    if (given("--grad-accumulation"))
        e.grad_accumulation = g.grad_accumulation;
    if (given("--start-lr"))
        e.lr_finder.start_lr = g.lr_finder.start_lr;
    if (given("--end-lr"))
        e.lr_finder.end_lr = g.lr_finder.end_lr;
    if (given("--num-iter"))
        e.lr_finder.num_iter = g.lr_finder.num_iter;
    if (given("--lr-mode"))
        e.lr_finder.mode = g.lr_finder.mode;
    if (given("--smooth-beta"))
        e.lr_finder.smooth_beta = g.lr_finder.smooth_beta;
    if (given("--diverge-threshold"))
        e.lr_finder.diverge_threshold = g.lr_finder.diverge_threshold;
    if (given("--lr-loss"))
        e.lr_finder.loss = g.lr_finder.loss;
    if (given("--val-batches"))
        e.lr_finder.val_batches = g.lr_finder.val_batches;
    if (given("--epochs"))
        e.epochs = g.epochs;
    if (given("--batch-size"))
        e.batch_size = g.batch_size;
    if (given("--image-size"))
        e.preprocessing.image_size = g.preprocessing.image_size;
    if (given("--channels"))
        e.preprocessing.channels = g.preprocessing.channels;
    if (given("--resize"))
        e.preprocessing.resize = g.preprocessing.resize;
    if (given("--clip-frames"))
        e.preprocessing.clip_frames = g.preprocessing.clip_frames;
    if (given("--frame-stride"))
        e.preprocessing.frame_stride = g.preprocessing.frame_stride;
    if (given("--clips-per-video"))
        e.preprocessing.clips_per_video = g.preprocessing.clips_per_video;
    if (given("--width"))
        e.model.width = g.model.width;
    if (given("--normalize"))
        e.preprocessing.normalize = g.preprocessing.normalize;
    if (given("--hflip"))
        e.preprocessing.hflip = true;
    if (given("--random-crop")) {
        e.preprocessing.random_crop = g.preprocessing.crop_padding >= 0;
        e.preprocessing.crop_padding = g.preprocessing.crop_padding;
    }
    if (given("--seed"))
        e.seed = g.seed;
    if (given("--threads"))
        e.threads = g.threads;
    if (given("--device"))
        e.device = g.device;
    if (given("--mixed-precision"))
        e.mixed_precision = true;
    if (given("--checkpoint-every"))
        e.checkpoint.every_steps = g.checkpoint.every_steps;
    if (given("--early-stopping")) {
        e.early_stopping.enabled = true;
        e.early_stopping.patience = g.early_stopping.patience;
    }
    if (given("--runs"))
        e.runs_dir = g.runs_dir;
    if (given("--log-dir"))
        e.tensorboard.log_dir = g.tensorboard.log_dir;
    if (given("--no-tensorboard"))
        e.tensorboard.enabled = false;
    if (given("--name"))
        e.name = g.name;
    wb::validate(e);
    return e;
}

/// 0 finished, 130 cancelled, 2 refused before any step, 1 failed.
int exit_status(const wb::RunResult& r) {
    if (r.status == "finished") {
        return 0;
    }
    if (r.status == "cancelled") {
        return 130;
    }
    return r.refused ? 2 : 1;
}

int run_train(CLI::App* cmd, const TrainFlags& flags) {
    wb::Experiment e = resolve_experiment(cmd, flags);
    if (!flags.save_config.empty()) {
        // As in a run folder's experiment.yaml: the file repeats the run from any folder.
        namespace fs = std::filesystem;
        for (std::string* path : {&e.data.root, &e.runs_dir, &e.tensorboard.log_dir}) {
            if (!path->empty()) {
                *path = fs::absolute(*path).lexically_normal().string();
            }
        }
        wb::save_experiment(e, flags.save_config);
        std::printf("wrote %s\n", flags.save_config.c_str());
        return 0;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    ConsoleObserver observer(isatty(STDOUT_FILENO));
    std::string lr_find_dir;
    // The steepest point leaves out the first 10 and the last 5 points of the curve.
    constexpr int kSteepestSteps = 16;
    if (flags.find_lr == "steepest" && e.lr_finder.num_iter < kSteepestSteps) {
        std::fprintf(stderr,
                     "error: --find-lr steepest needs a range test of at least %d steps "
                     "(lr_finder.num_iter is %d): it leaves out the first 10 and the last 5\n",
                     kSteepestSteps, e.lr_finder.num_iter);
        return 2;
    }
    if (!flags.find_lr.empty()) {
        const wb::LrFindReport report = wb::find_learning_rate(e, observer, g_cancel);
        observer.lr_finished(report);
        if (report.status != "finished") {
            return report.status == "cancelled" ? 130 : 1;
        }
        const auto& r = report.result;
        const std::optional<double> lr = flags.find_lr == "steepest" ? r.steepest
                                         : flags.find_lr == "valley" ? r.valley
                                                                     : r.min_div10;
        if (!lr) {
            std::fprintf(
                stderr,
                "error: the range test gave no '%s' suggestion (the loss never fell, or too few "
                "finite points); "
                "see %s\n",
                flags.find_lr.c_str(), report.run_dir.c_str());
            return 1;
        }
        const std::string name = flags.find_lr == "min_div10" ? "min/10" : flags.find_lr;
        for (const auto& warning : r.warnings) {
            if (warning.rfind(name + " ", 0) == 0) {
                std::fprintf(stderr,
                             "error: not training at the %s suggestion: %s. Pick a rate from "
                             "%s/lr_find.png and pass it with --lr.\n",
                             flags.find_lr.c_str(), warning.c_str(), report.run_dir.c_str());
                return 1;
            }
        }
        e.optimizer.lr = *lr;
        lr_find_dir = report.run_dir;
        std::printf("training at the %s rate %.3g%s\n", flags.find_lr.c_str(), *lr,
                    e.schedule.policy == "onecycle" ? " (the 1cycle peak)" : "");
    }
    // Into the run folder as soon as it exists, so that the TensorBoard logs get the curve.
    observer.set_lr_find_dir(lr_find_dir);
    return exit_status(wb::train(e, observer, g_cancel));
}

int run_lr_find(CLI::App* cmd, const TrainFlags& flags) {
    wb::Experiment e = resolve_experiment(cmd, flags);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    ConsoleObserver observer(isatty(STDOUT_FILENO));
    const wb::LrFindReport report = wb::find_learning_rate(e, observer, g_cancel);
    observer.lr_finished(report);
    if (report.status == "finished") {
        return 0;
    }
    return report.status == "cancelled" ? 130 : 1;
}

int run_resume(const std::string& run_dir, const std::string& data_root) {
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    ConsoleObserver observer(isatty(STDOUT_FILENO));
    return exit_status(wb::resume(run_dir, observer, g_cancel, data_root));
}

/// Prints the top classes of each image; a file that cannot be read is reported and skipped.
int run_predict(const std::string& run_dir, const std::string& checkpoint,
                const std::vector<std::string>& images, int top) {
    const wb::Predictor predictor(run_dir, checkpoint);
    int failed = 0;
    for (const auto& image : images) {
        try {
            const auto classes = predictor.predict(image, top);
            std::printf("%s\n", image.c_str());
            for (const auto& [name, probability] : classes) {
                std::printf("  %6.2f%%  %s\n", 100 * probability, name.c_str());
            }
        } catch (const wb::DataError& error) {
            std::fprintf(stderr, "error: %s\n", error.what());
            ++failed;
        }
    }
    return failed == 0 ? 0 : 1;
}

int run_evaluate(const std::string& run_dir, const wb::EvaluationOptions& options) {
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    ConsoleObserver observer(isatty(STDOUT_FILENO));
    wb::EvaluationReport report;
    try {
        report = wb::evaluate_checkpoint(run_dir, options, observer, g_cancel);
    } catch (const wb::DataError& error) {
        std::fprintf(stderr, "error: %s\n", error.what());
        return 1;
    }
    if (report.cancelled) {
        std::fprintf(stderr, "evaluation cancelled; no files written\n");
        return 130;
    }
    std::printf("%s\nwrote evaluation.json, confusion_matrix.csv and predictions.csv to %s\n",
                wb::evaluation_text(report).c_str(), report.output_dir.c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Workbench: train image classifiers from a folder, headless"};
    app.require_subcommand(1);

    TrainFlags train_flags;
    auto* train = app.add_subcommand("train", "Train a model (from --config and/or flags)");
    add_train_flags(train, train_flags);
    train
        ->add_option("--find-lr", train_flags.find_lr,
                     "Run the range test first and train at its suggestion (the 1cycle peak or "
                     "the fixed rate); the test's files go into the run folder")
        ->check(CLI::IsMember({"steepest", "valley", "min_div10"}));

    TrainFlags lr_flags;
    auto* lr_find = app.add_subcommand(
        "lr-find", "Run the learning-rate range test and print the suggested rates");
    add_train_flags(lr_find, lr_flags);

    std::string resume_dir, resume_data;
    auto* resume =
        app.add_subcommand("resume", "Continue a stopped or killed run from its last checkpoint");
    resume->add_option("run_dir", resume_dir, "Run folder")
        ->required()
        ->check(CLI::ExistingDirectory);
    resume
        ->add_option("--data", resume_data,
                     "The run's dataset, when it is no longer where experiment.yaml says (a run "
                     "trained in a container)")
        ->check(CLI::ExistingDirectory);

    std::string predict_dir, predict_checkpoint = "best.pt";
    std::vector<std::string> predict_images;
    int predict_top = 5;
    auto* predict = app.add_subcommand(
        "predict", "Classify image files with a trained run (its checkpoint and preprocessing)");
    predict->add_option("run_dir", predict_dir, "Run folder")
        ->required()
        ->check(CLI::ExistingDirectory);
    predict->add_option("images", predict_images, "Image files")->required();
    predict->add_option("--checkpoint", predict_checkpoint,
                        "Checkpoint in the run folder (best.pt, last.pt) or a path");
    predict->add_option("--top", predict_top, "How many classes to print")
        ->check(CLI::Range(1, 1000));

    std::string eval_dir;
    wb::EvaluationOptions eval_options;
    auto* evaluate = app.add_subcommand(
        "evaluate",
        "Evaluate a run's checkpoint on one split: per-class report and confusion matrix, "
        "written to RUN_DIR/evaluation/<split>/");
    evaluate->add_option("run_dir", eval_dir, "Run folder")
        ->required()
        ->check(CLI::ExistingDirectory);
    evaluate
        ->add_option("--checkpoint", eval_options.checkpoint,
                     "Checkpoint file in the run folder, or a path")
        ->capture_default_str();
    evaluate
        ->add_option("--split", eval_options.split,
                     "Split of the run's dataset: test, val or train")
        ->capture_default_str();

    int launch_nproc = 2;
    int launch_port = 0;
    auto* launch = app.add_subcommand(
        "launch",
        "Start several processes on this machine that train as one data-parallel run, as "
        "torchrun does: launch --nproc-per-node N train ...");
    launch->add_option("--nproc-per-node", launch_nproc, "Processes to start")
        ->check(CLI::Range(1, 256))
        ->capture_default_str();
    launch->add_option("--master-port", launch_port, "Rendezvous port (0: a free one)")
        ->check(CLI::Range(0, 65535));
    // Everything after launch's own options is the command each process runs.
    launch->prefix_command();
    std::string export_dir, export_out, export_checkpoint = "best.pt";
    auto* export_cmd = app.add_subcommand(
        "export",
        "Write a run's model for Python: weights.pt (a state dict torchvision's model "
        "of the same name loads) and model.json (classes, preprocessing)");
    export_cmd->add_option("run_dir", export_dir, "Run folder")
        ->required()
        ->check(CLI::ExistingDirectory);
    export_cmd->add_option("-o,--out", export_out, "Output folder")->required();
    export_cmd
        ->add_option("--checkpoint", export_checkpoint,
                     "Checkpoint in the run folder (best.pt, last.pt) or a path")
        ->capture_default_str();

    std::string scan_dir;
    wb::SplitOptions scan_split;
    auto* scan = app.add_subcommand("scan", "Scan a dataset folder and print its summary");
    scan->add_option("folder", scan_dir, "Dataset folder")->required();
    scan->add_option("--val-fraction", scan_split.val_fraction, "Validation fraction when split");
    scan->add_option("--test-fraction", scan_split.test_fraction, "Test fraction when split");
    scan->add_option("--clip-frames", scan_split.clip_frames,
                     "A folder of videos: frames per clip");
    scan->add_option("--frame-stride", scan_split.frame_stride, "Videos: frames between two");
    scan->add_option("--clips-per-video", scan_split.clips_per_video, "Videos");

    std::string idx_images, idx_labels, idx_out, idx_classes = "numbers";
    int idx_limit = 0;
    auto* idx =
        app.add_subcommand("import-idx", "Write IDX files (MNIST family) as an image folder");
    idx->add_option("--images", idx_images, "IDX images file (.gz or plain)")->required();
    idx->add_option("--labels", idx_labels, "IDX labels file (.gz or plain)")->required();
    idx->add_option("-o,--out", idx_out, "Output folder: one subfolder per class")->required();
    idx->add_option("--classes", idx_classes, "Class folder names: numbers or fashion-mnist")
        ->check(CLI::IsMember({"numbers", "fashion-mnist"}));
    idx->add_option("--limit-per-class", idx_limit, "Keep at most N images per class");

    std::string fm_src = "/usr/share/datasets/fashion-mnist", fm_out;
    auto* fm = app.add_subcommand("import-fashion-mnist",
                                  "Write Debian's Fashion-MNIST as OUT/train and OUT/test");
    fm->add_option("-o,--out", fm_out, "Output folder")->required();
    fm->add_option("--source", fm_src, "Folder with the IDX files")->check(CLI::ExistingDirectory);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        // --help and --version exit 0; a wrong command line is a refused setting: 2.
        const int status = app.exit(error);
        return status == 0 ? 0 : 2;
    }

    try {
        if (*train) {
            return run_train(train, train_flags);
        }
        if (*lr_find) {
            return run_lr_find(lr_find, lr_flags);
        }
        if (*resume) {
            return run_resume(resume_dir, resume_data);
        }
        if (*launch) {
            return launch_local_processes(launch_nproc, launch_port, launch->remaining());
        }
        if (*predict) {
            return run_predict(predict_dir, predict_checkpoint, predict_images, predict_top);
        }
        if (*evaluate) {
            return run_evaluate(eval_dir, eval_options);
        }
        if (*export_cmd) {
            for (const auto& file : wb::export_run(export_dir, export_out, export_checkpoint)) {
                std::printf("wrote %s\n", file.c_str());
            }
            return 0;
        }
        if (*scan) {
            auto s = wb::scan_image_folder(scan_dir, scan_split);
            for (const auto& f : s.skipped) {
                std::fprintf(stderr, "warning: skipped %s: %s\n", f.path.c_str(), f.reason.c_str());
            }
            std::printf("%s", s.summary().c_str());  // lists the warnings too
            return 0;
        }
        if (*idx) {
            std::vector<std::string> names;
            if (idx_classes == "fashion-mnist") {
                names = wb::fashion_mnist_classes();
            }
            int n = wb::export_idx_to_folder(idx_images, idx_labels, idx_out, names, idx_limit);
            std::printf("wrote %d images to %s\n", n, idx_out.c_str());
            return 0;
        }
        if (*fm) {
            namespace fs = std::filesystem;
            const auto& names = wb::fashion_mnist_classes();
            for (auto [phase, prefix] : {std::pair{"train", "train"}, {"test", "t10k"}}) {
                auto src = [&](const char* kind) {
                    return (fs::path(fm_src) / (std::string(prefix) + kind)).string();
                };
                auto out = (fs::path(fm_out) / phase).string();
                int n = wb::export_idx_to_folder(src("-images-idx3-ubyte.gz"),
                                                 src("-labels-idx1-ubyte.gz"), out, names);
                std::printf("wrote %d images to %s\n", n, out.c_str());
            }
            return 0;
        }
    } catch (const std::exception& ex) {
        std::fprintf(stderr, "error: %s\n", ex.what());
        return 2;
    }
    return 0;
}
