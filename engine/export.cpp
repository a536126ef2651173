#include "engine/export.h"

#include <torch/csrc/jit/serialization/pickle.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/errors.h"
#include "engine/experiment.h"
#include "engine/models.h"
#include "engine/pretrained.h"
#include "engine/run_folder.h"
#include "engine/state_dict.h"
#include "engine/torchscript_model.h"

namespace fs = std::filesystem;

namespace wb {

namespace {

std::vector<std::string> read_classes(const fs::path& file) {
    std::ifstream in(file);
    if (!in) {
        throw DataError(file.string() + ": cannot read the class names");
    }
    std::vector<std::string> classes;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty()) {
            classes.push_back(line);
        }
    }
    return classes;
}

// The Python lines that build the exported model; empty when torchvision has no such model.
std::string python_lines(const std::string& arch, int classes, int channels) {
    if (arch == "small_cnn") {
        return {};
    }
    if (arch == "torchscript") {
        return "import torch\nmodel = torch.jit.load('model.pt')\nmodel.eval()\n";
    }
    std::string text = "import torch, torchvision\nmodel = torchvision.models." + arch +
                       "(num_classes=" + std::to_string(classes) + ")\n";
    if (channels != 3) {
        const std::string c = std::to_string(channels);
        text += arch == "vgg16_bn"
                    ? "model.features[0] = torch.nn.Conv2d(" + c + ", 64, 3, padding=1)\n"
                    : "model.conv1 = torch.nn.Conv2d(" + c + ", 64, 7, 2, 3, bias=False)\n";
    }
    return text + "model.load_state_dict(torch.load('weights.pt'))\nmodel.eval()\n";
}

void write_file(const fs::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
        throw DataError(write_failure(path.string(), "cannot write the file"));
    }
}

}  // namespace

std::vector<std::string> export_run(const std::string& run_dir, const std::string& out_dir,
                                    const std::string& checkpoint) {
    const fs::path dir(run_dir);
    const fs::path yaml = dir / "experiment.yaml";
    if (!fs::is_regular_file(yaml)) {
        throw DataError(yaml.string() + ": no such file; " + run_dir + " is not a run folder");
    }
    const Experiment e = load_experiment(yaml.string());
    const std::vector<std::string> classes = read_classes(dir / "classes.txt");
    const fs::path weights =
        fs::path(checkpoint).is_absolute() ? fs::path(checkpoint) : dir / checkpoint;
    if (!fs::is_regular_file(weights)) {
        throw DataError(weights.string() + ": no such checkpoint");
    }
    const Preprocessing& p = e.preprocessing;
    ModelSpec spec{e.model.arch, static_cast<int>(classes.size()), p.channels,
                   e.model.arch == "torchscript" ? e.model.weights : std::string()};
    auto model = make_model(spec);
    try {
        load_state_dict(*model, read_weights(weights.string()));
    } catch (const StateDictError& error) {
        throw DataError(weights.string() + ": " + error.what());
    }

    c10::Dict<std::string, at::Tensor> dict;
    for (const auto& [name, tensor] : state_dict(*model)) {
        dict.insert(name, tensor.detach().cpu().contiguous());
    }
    const std::vector<char> bytes = torch::jit::pickle_save(c10::IValue(dict));

    nlohmann::ordered_json info;
    info["format"] = "workbench export 1";
    info["arch"] = e.model.arch;
    info["num_classes"] = classes.size();
    info["in_channels"] = p.channels;
    info["classes"] = classes;
    info["preprocessing"] = {
        {"image_size", p.image_size},
        {"resize_short_side", p.resize_side()},
        {"crop", "centre"},
        {"channels", p.channels},
        {"scale", "pixels / 255 (16-bit images / 65535)"},
        {"mean", p.mean},
        {"std", p.std},
        {"input", "[N, " + std::to_string(p.channels) + ", " + std::to_string(p.image_size) + ", " +
                      std::to_string(p.image_size) + "] float32, RGB order"}};
    const std::string python = python_lines(e.model.arch, spec.num_classes, p.channels);
    info["python"] = python.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(python);
    info["source"] = {{"run", fs::absolute(dir).lexically_normal().string()},
                      {"checkpoint", weights.filename().string()}};

    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec) {
        throw DataError(write_failure(out_dir, ec.message()));
    }
    const fs::path weights_out = fs::path(out_dir) / "weights.pt";
    const fs::path json_out = fs::path(out_dir) / "model.json";
    write_file(weights_out, std::string(bytes.begin(), bytes.end()));
    write_file(json_out, info.dump(2) + "\n");
    std::vector<std::string> written{weights_out.string(), json_out.string()};
    const fs::path script_out = fs::path(out_dir) / "model.pt";
    try {
        if (save_torchscript(*model, script_out.string())) {
            written.push_back(script_out.string());
        }
    } catch (const c10::Error& error) {
        throw DataError(write_failure(script_out.string(), error.what_without_backtrace()));
    }
    return written;
}

}  // namespace wb
