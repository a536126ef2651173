#include "engine/finetune.h"

#include <map>
#include <mutex>
#include <tuple>
#include <utility>

#include "engine/model_stages.h"
#include "engine/parameter_counts.h"

namespace wb {

std::vector<Stage> stages_of(const Classifier& model, const std::string& arch) {
    auto stages = model_stages(arch);
    if (stages.empty() && !model.head_prefix().empty()) {
        stages.push_back({model.head_prefix()});
    }
    return stages;
}

ParameterGroups split_parameters(const Classifier& model, const std::string& arch) {
    const auto stages = stages_of(model, arch);
    ParameterGroups groups;
    for (const auto& item : model.named_parameters(/*recurse=*/true)) {
        const bool head = !stages.empty() && in_stage(item.key(), stages.back());
        (head ? groups.head : groups.backbone).push_back(item.value());
    }
    return groups;
}

bool trains_in_epoch(const std::string& name, const ModelConfig& config, int epoch,
                     const std::vector<Stage>& stages) {
    if (config.finetune == "all" ||
        (config.unfreeze_epoch > 0 && epoch + 1 >= config.unfreeze_epoch)) {
        return true;
    }
    if (stages.empty()) {
        return true;
    }
    const int count = static_cast<int>(stages.size());
    const int trained = config.finetune == "last_stages" ? config.stages + 1 : 1;
    for (int i = std::max(0, count - trained); i < count; ++i) {
        if (in_stage(name, stages[static_cast<std::size_t>(i)])) {
            return true;
        }
    }
    return false;
}

std::int64_t set_trainable(Classifier& model, const ModelConfig& config, int epoch) {
    const auto stages = stages_of(model, config.arch);
    std::int64_t trainable = 0;
    for (auto& item : model.named_parameters(/*recurse=*/true)) {
        const bool on = trains_in_epoch(item.key(), config, epoch, stages);
        item.value().requires_grad_(on);
        if (!on) {
            item.value().mutable_grad() = torch::Tensor();
        } else {
            trainable += item.value().numel();
        }
    }
    return trainable;
}

ParameterCounts count_parameters(const ModelConfig& config, int classes, int channels) {
    struct Sizes {
        std::vector<std::pair<std::string, std::int64_t>> parameters;
        std::vector<Stage> stages;
    };
    static std::mutex mutex;
    static std::map<std::tuple<std::string, std::string, int, int>, Sizes> cache;
    const std::string script = config.arch == "torchscript" ? config.weights : std::string();
    const auto key = std::make_tuple(config.arch, script, classes, channels);
    std::unique_lock<std::mutex> lock(mutex);
    auto it = cache.find(key);
    if (it == cache.end()) {
        Sizes sizes;
        try {
            const auto model = make_model({config.arch, classes, channels, script});
            for (const auto& item : model->named_parameters(/*recurse=*/true)) {
                sizes.parameters.emplace_back(item.key(), item.value().numel());
            }
            sizes.stages = stages_of(*model, config.arch);
        } catch (const std::exception&) {
            // An unknown architecture or shape: no count.
        }
        it = cache.emplace(key, std::move(sizes)).first;
    }
    ParameterCounts counts;
    for (const auto& [name, numel] : it->second.parameters) {
        counts.all += numel;
        if (trains_in_epoch(name, config, 0, it->second.stages)) {
            counts.trainable += numel;
        }
    }
    return counts;
}

}  // namespace wb
