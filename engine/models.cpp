#include "engine/models.h"

#include "engine/errors.h"
#include "engine/experiment.h"

namespace wb {

std::shared_ptr<Classifier> make_model(const ModelSpec& spec) {
    if (spec.num_classes < 1) {
        throw ConfigError(
            "", 0, 0, "a model needs at least one class, got " + std::to_string(spec.num_classes));
    }
    if (spec.in_channels < 1) {
        throw ConfigError(
            "", 0, 0,
            "a model needs at least one input channel, got " + std::to_string(spec.in_channels));
    }
    if (spec.arch == "small_cnn") {
        return make_small_cnn(spec.in_channels, spec.num_classes);
    }
    if (spec.arch == "resnet18") {
        return make_resnet18(spec.in_channels, spec.num_classes);
    }
    if (spec.arch == "vgg16_bn") {
        return make_vgg16_bn(spec.in_channels, spec.num_classes);
    }
    if (spec.arch == "c3d_bn") {
        return make_c3d_bn(spec);
    }
    std::string names;
    for (const auto& name : available_models()) {
        names += (names.empty() ? "" : ", ") + name;
    }
    throw ConfigError("", 0, 0,
                      "unknown architecture '" + spec.arch + "' (available: " + names + ")");
}

std::int64_t parameter_count(const torch::nn::Module& module, bool trainable_only) {
    std::int64_t count = 0;
    for (const auto& parameter : module.parameters(/*recurse=*/true)) {
        if (!trainable_only || parameter.requires_grad()) {
            count += parameter.numel();
        }
    }
    return count;
}

}  // namespace wb
