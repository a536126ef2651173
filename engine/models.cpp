#include "engine/models.h"

#include <torch/nn/modules/batchnorm.h>

#include "engine/errors.h"
#include "engine/experiment.h"
#include "engine/torchscript_model.h"

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
    if (spec.arch == "torchscript") {
        if (spec.torchscript.empty()) {
            throw ConfigError("", 0, 0,
                              "model.arch: torchscript needs model.weights, the TorchScript "
                              "archive to train");
        }
        return make_torchscript_classifier(spec.torchscript, spec.num_classes);
    }
    if (spec.arch == "resnet34") {
        return make_resnet34(spec.in_channels, spec.num_classes);
    }
    if (spec.arch == "resnet50") {
        return make_resnet50(spec.in_channels, spec.num_classes);
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

void Classifier::train(bool on) {
    torch::nn::Module::train(on);
    if (!on) {
        return;
    }
    for (const auto& module : modules(/*include_self=*/false)) {
        if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
            const bool frozen = bn->weight.defined() && !bn->weight.requires_grad() &&
                                bn->bias.defined() && !bn->bias.requires_grad();
            if (frozen) {
                bn->eval();
            }
        }
    }
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
