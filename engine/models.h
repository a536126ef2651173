#pragma once

// The networks the workbench trains. Module and parameter names match torchvision's, so a
// state dict moves between the two by name. This header pulls in libtorch: include it only
// where a model is built or run.

#include <torch/nn/module.h>
#include <torch/types.h>

#include <memory>
#include <string>

namespace wb {

/// A classifier: images [B, C, H, W] (clips [B, C, T, H, W] for c3d_bn) in, logits
/// [B, num_classes] out. It splits into a
/// feature extractor and a last linear layer: forward(x) == classify(features(x)).
class Classifier : public torch::nn::Module {
public:
    virtual torch::Tensor forward(torch::Tensor x) { return classify(features(x)); }
    /// Penultimate-layer features [B, feature_size()]: what the last linear layer sees,
    /// flattened (after the last ReLU and dropout of VGG's classifier, identity in eval mode).
    virtual torch::Tensor features(torch::Tensor x) = 0;
    /// The last linear layer: features [B, feature_size()] to logits [B, num_classes].
    virtual torch::Tensor classify(torch::Tensor features) = 0;
    /// Width D of features(): 3136 for small_cnn, 512 for resnet18 and resnet34, 2048 for
    /// resnet50, 4096 for vgg16_bn and c3d_bn (4096 times its width).
    virtual std::int64_t feature_size() const = 0;
    /// Training or evaluation mode, except that a batch norm layer whose weight and bias are
    /// both frozen (requires_grad false) stays in eval mode: a fixed feature extractor keeps
    /// its running statistics.
    void train(bool on = true) override;
    /// Name prefix of the head's parameters ("fc.") for a network that model_stages() does not
    /// know (a TorchScript module); empty for ours.
    virtual std::string head_prefix() const { return {}; }
};

struct ModelSpec {
    std::string arch = "small_cnn";
    int num_classes = 10;
    int in_channels = 1;
    /// arch "torchscript": the TorchScript archive (engine/torchscript_model.h); its own first
    /// layer sets the input channels.
    std::string torchscript;
    /// c3d_bn only: the clips' frames and side (fc6's input size follows from them), and the
    /// width multiplier of every layer (0.25: a quarter of the channels and of fc6 and fc7).
    int clip_frames = 16;
    int image_size = 112;
    double width = 1.0;
};

/// Builds an initialized model; throws ConfigError for an unknown architecture.
std::shared_ptr<Classifier> make_model(const ModelSpec& spec);

/// The builders behind make_model(). Initialized as torchvision does: He-normal (fan-out)
/// convolutions, BN weight 1 and bias 0; VGG's linear layers N(0, 0.01).
///
/// Two blocks of two 3x3 convolutions (BN, ReLU) and a max pool, adaptive pooling to 7x7 and one
/// linear layer: for small gray images such as Fashion-MNIST, any size from 4x4 up.
std::shared_ptr<Classifier> make_small_cnn(int in_channels, int num_classes);
/// torchvision.models.resnet18 with `in_channels` inputs to conv1; any size (32x32 and up makes
/// sense: the last feature map is 1/32 of the input).
std::shared_ptr<Classifier> make_resnet18(int in_channels, int num_classes);
/// torchvision.models.resnet34 (basic blocks) and resnet50 (bottlenecks, stride on the 3x3).
std::shared_ptr<Classifier> make_resnet34(int in_channels, int num_classes);
std::shared_ptr<Classifier> make_resnet50(int in_channels, int num_classes);
/// torchvision.models.vgg16_bn with `in_channels` inputs; any size from 32x32 up.
std::shared_ptr<Classifier> make_vgg16_bn(int in_channels, int num_classes);

/// C3D with batch norm after every 3D convolution (see engine/c3d.cpp), for clips
/// [B, C, T, H, W] of spec.clip_frames x spec.image_size x spec.image_size; any size from 1 up
/// (a pooling leaves a dimension that is already 1 alone).
std::shared_ptr<Classifier> make_c3d_bn(const ModelSpec& spec);
/// Inputs of c3d_bn's fc6: 8192 for 16x112x112 at width 1.
std::int64_t c3d_flattened_size(const ModelSpec& spec);

/// Number of scalar parameters, and of those that require gradients.
std::int64_t parameter_count(const torch::nn::Module& module, bool trainable_only = false);

}  // namespace wb
