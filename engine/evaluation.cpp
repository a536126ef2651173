#include "engine/evaluation.h"

#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/errors.h"
#include "engine/image_folder.h"
#include "engine/loader.h"
#include "engine/models.h"
#include "engine/run_folder.h"
#include "engine/training_setup.h"

namespace fs = std::filesystem;

namespace wb {

namespace {

/// Puts a module's training mode back when it goes out of scope.
class ModeGuard {
public:
    explicit ModeGuard(torch::nn::Module& module)
        : module_(module), training_(module.is_training()) {}
    ~ModeGuard() { module_.train(training_); }
    ModeGuard(const ModeGuard&) = delete;
    ModeGuard& operator=(const ModeGuard&) = delete;

private:
    torch::nn::Module& module_;
    bool training_;
};

template <typename T>
void append(std::vector<T>& out, const torch::Tensor& t) {
    const torch::Tensor c = t.contiguous();
    out.insert(out.end(), c.data_ptr<T>(), c.data_ptr<T>() + c.numel());
}

Split parse_split(const std::string& name) {
    for (Split s : {Split::Train, Split::Val, Split::Test}) {
        if (name == split_name(s)) {
            return s;
        }
    }
    throw ConfigError("", 0, 0,
                      "split: unknown split '" + name + "' (expected train, val or test)");
}

std::vector<std::string> read_classes(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        throw DataError(path + ": cannot open the class list of the run");
    }
    std::vector<std::string> classes;
    for (std::string line; std::getline(in, line);) {
        classes.push_back(line);
    }
    return classes;
}

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& name : names) {
        out += (out.empty() ? "" : ", ") + name;
    }
    return out;
}

void load_weights(Classifier& model, const std::string& path, const std::string& arch,
                  std::size_t classes) {
    torch::serialize::InputArchive archive;
    try {
        archive.load_from(path);
        model.load(archive);
    } catch (const c10::Error& error) {
        throw DataError(path + ": cannot load the checkpoint into " + arch + " with " +
                        std::to_string(classes) + " classes (" + error.what_without_backtrace() +
                        ")");
    }
}

}  // namespace

Predictions collect_predictions(Classifier& model, Loader& loader, const c10::Device& device,
                                const std::atomic<bool>* cancel, bool with_features) {
    torch::NoGradGuard no_grad;
    ModeGuard mode(model);
    model.eval();
    Predictions p;
    const std::vector<Sample>& samples = loader.samples();
    loader.start_epoch(0);
    while (auto batch = loader.next()) {
        if (cancel && *cancel) {
            break;
        }
        const torch::Tensor images = batch->images.to(device);
        const torch::Tensor labels = batch->labels.to(device);
        torch::Tensor logits;
        if (with_features) {
            const torch::Tensor features = model.features(images);
            logits = model.classify(features);
            append<float>(p.features, features.to(torch::kCPU, torch::kFloat));
            p.feature_size = features.size(1);
        } else {
            logits = model.forward(images);
        }
        p.num_classes = static_cast<int>(logits.size(1));
        const torch::Tensor losses = torch::nn::functional::cross_entropy(
            logits, labels,
            torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
        append<float>(p.probabilities, torch::softmax(logits, 1).to(torch::kCPU, torch::kFloat));
        append<float>(p.losses, losses.to(torch::kCPU, torch::kFloat));
        append<int>(p.labels, batch->labels.to(torch::kInt));
        append<int>(p.predicted, logits.argmax(1).to(torch::kCPU, torch::kInt));
        for (std::int64_t index : batch->indices) {
            p.paths.push_back(samples.at(static_cast<std::size_t>(index)).path);
        }
    }
    return p;
}

std::string write_evaluation_files(const EvaluationReport& report, const std::string& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        throw DataError("cannot create " + dir + ": " + ec.message());
    }
    const RunFolder out = RunFolder::open(dir);
    out.write_text("evaluation.json", evaluation_json(report));
    out.write_text("confusion_matrix.csv",
                   confusion_matrix_csv(report.metrics.confusion, report.classes));
    out.write_text("predictions.csv", predictions_csv(report.predictions, report.classes));
    return out.path();
}

EvaluationReport evaluate_checkpoint(const std::string& run_dir, const EvaluationOptions& options,
                                     Observer& observer, const std::atomic<bool>& cancel) {
    const Split split = parse_split(options.split);
    const RunFolder run = RunFolder::open(run_dir);
    const std::string experiment_file = run.file("experiment.yaml");
    if (!fs::exists(experiment_file)) {
        throw DataError(experiment_file + ": no such file; " + run.path() + " is not a run folder");
    }
    const std::string checkpoint = fs::path(options.checkpoint).is_absolute()
                                       ? options.checkpoint
                                       : run.file(options.checkpoint);
    if (!fs::is_regular_file(checkpoint)) {
        throw DataError(checkpoint + ": no such checkpoint");
    }
    const std::vector<std::string> run_classes = read_classes(run.file("classes.txt"));

    Experiment e = load_experiment(experiment_file);
    validate(e);
    if (e.device != "auto" && torch::Device(e.device).is_cuda() && !torch::cuda::is_available()) {
        observer.on_message(Level::Warning, "the run trained on " + e.device +
                                                ", which is not available here; evaluating on "
                                                "the CPU");
        e.device = "cpu";
    }
    if (e.model.arch != "torchscript") {
        e.model.weights.clear();  // the checkpoint's weights replace them
    }
    const TrainingSetup s = prepare_training(e, observer);
    if (s.scan.classes != run_classes) {
        throw DataError(s.experiment.data.root + ": the classes (" + joined(s.scan.classes) +
                        ") differ from " + run.file("classes.txt") + " (" + joined(run_classes) +
                        "); the dataset changed since the run");
    }
    const std::vector<Sample>& samples = s.scan.split(split);
    if (samples.empty()) {
        throw DataError(s.experiment.data.root + ": the " + options.split +
                        " split has no images, so there is nothing to evaluate");
    }
    load_weights(*s.model, checkpoint, s.experiment.model.arch, run_classes.size());

    EvaluationReport report;
    report.run_dir = run.path();
    report.checkpoint = options.checkpoint;
    report.split = options.split;
    report.classes = run_classes;
    report.predictions =
        collect_predictions(*s.model, *s.eval_loader(samples), s.device, &cancel, options.features);
    report.predictions.num_classes = static_cast<int>(run_classes.size());
    if (cancel) {
        report.cancelled = true;
        return report;
    }
    compute_metrics(report);
    if (options.write_files) {
        report.output_dir = write_evaluation_files(
            report, (fs::path(run.path()) / "evaluation" / options.split).string());
    }
    return report;
}

}  // namespace wb
