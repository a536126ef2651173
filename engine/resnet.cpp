// ResNet-18, -34 and -50 with torchvision's module and parameter names
// (torchvision.models.resnet18, resnet34, resnet50).

#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include "engine/models.h"

namespace wb {

namespace {

namespace nn = torch::nn;

nn::Conv2d conv3x3(int in, int out, int stride) {
    return nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false));
}

/// Two 3x3 convolutions with a shortcut; `downsample` (1x1 conv, BN) when the shape changes.
class BasicBlockImpl : public nn::Module {
public:
    BasicBlockImpl(int in, int out, int stride)
        : conv1_(register_module("conv1", conv3x3(in, out, stride))),
          bn1_(register_module("bn1", nn::BatchNorm2d(out))),
          relu_(register_module("relu", nn::ReLU(nn::ReLUOptions(true)))),
          conv2_(register_module("conv2", conv3x3(out, out, 1))),
          bn2_(register_module("bn2", nn::BatchNorm2d(out))) {
        if (stride != 1 || in != out) {
            downsample_ = register_module(
                "downsample",
                nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)),
                               nn::BatchNorm2d(out)));
        }
    }

    torch::Tensor forward(torch::Tensor x) {
        torch::Tensor identity = downsample_ ? downsample_->forward(x) : x;
        torch::Tensor out = relu_(bn1_(conv1_(x)));
        out = bn2_(conv2_(out));
        out += identity;
        return relu_(out);
    }

private:
    nn::Conv2d conv1_;
    nn::BatchNorm2d bn1_;
    nn::ReLU relu_;
    nn::Conv2d conv2_;
    nn::BatchNorm2d bn2_;
    nn::Sequential downsample_{nullptr};
};
TORCH_MODULE(BasicBlock);

/// torchvision's Bottleneck (ResNet V1.5: the stride is on the 3x3 convolution): 1x1 down to
/// `width` channels, 3x3, 1x1 up to 4 * width, with a shortcut.
class BottleneckImpl : public nn::Module {
public:
    static constexpr int kExpansion = 4;

    BottleneckImpl(int in, int width, int stride)
        : conv1_(register_module("conv1", conv1x1(in, width, 1))),
          bn1_(register_module("bn1", nn::BatchNorm2d(width))),
          conv2_(register_module("conv2", conv3x3(width, width, stride))),
          bn2_(register_module("bn2", nn::BatchNorm2d(width))),
          conv3_(register_module("conv3", conv1x1(width, width * kExpansion, 1))),
          bn3_(register_module("bn3", nn::BatchNorm2d(width * kExpansion))),
          relu_(register_module("relu", nn::ReLU(nn::ReLUOptions(true)))) {
        if (stride != 1 || in != width * kExpansion) {
            downsample_ = register_module("downsample",
                                          nn::Sequential(conv1x1(in, width * kExpansion, stride),
                                                         nn::BatchNorm2d(width * kExpansion)));
        }
    }

    torch::Tensor forward(torch::Tensor x) {
        torch::Tensor identity = downsample_ ? downsample_->forward(x) : x;
        torch::Tensor out = relu_(bn1_(conv1_(x)));
        out = relu_(bn2_(conv2_(out)));
        out = bn3_(conv3_(out));
        out += identity;
        return relu_(out);
    }

private:
    static nn::Conv2d conv1x1(int in, int out, int stride) {
        return nn::Conv2d(nn::Conv2dOptions(in, out, 1).stride(stride).bias(false));
    }

    nn::Conv2d conv1_;
    nn::BatchNorm2d bn1_;
    nn::Conv2d conv2_;
    nn::BatchNorm2d bn2_;
    nn::Conv2d conv3_;
    nn::BatchNorm2d bn3_;
    nn::ReLU relu_;
    nn::Sequential downsample_{nullptr};
};
TORCH_MODULE(Bottleneck);

/// The four stages of a ResNet: `blocks[i]` blocks of 64 << i channels (times 4 for
/// bottlenecks), the first block of stages 2 to 4 halving the resolution.
struct Stages {
    nn::Sequential layers[4];
    int features = 0;  ///< channels out of the last stage
};

Stages make_stages(const int (&blocks)[4], bool bottleneck) {
    Stages stages;
    int in = 64;
    for (int i = 0; i < 4; ++i) {
        const int width = 64 << i;
        const int out = bottleneck ? width * BottleneckImpl::kExpansion : width;
        nn::Sequential layer;
        for (int b = 0; b < blocks[i]; ++b) {
            const int stride = (b == 0 && i > 0) ? 2 : 1;
            if (bottleneck) {
                layer->push_back(Bottleneck(b == 0 ? in : out, width, stride));
            } else {
                layer->push_back(BasicBlock(b == 0 ? in : out, out, stride));
            }
        }
        stages.layers[i] = layer;
        in = out;
    }
    stages.features = in;
    return stages;
}

class ResNet : public Classifier {
public:
    ResNet(int in_channels, int num_classes, Stages stages)
        : features_(stages.features),
          conv1_(register_module(
              "conv1",
              nn::Conv2d(nn::Conv2dOptions(in_channels, 64, 7).stride(2).padding(3).bias(false)))),
          bn1_(register_module("bn1", nn::BatchNorm2d(64))),
          relu_(register_module("relu", nn::ReLU(nn::ReLUOptions(true)))),
          maxpool_(register_module("maxpool",
                                   nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1)))),
          layer1_(register_module("layer1", stages.layers[0])),
          layer2_(register_module("layer2", stages.layers[1])),
          layer3_(register_module("layer3", stages.layers[2])),
          layer4_(register_module("layer4", stages.layers[3])),
          avgpool_(register_module("avgpool", nn::AdaptiveAvgPool2d(1))),
          fc_(register_module("fc", nn::Linear(features_, num_classes))) {
        // As torchvision: He init for convolutions, unit BN; fc keeps Linear's default init.
        for (const auto& module : modules(/*include_self=*/false)) {
            if (auto* conv = module->as<nn::Conv2d>()) {
                nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
            } else if (auto* bn = module->as<nn::BatchNorm2d>()) {
                nn::init::ones_(bn->weight);
                nn::init::zeros_(bn->bias);
            }
        }
    }

    torch::Tensor features(torch::Tensor x) override {
        x = maxpool_(relu_(bn1_(conv1_(x))));
        x = layer4_->forward(layer3_->forward(layer2_->forward(layer1_->forward(x))));
        return torch::flatten(avgpool_(x), 1);
    }
    torch::Tensor classify(torch::Tensor features) override { return fc_(features); }
    std::int64_t feature_size() const override { return features_; }

private:
    std::int64_t features_;  // channels of layer4, pooled to 1x1
    nn::Conv2d conv1_;
    nn::BatchNorm2d bn1_;
    nn::ReLU relu_;
    nn::MaxPool2d maxpool_;
    nn::Sequential layer1_;
    nn::Sequential layer2_;
    nn::Sequential layer3_;
    nn::Sequential layer4_;
    nn::AdaptiveAvgPool2d avgpool_;
    nn::Linear fc_;
};

}  // namespace

std::shared_ptr<Classifier> make_resnet18(int in_channels, int num_classes) {
    return std::make_shared<ResNet>(in_channels, num_classes, make_stages({2, 2, 2, 2}, false));
}

std::shared_ptr<Classifier> make_resnet34(int in_channels, int num_classes) {
    return std::make_shared<ResNet>(in_channels, num_classes, make_stages({3, 4, 6, 3}, false));
}

std::shared_ptr<Classifier> make_resnet50(int in_channels, int num_classes) {
    return std::make_shared<ResNet>(in_channels, num_classes, make_stages({3, 4, 6, 3}, true));
}

}  // namespace wb
