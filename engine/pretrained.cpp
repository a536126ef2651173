#include "engine/pretrained.h"

#include <torch/script.h>

#include <filesystem>
#include <optional>
#include <sstream>

#include "engine/model_stages.h"

namespace wb {

namespace {

std::string sizes_text(const torch::Tensor& t) {
    std::ostringstream text;
    text << t.sizes();
    return text.str();
}

// "3 missing: a, b, c", at most 12 names.
std::string names_text(const std::string& what, const std::vector<std::string>& names) {
    constexpr std::size_t kLimit = 12;
    std::string text = std::to_string(names.size()) + " " + what + ": ";
    for (std::size_t i = 0; i < names.size() && i < kLimit; ++i) {
        text += (i ? ", " : "") + names[i];
    }
    return text + (names.size() > kLimit ? ", ..." : "");
}

const char* const kForms =
    "a TorchScript archive (torch.jit.script(model).save(path)), a plain-dict state dict "
    "(torch.save(dict(model.state_dict()), path)), a checkpoint or export of the workbench, or "
    "a run folder";

// The parameters and buffers of a TorchScript module; nullopt when `path` is not one.
std::optional<StateDict> read_torchscript(const std::string& path, std::string* why) {
    torch::jit::Module module;
    try {
        module = torch::jit::load(path, torch::kCPU);
    } catch (const c10::Error& error) {
        *why = error.what_without_backtrace();
        return std::nullopt;
    }
    StateDict state;
    for (const auto& item : module.named_parameters(/*recurse=*/true)) {
        state[item.name] = item.value.detach();
    }
    for (const auto& item : module.named_buffers(/*recurse=*/true)) {
        state[item.name] = item.value.detach();
    }
    return state;
}

}  // namespace

StateDict read_weights(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        for (const char* name : {"best.pt", "last.pt"}) {
            const fs::path file = fs::path(path) / name;
            if (fs::is_regular_file(file, ec)) {
                return read_weights(file.string());
            }
        }
        throw StateDictError(path + ": a folder without best.pt or last.pt; weights are " + kForms);
    }
    if (!fs::is_regular_file(path, ec)) {
        throw StateDictError(path + ": no such weights file");
    }
    std::string torchscript_error;
    if (auto state = read_torchscript(path, &torchscript_error)) {
        if (state->empty()) {
            throw StateDictError(path + ": a TorchScript archive without parameters");
        }
        return *state;
    }
    try {
        return read_state_dict(path);
    } catch (const StateDictError& error) {
        const std::string dict_error = error.what();
        throw StateDictError(path + ": not a weights file the workbench reads (" + kForms +
                             "). As TorchScript: " + torchscript_error.substr(0, 200) +
                             ". As a state dict: " + dict_error.substr(0, 300));
    }
}

StateDictReport load_pretrained(Classifier& model, const std::string& arch, const StateDict& state,
                                const std::string& source) {
    const auto stages = model_stages(arch);
    const StateDict own = state_dict(model);
    StateDict usable;
    StateDictReport problems;
    std::vector<std::string> new_head;
    for (const auto& [name, tensor] : own) {
        auto it = state.find(name);
        if (it == state.end()) {
            problems.missing.push_back(name);
        } else if (it->second.sizes() != tensor.sizes()) {
            if (!stages.empty() && in_stage(name, stages.back())) {
                new_head.push_back(name + ": " + sizes_text(tensor) + " in the model, " +
                                   sizes_text(it->second) + " in the weights");
            } else {
                problems.mismatched.push_back(name + ": " + sizes_text(tensor) + " in the model, " +
                                              sizes_text(it->second) + " in the weights");
            }
        } else {
            usable[name] = it->second;
        }
    }
    for (const auto& item : state) {
        if (!own.count(item.first)) {
            problems.unexpected.push_back(item.first);
        }
    }
    if (!problems.missing.empty() || !problems.unexpected.empty() || !problems.mismatched.empty()) {
        std::string msg = source + ": the weights do not fit " + arch;
        if (!problems.missing.empty()) {
            msg += "; " + names_text("missing", problems.missing);
        }
        if (!problems.unexpected.empty()) {
            msg += "; " + names_text("unexpected", problems.unexpected);
        }
        if (!problems.mismatched.empty()) {
            msg += "; " + names_text("with another shape", problems.mismatched);
        }
        for (const char* first : {"conv1.weight", "features.0.weight"}) {
            auto ours = own.find(first);
            auto theirs = state.find(first);
            if (ours != own.end() && theirs != state.end() && theirs->second.dim() == 4 &&
                ours->second.dim() == 4 && theirs->second.size(1) != ours->second.size(1)) {
                msg += " (the weights take " + std::to_string(theirs->second.size(1)) +
                       " input channels: set preprocessing.channels to " +
                       std::to_string(theirs->second.size(1)) + ")";
            }
        }
        throw StateDictError(msg);
    }
    StateDictReport report = load_state_dict(model, usable, /*strict=*/false);
    report.missing.clear();  // the new head, listed as mismatched
    report.mismatched = new_head;
    return report;
}

}  // namespace wb
