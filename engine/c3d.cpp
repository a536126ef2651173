// C3D (Tran et al., "Learning Spatiotemporal Features with 3D Convolutional Networks", 2015)
// with a 3D batch norm after every convolution and no dropout. Eight 3x3x3 convolutions, five
// max poolings (the first 1x2x2, the others 2x2x2, the last padded by one pixel in space, so
// that 16x112x112 clips give 512 x 1 x 4 x 4 = 8192 features to fc6), fc6 and fc7 of 4096.

#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include <array>
#include <cmath>
#include <stdexcept>

#include "engine/models.h"

namespace wb {

namespace {

namespace nn = torch::nn;

using Dims = std::array<std::int64_t, 3>;  // T, H, W

/// Channels of conv1, conv2, conv3a/b, conv4a/b, conv5a/b at width 1; 0 marks a pooling.
constexpr int kLayout[] = {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0};
constexpr int kFc = 4096;

std::int64_t scaled(int channels, double width) {
    return std::max<std::int64_t>(1, std::llround(channels * width));
}

/// Adds pooling number `index` (0 to 4) for an input of `dims` and updates `dims`. A dimension
/// already down to 1 is not pooled, so that short clips and small frames still work.
void add_pool(nn::Sequential& features, int index, Dims& dims) {
    const Dims kernel = index == 0 ? Dims{1, 2, 2} : Dims{2, 2, 2};
    const Dims padding = index == 4 ? Dims{0, 1, 1} : Dims{0, 0, 0};
    std::vector<std::int64_t> k(3), p(3);
    for (std::size_t d = 0; d < 3; ++d) {
        const bool keep = dims[d] <= 1;
        k[d] = keep ? 1 : kernel[d];
        p[d] = keep ? 0 : padding[d];
        dims[d] = (dims[d] + 2 * p[d] - k[d]) / k[d] + 1;
    }
    features->push_back(nn::MaxPool3d(nn::MaxPool3dOptions(k).stride(k).padding(p)));
}

class C3dBn : public Classifier {
public:
    C3dBn(const ModelSpec& spec) {
        if (spec.clip_frames < 1 || spec.image_size < 1 || !(spec.width > 0)) {
            throw std::invalid_argument("c3d_bn needs clip_frames, image_size and width above 0");
        }
        nn::Sequential features;
        Dims dims{spec.clip_frames, spec.image_size, spec.image_size};
        std::int64_t channels = spec.in_channels;
        int pools = 0;
        for (int c : kLayout) {
            if (c == 0) {
                add_pool(features, pools++, dims);
                continue;
            }
            const std::int64_t out = scaled(c, spec.width);
            features->push_back(
                nn::Conv3d(nn::Conv3dOptions(channels, out, 3).padding(1).bias(false)));
            features->push_back(nn::BatchNorm3d(out));
            features->push_back(nn::ReLU(nn::ReLUOptions(true)));
            channels = out;
        }
        flat_ = channels * dims[0] * dims[1] * dims[2];
        fc_width_ = scaled(kFc, spec.width);
        features_ = register_module("features", features);
        fc6_ = register_module("fc6", nn::Linear(flat_, fc_width_));
        fc7_ = register_module("fc7", nn::Linear(fc_width_, fc_width_));
        fc_ = register_module("fc", nn::Linear(fc_width_, spec.num_classes));
        for (const auto& module : modules(/*include_self=*/false)) {
            if (auto* conv = module->as<nn::Conv3d>()) {
                nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
            } else if (auto* bn = module->as<nn::BatchNorm3d>()) {
                nn::init::ones_(bn->weight);
                nn::init::zeros_(bn->bias);
            }
        }
    }

    torch::Tensor features(torch::Tensor x) override {
        x = torch::flatten(features_->forward(x), 1);
        x = torch::relu(fc6_(x));
        return torch::relu(fc7_(x));
    }
    torch::Tensor classify(torch::Tensor features) override { return fc_(features); }
    std::int64_t feature_size() const override { return fc_width_; }
    std::int64_t flattened_size() const { return flat_; }

private:
    std::int64_t flat_ = 0;
    std::int64_t fc_width_ = 0;
    nn::Sequential features_{nullptr};
    nn::Linear fc6_{nullptr}, fc7_{nullptr}, fc_{nullptr};
};

}  // namespace

std::shared_ptr<Classifier> make_c3d_bn(const ModelSpec& spec) {
    return std::make_shared<C3dBn>(spec);
}

std::int64_t c3d_flattened_size(const ModelSpec& spec) {
    return C3dBn(spec).flattened_size();
}

}  // namespace wb
