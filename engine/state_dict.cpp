#include "engine/state_dict.h"

#include <torch/csrc/jit/serialization/pickle.h>

#include <fstream>
#include <iterator>
#include <sstream>

namespace wb {

namespace {

std::string shape_text(const torch::Tensor& t) {
    std::ostringstream text;
    text << t.sizes();
    return text.str();
}

// "3 missing: a, b, c" with at most `limit` names.
std::string name_list(const std::string& what, const std::vector<std::string>& names,
                      std::size_t limit = 20) {
    std::string text = std::to_string(names.size()) + " " + what + ": ";
    for (std::size_t i = 0; i < names.size() && i < limit; ++i) {
        text += (i ? ", " : "") + names[i];
    }
    if (names.size() > limit) {
        text += ", ...";
    }
    return text;
}

}  // namespace

StateDict state_dict(const torch::nn::Module& module) {
    StateDict state;
    for (const auto& item : module.named_parameters(/*recurse=*/true)) {
        state[item.key()] = item.value();
    }
    for (const auto& item : module.named_buffers(/*recurse=*/true)) {
        state[item.key()] = item.value();
    }
    return state;
}

StateDictReport load_state_dict(torch::nn::Module& module, const StateDict& state, bool strict) {
    const StateDict own = state_dict(module);
    StateDictReport report;
    std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;  // destination, source
    for (const auto& [name, destination] : own) {
        auto source = state.find(name);
        if (source == state.end()) {
            report.missing.push_back(name);
        } else if (!source->second.defined() || source->second.sizes() != destination.sizes()) {
            const std::string theirs =
                source->second.defined() ? shape_text(source->second) : "undefined";
            report.mismatched.push_back(name + ": " + shape_text(destination) + " in the module, " +
                                        theirs + " in the dict");
        } else {
            copies.emplace_back(destination, source->second);
        }
    }
    for (const auto& item : state) {
        if (!own.count(item.first)) {
            report.unexpected.push_back(item.first);
        }
    }
    const bool clean =
        report.missing.empty() && report.unexpected.empty() && report.mismatched.empty();
    if (strict && !clean) {
        std::string msg = "the state dict does not fit the model";
        for (const auto* list : {&report.missing, &report.unexpected, &report.mismatched}) {
            if (!list->empty()) {
                const char* what = list == &report.missing      ? "missing"
                                   : list == &report.unexpected ? "unexpected"
                                                                : "with another shape";
                msg += "; " + name_list(what, *list);
            }
        }
        throw StateDictError(msg);
    }
    torch::NoGradGuard no_grad;
    for (auto& [destination, source] : copies) {
        destination.copy_(source);
    }
    report.loaded = copies.size();
    return report;
}

StateDict read_state_dict(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        throw StateDictError(path + ": cannot open the weights file");
    }
    const std::vector<char> bytes((std::istreambuf_iterator<char>(file)),
                                  std::istreambuf_iterator<char>());
    const std::string hint =
        " (save it from Python with torch.save(dict(model.state_dict()), path))";
    c10::IValue value;
    try {
        value = torch::jit::pickle_load(bytes);
    } catch (const c10::Error& error) {
        throw StateDictError(path + ": not a readable state dict" + hint + ": " +
                             error.what_without_backtrace());
    }
    if (!value.isGenericDict()) {
        throw StateDictError(path + ": expected a dict of tensors, got " + value.tagKind() + hint);
    }
    StateDict state;
    for (const auto& entry : value.toGenericDict()) {
        if (!entry.key().isString() || !entry.value().isTensor()) {
            throw StateDictError(path + ": expected a dict of name -> tensor" + hint);
        }
        state[entry.key().toStringRef()] = entry.value().toTensor();
    }
    return state;
}

}  // namespace wb
