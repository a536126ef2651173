#include "engine/training_setup.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "engine/devices.h"
#include "engine/errors.h"
#include "engine/trainer.h"
#include "engine/transforms.h"

namespace fs = std::filesystem;

namespace wb {

namespace {

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

void scan_data(TrainingSetup& s, Observer& observer) {
    Experiment& e = s.experiment;
    e.data.root = absolute_path(e.data.root.empty() ? demo_dataset_dir() : e.data.root);
    e.runs_dir = absolute_path(e.runs_dir);
    if (!e.tensorboard.log_dir.empty()) {
        e.tensorboard.log_dir = absolute_path(e.tensorboard.log_dir);
    }
    SplitOptions split;
    split.val_fraction = e.data.val_fraction;
    split.test_fraction = e.data.test_fraction;
    split.seed = e.data.split_seed;
    split.verify_decode = e.data.verify_decode;
    split.clip_frames = e.preprocessing.clip_frames;
    split.frame_stride = e.preprocessing.frame_stride;
    split.clips_per_video = e.preprocessing.clips_per_video;
    s.scan = scan_image_folder(e.data.root, split);
    const DatasetScan& scan = s.scan;
    if (scan.val_held_out) {
        observer.on_message(Level::Info, "no val/ folder: " + std::to_string(scan.val.size()) +
                                             " training images are held out for validation");
    }
    if (scan.train.empty()) {
        throw DataError(e.data.root + ": the training split has no images");
    }
    const auto counts = scan.class_counts(Split::Train);
    if (std::count_if(counts.begin(), counts.end(), [](int n) { return n > 0; }) < 2) {
        throw DataError(e.data.root +
                        ": a classifier needs at least two classes with training images");
    }
    constexpr std::size_t kNamedSkips = 20;
    for (std::size_t i = 0; i < scan.skipped.size() && i < kNamedSkips; ++i) {
        observer.on_message(Level::Warning,
                            "skipped " + scan.skipped[i].path + ": " + scan.skipped[i].reason);
    }
    if (scan.skipped.size() > kNamedSkips) {
        observer.on_message(Level::Warning,
                            std::to_string(scan.skipped.size() - kNamedSkips) +
                                " more files were skipped; skipped.txt in the run folder lists "
                                "them all");
    }
    for (const auto& w : scan.warnings) {
        observer.on_message(Level::Warning, w);
    }
    observer.on_dataset(dataset_info(scan));
    resolve_normalization(&e.preprocessing, scan.train);
}

void build_model(TrainingSetup& s, Observer& observer) {
    const Experiment& e = s.experiment;
    s.device = torch::Device(resolve_device(e.device));
    if (e.device == "auto") {
        observer.on_message(Level::Info, "device: " + s.device.str() +
                                             (s.device.is_cuda() ? "" : " (no CUDA device found)"));
    }
    if (e.mixed_precision && !s.device.is_cuda()) {
        observer.on_message(Level::Warning,
                            "mixed_precision is for CUDA devices; on the CPU the run trains in "
                            "float32");
    }
    torch::manual_seed(e.seed);
    ModelSpec spec;
    spec.arch = e.model.arch;
    spec.num_classes = static_cast<int>(s.scan.classes.size());
    spec.in_channels = e.preprocessing.channels;
    spec.clip_frames = e.preprocessing.clip_frames;
    spec.image_size = e.preprocessing.image_size;
    spec.width = e.model.width;
    s.model = make_model(spec);
    s.model->to(s.device);
    s.optimizer = make_optimizer(e.optimizer, s.model->parameters());
}

void make_loaders(TrainingSetup& s, Observer& observer) {
    const Experiment& e = s.experiment;
    LoaderOptions& lo = s.train_options;
    lo.batch_size = e.batch_size;
    lo.seed = e.seed;
    lo.workers = e.data.workers;
    lo.cache_bytes = static_cast<std::size_t>(e.data.cache_mb) << 20;
    lo.disk_cache_bytes = static_cast<std::size_t>(e.data.disk_cache_mb) << 20;
    lo.disk_cache_dir = e.data.cache_dir;
    // Batch norm cannot train on a last batch of a single image: leave it out.
    lo.drop_last = s.scan.train.size() % static_cast<std::size_t>(e.batch_size) == 1;
    if (lo.drop_last) {
        observer.on_message(Level::Info,
                            "the last training batch would hold one image, which batch norm "
                            "cannot train on; it is left out of each epoch");
    }
    s.train_loader = std::make_unique<Loader>(s.scan.train, e.preprocessing, lo);
    s.val_loader = s.eval_loader(s.scan.val);
}

}  // namespace

std::unique_ptr<Loader> TrainingSetup::eval_loader(const std::vector<Sample>& samples) const {
    LoaderOptions lo = train_options;
    lo.drop_last = false;
    lo.shuffle = false;
    lo.train = false;
    return std::make_unique<Loader>(samples, experiment.preprocessing, lo);
}

TrainingSetup prepare_training(const Experiment& experiment, Observer& observer) {
    TrainingSetup s;
    s.experiment = experiment;
    set_threads(experiment.threads);
    validate(experiment);
    scan_data(s, observer);
    build_model(s, observer);
    make_loaders(s, observer);
    return s;
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

std::string error_text(const std::exception& error) {
    if (const auto* c10 = dynamic_cast<const c10::Error*>(&error)) {
        return c10->what_without_backtrace();
    }
    return error.what();
}

}  // namespace wb
