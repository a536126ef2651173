#pragma once

// The networks the workbench trains. Module and parameter names match torchvision's, so a
// state dict moves between the two by name. This header pulls in libtorch: include it only
// where a model is built or run.

#include <torch/nn/module.h>
#include <torch/types.h>
#include <memory>
#include <string>

namespace wb {

/// A classifier: images [B, C, H, W] in, logits [B, num_classes] out.
class Classifier : public torch::nn::Module {
public:
    virtual torch::Tensor forward(torch::Tensor x) = 0;
};

struct ModelSpec {
    std::string arch = "small_cnn";
    int num_classes = 10;
    int in_channels = 1;
};

/// Builds an initialized model; throws ConfigError for an unknown architecture.
std::shared_ptr<Classifier> make_model(const ModelSpec& spec);

/// Number of scalar parameters, and of those that require gradients.
std::int64_t parameter_count(const torch::nn::Module& module, bool trainable_only = false);

}  // namespace wb
