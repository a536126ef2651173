#include "engine/training_setup.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "engine/devices.h"
#include "engine/errors.h"
#include "engine/finetune.h"
#include "engine/pretrained.h"
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

// Pretrained weights onto the fresh model; a new head when the number of classes differs.
void load_weights(Classifier& model, const Experiment& e, int classes, Observer& observer) {
    const std::string& path = e.model.weights;
    StateDictReport report;
    try {
        report = load_pretrained(model, e.model.arch, read_weights(path), path);
    } catch (const StateDictError& error) {
        throw ConfigError("", 0, 0, std::string("model.weights: ") + error.what());
    }
    std::string text =
        "pretrained weights: " + std::to_string(report.loaded) + " tensors from " + path + "; ";
    text += report.mismatched.empty() ? "the head is pretrained too"
                                      : "a new head for " + std::to_string(classes) + " classes (" +
                                            report.mismatched.front() + ")";
    observer.on_message(Level::Info, text);
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
    if (e.model.arch == "torchscript") {
        spec.torchscript = e.model.weights;
        s.model = make_model(spec);
        observer.on_message(Level::Info, "TorchScript model from " + e.model.weights + ", head " +
                                             s.model->head_prefix() + " for " +
                                             std::to_string(spec.num_classes) + " classes");
    } else {
        s.model = make_model(spec);
        if (!e.model.weights.empty()) {
            load_weights(*s.model, e, spec.num_classes, observer);
        }
    }
    s.model->to(s.device);
    s.optimizer = make_model_optimizer(*s.model, e, &s.lr_factors);
}

void make_loaders(TrainingSetup& s, Observer& observer, Shard shard) {
    const Experiment& e = s.experiment;
    LoaderOptions& lo = s.train_options;
    lo.batch_size = e.batch_size;
    lo.seed = e.seed;
    lo.workers = e.data.workers;
    lo.cache_bytes = static_cast<std::size_t>(e.data.cache_mb) << 20;
    lo.disk_cache_bytes = static_cast<std::size_t>(e.data.disk_cache_mb) << 20;
    lo.disk_cache_dir = e.data.cache_dir;
    lo.shard_rank = shard.rank;
    lo.shard_count = shard.count;
    // Batch norm cannot train on a last batch of a single image: leave it out. Shards leave
    // out a last, partial global batch anyway.
    lo.drop_last =
        shard.count == 1 && s.scan.train.size() % static_cast<std::size_t>(e.batch_size) == 1;
    if (lo.drop_last) {
        observer.on_message(Level::Info,
                            "the last training batch would hold one image, which batch norm "
                            "cannot train on; it is left out of each epoch");
    }
    s.train_loader = std::make_unique<Loader>(s.scan.train, e.preprocessing, lo);
    if (shard.count > 1 && s.train_loader->num_batches() == 0) {
        throw DataError(e.data.root + ": " + std::to_string(s.scan.train.size()) +
                        " training images do not make one global batch of " +
                        std::to_string(e.batch_size) + " images for each of " +
                        std::to_string(shard.count) + " processes");
    }
    s.val_loader = s.eval_loader(s.scan.val);
}

}  // namespace

std::unique_ptr<Loader> TrainingSetup::eval_loader(const std::vector<Sample>& samples) const {
    LoaderOptions lo = train_options;
    lo.drop_last = false;
    lo.shard_rank = 0;
    lo.shard_count = 1;
    lo.shuffle = false;
    lo.train = false;
    return std::make_unique<Loader>(samples, experiment.preprocessing, lo);
}

TrainingSetup prepare_training(const Experiment& experiment, Observer& observer, Shard shard) {
    TrainingSetup s;
    s.experiment = experiment;
    set_threads(experiment.threads);
    validate(experiment);
    scan_data(s, observer);
    build_model(s, observer);
    make_loaders(s, observer, shard);
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

std::unique_ptr<torch::optim::Optimizer> make_model_optimizer(Classifier& model,
                                                              const Experiment& e,
                                                              std::vector<double>* lr_factors) {
    set_trainable(model, e.model, 0);
    // Every parameter is in the optimizer, frozen ones too: they have no gradient, which the
    // optimizers skip, until gradual unfreezing gives them one.
    if (e.model.backbone_lr_factor == 1.0) {
        *lr_factors = {1.0};
        return make_optimizer(e.optimizer, model.parameters());
    }
    ParameterGroups groups = split_parameters(model, e.model.arch);
    auto optimizer = make_optimizer(e.optimizer, groups.head);
    auto options = optimizer->defaults().clone();
    options->set_lr(e.optimizer.lr * e.model.backbone_lr_factor);
    optimizer->add_param_group(
        torch::optim::OptimizerParamGroup(std::move(groups.backbone), std::move(options)));
    *lr_factors = {1.0, e.model.backbone_lr_factor};
    return optimizer;
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
