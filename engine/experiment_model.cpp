// The 'model' section of the experiment file: its keys, checks and how it is written, and the
// preprocessing that pretrained weights bring with them.

#include <filesystem>
#include <string>
#include <vector>

#include "engine/experiment_io.h"
#include "engine/model_stages.h"

namespace wb::detail {

const std::vector<std::string>& model_keys() {
    static const std::vector<std::string> keys = {
        "arch", "weights", "finetune", "stages", "backbone_lr_factor", "unfreeze_epoch", "width"};
    return keys;
}

const std::vector<std::string>& finetune_modes() {
    static const std::vector<std::string> modes = {"all", "head", "last_stages"};
    return modes;
}

void check_model(const Experiment& e, const Fail& fail) {
    const ModelConfig& m = e.model;
    check_one_of(fail, "model.arch", m.arch, available_models(), "architecture");
    check_one_of(fail, "model.finetune", m.finetune, finetune_modes(), "fine-tuning mode");
    if (m.arch == "torchscript" && m.weights.empty()) {
        fail({"model.arch"},
             "model.arch: torchscript needs model.weights, the TorchScript "
             "archive (torch.jit.script(model).save(path)) to train");
    }
    if (m.arch == "torchscript" && m.finetune == "last_stages") {
        fail({"model.finetune"},
             "model.finetune: last_stages needs one of the built-in "
             "architectures, whose stages are known; a TorchScript model "
             "trains all or its head");
    }
    check_at_least(fail, "model.stages", m.stages, 1);
    const int backbone = static_cast<int>(model_stages(m.arch).size()) - 1;
    if (m.finetune == "last_stages" && backbone > 0 && m.stages > backbone) {
        fail({"model.stages"}, "model.stages: " + m.arch + " has " + std::to_string(backbone) +
                                   " backbone stages, got " + std::to_string(m.stages) +
                                   " (finetune: all trains every layer)");
    }
    check_range(fail, "model.backbone_lr_factor", m.backbone_lr_factor, 0, 1, true, false);
    check_at_least(fail, "model.unfreeze_epoch", m.unfreeze_epoch, 0);
    if (m.unfreeze_epoch > 0 && m.finetune == "all") {
        fail({"model.unfreeze_epoch", "model.finetune"},
             "model.unfreeze_epoch needs model.finetune: head or last_stages (with 'all' every "
             "layer trains from the start)");
    }
    if (m.unfreeze_epoch == 1 || m.unfreeze_epoch > e.epochs) {
        fail({"model.unfreeze_epoch"},
             "model.unfreeze_epoch must be 0 (never) or an epoch from "
             "2 to epochs (" +
                 std::to_string(e.epochs) + "), got " + std::to_string(m.unfreeze_epoch));
    }
}

void write_model(Writer& w, const ModelConfig& m) {
    w.section("model");
    w.key("arch", yaml_string(m.arch), 2, join(available_models()));
    w.key("weights", yaml_string(m.weights), 2,
          "empty: random; a .pt file (TorchScript, plain-dict state dict) or a run folder");
    w.key("finetune", yaml_string(m.finetune), 2, join(finetune_modes()));
    w.key("stages", std::to_string(m.stages), 2, "last_stages: backbone stages that train");
    w.key("backbone_lr_factor", number_text(m.backbone_lr_factor), 2,
          "backbone rate / head rate, in (0, 1]");
    w.key("unfreeze_epoch", std::to_string(m.unfreeze_epoch), 2,
          "every layer trains from this epoch; 0: never");
    w.key("width", number_text(m.width), 2, "c3d_bn: channel multiplier");
}

}  // namespace wb::detail

namespace wb {

Preprocessing pretrained_preprocessing(const std::string& weights, Preprocessing defaults) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path run_yaml = fs::path(weights) / "experiment.yaml";
    if (fs::is_directory(weights, ec) && fs::is_regular_file(run_yaml, ec)) {
        const Preprocessing run = load_experiment(run_yaml.string()).preprocessing;
        defaults.image_size = run.image_size;
        defaults.resize = run.resize;
        defaults.channels = run.channels;
        defaults.normalize = run.normalize;
        defaults.mean = run.mean;
        defaults.std = run.std;
        return defaults;
    }
    defaults.image_size = 224;
    defaults.resize = 0;
    defaults.channels = 3;
    defaults.normalize = "imagenet";
    defaults.mean.clear();
    defaults.std.clear();
    return defaults;
}

}  // namespace wb
