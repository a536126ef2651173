#include "engine/trainer.h"

#include <torch/torch.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include "engine/errors.h"
#include "engine/image_folder.h"
#include "engine/loader.h"
#include "engine/models.h"
#include "engine/run_folder.h"
#include "engine/train_schedule.h"
#include "engine/transforms.h"

namespace fs = std::filesystem;

namespace wb {

namespace {

// The momentum of a group: SGD's momentum, Adam's and AdamW's beta1; 0 for other optimizers.
double group_momentum(const torch::optim::OptimizerOptions& options) {
    if (const auto* sgd = dynamic_cast<const torch::optim::SGDOptions*>(&options)) {
        return sgd->momentum();
    }
    if (const auto* adam = dynamic_cast<const torch::optim::AdamOptions*>(&options)) {
        return std::get<0>(adam->betas());
    }
    if (const auto* adamw = dynamic_cast<const torch::optim::AdamWOptions*>(&options)) {
        return std::get<0>(adamw->betas());
    }
    return 0.0;
}

// libtorch's SGD reads the momentum at each step and starts its momentum buffer at the first
// step with a momentum above 0, so a cycled momentum works from a configured momentum of 0.
void set_group_momentum(torch::optim::OptimizerOptions& options, double momentum) {
    if (auto* sgd = dynamic_cast<torch::optim::SGDOptions*>(&options)) {
        sgd->momentum(momentum);
    } else if (auto* adam = dynamic_cast<torch::optim::AdamOptions*>(&options)) {
        adam->betas({momentum, std::get<1>(adam->betas())});
    } else if (auto* adamw = dynamic_cast<torch::optim::AdamWOptions*>(&options)) {
        adamw->betas({momentum, std::get<1>(adamw->betas())});
    } else {
        throw std::logic_error("the schedule sets a momentum, which this optimizer does not have");
    }
}

}  // namespace

ScheduleSpec schedule_spec(const Experiment& e, long long steps_per_epoch) {
    const ScheduleConfig& c = e.schedule;
    ScheduleSpec s;
    s.policy = c.policy;
    s.lr = e.optimizer.lr;
    s.step_size = c.step_epochs * steps_per_epoch;
    s.gamma = c.gamma;
    for (int epoch : c.milestones) {
        s.milestones.push_back(epoch * steps_per_epoch);
    }
    s.t_max = 0;  // the whole run after the warm-up
    s.eta_min = c.eta_min;
    s.max_lr = e.optimizer.lr;
    s.pct_start = c.pct_start;
    s.anneal_strategy = c.anneal;
    s.three_phase = c.three_phase;
    s.div_factor = c.div_factor;
    s.final_div_factor = c.final_div_factor;
    s.cycle_momentum = c.cycle_momentum;
    s.base_momentum = c.base_momentum;
    s.max_momentum = c.max_momentum;
    s.warmup_steps = c.warmup_steps;
    s.warmup_start_factor = c.warmup_start_factor;
    return s;
}

AppliedSchedule apply_schedule(torch::optim::Optimizer& optimizer, const Schedule& schedule,
                               long long step) {
    auto& groups = optimizer.param_groups();
    if (groups.empty()) {
        throw std::logic_error("apply_schedule: the optimizer has no parameter group");
    }
    const double lr = schedule.lr(step);
    for (auto& group : groups) {
        group.options().set_lr(lr);
        if (schedule.has_momentum()) {
            set_group_momentum(group.options(), schedule.momentum(step));
        }
    }
    const auto& first = groups.front().options();
    return {first.get_lr(), group_momentum(first)};
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

/// A path as the user typed it, with a leading ~ expanded and made absolute, so that the
/// saved experiment repeats the run from any working folder.
std::string absolute_path(const std::string& path) {
    std::string p = path;
    const char* home = std::getenv("HOME");
    if (home && (p == "~" || p.rfind("~/", 0) == 0)) {
        p = home + p.substr(1);
    }
    std::error_code ec;
    fs::path abs = fs::absolute(p, ec);
    return ec ? p : abs.lexically_normal().string();
}

/// The message of an exception, without the C++ backtrace that libtorch appends.
std::string error_text(const std::exception& ex) {
    if (const auto* c10 = dynamic_cast<const c10::Error*>(&ex)) {
        return c10->what_without_backtrace();
    }
    return ex.what();
}

DatasetInfo dataset_info(const DatasetScan& scan) {
    DatasetInfo info;
    info.root = scan.root;
    info.classes = scan.classes;
    info.train_counts = scan.class_counts(Split::Train);
    info.val_counts = scan.class_counts(Split::Val);
    info.test_counts = scan.class_counts(Split::Test);
    info.skipped = static_cast<int>(scan.skipped.size());
    info.summary = scan.summary();
    return info;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerConfig& c,
                                                        std::vector<torch::Tensor> params) {
    if (c.type == "sgd") {
        return std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(c.lr)
                                                               .momentum(c.momentum)
                                                               .nesterov(c.nesterov)
                                                               .weight_decay(c.weight_decay));
    }
    if (c.type == "adam") {
        return std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(c.lr)
                                                                .betas({c.beta1, c.beta2})
                                                                .eps(c.eps)
                                                                .weight_decay(c.weight_decay));
    }
    if (c.type == "adamw") {
        return std::make_unique<torch::optim::AdamW>(params, torch::optim::AdamWOptions(c.lr)
                                                                 .betas({c.beta1, c.beta2})
                                                                 .eps(c.eps)
                                                                 .weight_decay(c.weight_decay));
    }
    throw ConfigError("", 0, 0, "optimizer.type: unknown optimizer '" + c.type + "'");
}

void save_checkpoint(torch::nn::Module& model, const RunFolder& run, const std::string& name) {
    torch::serialize::OutputArchive archive;
    model.save(archive);
    archive.save_to(run.temp_path(name));
    run.publish(name);
}

void load_checkpoint(torch::nn::Module& model, const std::string& path) {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    model.load(archive);
}

struct EvalResult {
    double loss = 0;
    double accuracy = 0;
    std::int64_t count = 0;
};

EvalResult evaluate(Classifier& model, Loader& loader, const torch::Device& device,
                    const std::atomic<bool>& cancel) {
    torch::NoGradGuard no_grad;
    model.eval();
    EvalResult r;
    double loss_sum = 0;
    std::int64_t correct = 0;
    loader.start_epoch(0);
    while (auto batch = loader.next()) {
        if (cancel) {
            break;
        }
        auto images = batch->images.to(device);
        auto labels = batch->labels.to(device);
        auto logits = model.forward(images);
        loss_sum += torch::nn::functional::cross_entropy(
                        logits, labels,
                        torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                        .item<double>();
        correct += logits.argmax(1).eq(labels).sum().item<std::int64_t>();
        r.count += labels.size(0);
    }
    if (r.count > 0) {
        r.loss = loss_sum / r.count;
        r.accuracy = static_cast<double>(correct) / r.count;
    }
    return r;
}

/// The body of train(): throws on errors, which train() turns into a failed result.
class Run {
public:
    Run(const Experiment& e, Observer& obs, const std::atomic<bool>& cancel)
        : e_(e), obs_(obs), cancel_(cancel), device_(torch::kCPU) {}

    RunResult execute();
    /// What is known so far, for a run that failed part way.
    RunResult partial() const {
        RunResult r = result_;
        r.seconds = seconds_since(start_);
        return r;
    }

private:
    void prepare_data();
    void prepare_model();
    void prepare_schedule(long long steps_per_epoch);
    bool train_epoch(int epoch, Loader& loader);
    void warn(const std::string& text) { obs_.on_message(Level::Warning, text); }
    std::string last_good_checkpoint() const {
        return result_.epochs_done > 0
                   ? "The last good checkpoint (epoch " + std::to_string(result_.epochs_done) +
                         ") is kept in " + run_->file("last.pt")
                   : "No epoch had finished, so there is no checkpoint.";
    }

    const Clock::time_point start_ = Clock::now();
    Experiment e_;
    Observer& obs_;
    const std::atomic<bool>& cancel_;
    torch::Device device_;
    DatasetScan scan_;
    std::shared_ptr<Classifier> model_;
    std::unique_ptr<torch::optim::Optimizer> optimizer_;
    std::optional<Schedule> schedule_;
    std::unique_ptr<RunFolder> run_;
    CsvLog iterations_;
    RunResult result_;
    Clock::time_point first_step_end_;
    long long step_ = 0;
    long long total_steps_ = 0;
    double last_lr_ = 0;  ///< the rate of the latest optimizer step
    double epoch_loss_sum_ = 0;
    std::int64_t epoch_correct_ = 0;
    std::int64_t epoch_count_ = 0;
};

void Run::prepare_data() {
    e_.data.root = absolute_path(e_.data.root.empty() ? demo_dataset_dir() : e_.data.root);
    e_.runs_dir = absolute_path(e_.runs_dir);
    SplitOptions split;
    split.val_fraction = e_.data.val_fraction;
    split.test_fraction = e_.data.test_fraction;
    split.seed = e_.data.split_seed;
    split.verify_decode = e_.data.verify_decode;
    scan_ = scan_image_folder(e_.data.root, split);
    if (scan_.val_held_out) {
        obs_.on_message(Level::Info, "no val/ folder: " + std::to_string(scan_.val.size()) +
                                         " training images are held out for validation");
    }
    if (scan_.train.empty()) {
        throw DataError(e_.data.root + ": the training split has no images");
    }
    const auto counts = scan_.class_counts(Split::Train);
    if (std::count_if(counts.begin(), counts.end(), [](int n) { return n > 0; }) < 2) {
        throw DataError(e_.data.root +
                        ": a classifier needs at least two classes with "
                        "training images");
    }
    constexpr size_t kNamedSkips = 20;
    for (size_t i = 0; i < scan_.skipped.size() && i < kNamedSkips; ++i) {
        warn("skipped " + scan_.skipped[i].path + ": " + scan_.skipped[i].reason);
    }
    if (scan_.skipped.size() > kNamedSkips) {
        warn(std::to_string(scan_.skipped.size() - kNamedSkips) +
             " more files were skipped; skipped.txt in the run folder lists them all");
    }
    for (const auto& w : scan_.warnings) {
        warn(w);
    }
    obs_.on_dataset(dataset_info(scan_));
    resolve_normalization(&e_.preprocessing, scan_.train);
}

void Run::prepare_model() {
    device_ = torch::Device(e_.device);
    if (device_.is_cuda() && !torch::cuda::is_available()) {
        throw ConfigError("", 0, 0,
                          "device: '" + e_.device +
                              "' asked for, but CUDA is not "
                              "available in this build or on this machine");
    }
    torch::manual_seed(e_.seed);
    ModelSpec spec;
    spec.arch = e_.model.arch;
    spec.num_classes = static_cast<int>(scan_.classes.size());
    spec.in_channels = e_.preprocessing.channels;
    model_ = make_model(spec);
    model_->to(device_);
    optimizer_ = make_optimizer(e_.optimizer, model_->parameters());
}

bool Run::train_epoch(int epoch, Loader& loader) {
    model_->train();
    loader.start_epoch(epoch);
    const int per_epoch = static_cast<int>(loader.num_batches());
    epoch_loss_sum_ = 0;
    epoch_correct_ = 0;
    epoch_count_ = 0;
    double rate = 0;
    int iteration = 0;
    auto last = Clock::now();
    while (auto batch = loader.next()) {
        if (cancel_) {
            return false;
        }
        auto images = batch->images.to(device_);
        auto labels = batch->labels.to(device_);
        model_->zero_grad(/*set_to_none=*/true);
        auto logits = model_->forward(images);
        auto loss = torch::nn::functional::cross_entropy(logits, labels);
        const double loss_value = loss.item<double>();
        if (!std::isfinite(loss_value)) {
            throw TrainingError(
                "the loss became " + std::string(std::isnan(loss_value) ? "NaN" : "infinite") +
                " at epoch " + std::to_string(epoch + 1) + ", iteration " +
                std::to_string(iteration + 1) + "; the learning rate is probably too high. " +
                last_good_checkpoint());
        }
        loss.backward();
        const AppliedSchedule applied = apply_schedule(*optimizer_, *schedule_, step_);
        optimizer_->step();
        last_lr_ = applied.lr;

        const auto n = labels.size(0);
        const auto correct = logits.argmax(1).eq(labels).sum().item<std::int64_t>();
        epoch_loss_sum_ += loss_value * n;
        epoch_correct_ += correct;
        epoch_count_ += n;

        const double dt = std::max(seconds_since(last), 1e-9);
        last = Clock::now();
        rate = rate == 0 ? n / dt : 0.9 * rate + 0.1 * (n / dt);
        IterationStats it;
        it.epoch = epoch;
        it.iteration = iteration;
        it.step = step_;
        it.iterations_per_epoch = per_epoch;
        it.batch_size = static_cast<int>(n);
        it.loss = loss_value;
        it.accuracy = static_cast<double>(correct) / n;
        it.lr = applied.lr;
        it.momentum = applied.momentum;
        it.images_per_second = rate;
        // Timed from the end of the first step, which carries one-off start-up costs.
        if (step_ == 0) {
            first_step_end_ = Clock::now();
        }
        const double per_step = step_ == 0 ? dt : seconds_since(first_step_end_) / step_;
        it.eta_seconds = per_step * static_cast<double>(total_steps_ - step_ - 1);
        iterations_.row({double(step_), double(epoch + 1), double(iteration + 1), it.loss,
                         it.accuracy, it.lr, it.momentum});
        obs_.on_iteration(it);
        ++step_;
        ++iteration;
    }
    return !cancel_;
}

// Fails the run before its first step when the schedule does not fit the run's length.
void Run::prepare_schedule(long long steps_per_epoch) {
    total_steps_ = steps_per_epoch * e_.epochs;
    try {
        schedule_ = Schedule::make(schedule_spec(e_, steps_per_epoch), total_steps_);
    } catch (const ConfigError& error) {
        throw ConfigError("", 0, 0,
                          std::string(error.what()) + " (this run has " +
                              std::to_string(total_steps_) +
                              " optimizer steps: " + std::to_string(steps_per_epoch) +
                              " per epoch, " + std::to_string(e_.epochs) + " epochs)");
    }
}

RunResult Run::execute() {
    const auto run_start = start_;
    set_threads(e_.threads);
    validate(e_);
    prepare_data();
    prepare_model();

    LoaderOptions lo;
    lo.batch_size = e_.batch_size;
    lo.seed = e_.seed;
    lo.workers = e_.data.workers;
    lo.cache_bytes = static_cast<std::size_t>(e_.data.cache_mb) << 20;
    // Batch norm cannot train on a last batch of a single image: leave it out.
    lo.drop_last = scan_.train.size() % static_cast<std::size_t>(e_.batch_size) == 1;
    if (lo.drop_last) {
        obs_.on_message(Level::Info,
                        "the last training batch would hold one image, which batch "
                        "norm cannot train on; it is left out of each epoch");
    }
    Loader train_loader(scan_.train, e_.preprocessing, lo);
    lo.drop_last = false;
    lo.shuffle = false;
    lo.train = false;
    Loader val_loader(scan_.val, e_.preprocessing, lo);

    // One optimizer step per batch: the loader's count, drop_last included, is the same as
    // wb::total_steps(train size, batch_size, 1, 1, drop_last).
    prepare_schedule(static_cast<long long>(train_loader.num_batches()));

    run_ = std::make_unique<RunFolder>(RunFolder::create(e_.runs_dir, e_.name));
    result_.run_dir = run_->path();
    save_experiment(e_, run_->file("experiment.yaml"));
    std::string classes;
    for (const auto& c : scan_.classes) {
        classes += c + "\n";
    }
    run_->write_text("classes.txt", classes);
    std::string skipped;
    for (const auto& s : scan_.skipped) {
        skipped += s.path + "\t" + s.reason + "\n";
    }
    run_->write_text("skipped.txt", skipped);
    run_->write_text("dataset.txt", scan_.summary());

    RunInfo info;
    info.run_dir = run_->path();
    info.model = e_.model.arch;
    info.parameters = parameter_count(*model_);
    info.epochs = e_.epochs;
    info.iterations_per_epoch = static_cast<int>(train_loader.num_batches());
    obs_.on_run_started(info);
    obs_.on_message(Level::Info, "run folder: " + run_->path());

    iterations_ = CsvLog(run_->file("iterations.csv"),
                         {"step", "epoch", "iteration", "loss", "accuracy", "lr", "momentum"});
    CsvLog metrics(run_->file("metrics.csv"), {"epoch", "train_loss", "train_accuracy", "val_loss",
                                               "val_accuracy", "seconds", "lr"});
    double best = -1;
    for (int epoch = 0; epoch < e_.epochs; ++epoch) {
        const auto epoch_start = Clock::now();
        if (!train_epoch(epoch, train_loader)) {
            result_.status = "cancelled";
            break;
        }
        EpochStats es;
        es.epoch = epoch;
        es.train_loss = epoch_loss_sum_ / std::max<std::int64_t>(epoch_count_, 1);
        es.train_accuracy =
            static_cast<double>(epoch_correct_) / std::max<std::int64_t>(epoch_count_, 1);
        if (!scan_.val.empty()) {
            auto v = evaluate(*model_, val_loader, device_, cancel_);
            if (cancel_) {
                result_.status = "cancelled";
                break;
            }
            if (!std::isfinite(v.loss)) {
                throw TrainingError("the validation loss became " + std::to_string(v.loss) +
                                    " at epoch " + std::to_string(epoch + 1) +
                                    ": the model diverged; the learning rate is probably too "
                                    "high. " +
                                    last_good_checkpoint());
            }
            es.has_val = true;
            result_.has_val = true;
            es.val_loss = v.loss;
            es.val_accuracy = v.accuracy;
        }
        es.seconds = seconds_since(epoch_start);
        es.lr = last_lr_;
        es.eta_seconds = seconds_since(run_start) / (epoch + 1) * (e_.epochs - epoch - 1);
        const double score = es.has_val ? es.val_accuracy : es.train_accuracy;
        save_checkpoint(*model_, *run_, "last.pt");
        if (score > best) {
            best = score;
            result_.best_epoch = epoch;
            result_.best_val_accuracy = score;
            es.is_best = true;
            save_checkpoint(*model_, *run_, "best.pt");
        }
        es.best_epoch = result_.best_epoch;
        metrics.row({double(epoch + 1), es.train_loss, es.train_accuracy,
                     es.has_val ? es.val_loss : NAN, es.has_val ? es.val_accuracy : NAN, es.seconds,
                     es.lr});
        result_.epochs_done = epoch + 1;
        obs_.on_epoch(es);
    }
    if (!scan_.test.empty() && result_.status != "cancelled" && result_.best_epoch >= 0) {
        load_checkpoint(*model_, run_->file("best.pt"));
        Loader test_loader(scan_.test, e_.preprocessing, lo);
        auto t = evaluate(*model_, test_loader, device_, cancel_);
        result_.has_test = true;
        result_.test_loss = t.loss;
        result_.test_accuracy = t.accuracy;
    }
    if (result_.status.empty()) {
        result_.status = "finished";
    }
    result_.seconds = seconds_since(run_start);
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
    out << YAML::EndMap;
    std::ofstream(fs::path(r.run_dir) / "result.yaml") << out.c_str() << "\n";
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
    RunResult result;
    try {
        result = run.execute();
    } catch (const std::exception& ex) {
        result = run.partial();
        result.status = "failed";
        result.message = error_text(ex);
        observer.on_message(Level::Error, result.message);
    }
    write_result(result);
    observer.on_finished(result);
    return result;
}

}  // namespace wb
