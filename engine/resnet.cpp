// ResNet-18 with torchvision's module and parameter names (torchvision.models.resnet18).

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

nn::Sequential make_layer(int in, int out, int stride) {
    return nn::Sequential(BasicBlock(in, out, stride), BasicBlock(out, out, 1));
}

class ResNet18 : public Classifier {
    static constexpr int kFeatures = 512;  // channels of layer4, pooled to 1x1

public:
    ResNet18(int in_channels, int num_classes)
        : conv1_(register_module(
              "conv1",
              nn::Conv2d(nn::Conv2dOptions(in_channels, 64, 7).stride(2).padding(3).bias(false)))),
          bn1_(register_module("bn1", nn::BatchNorm2d(64))),
          relu_(register_module("relu", nn::ReLU(nn::ReLUOptions(true)))),
          maxpool_(register_module("maxpool",
                                   nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1)))),
          layer1_(register_module("layer1", make_layer(64, 64, 1))),
          layer2_(register_module("layer2", make_layer(64, 128, 2))),
          layer3_(register_module("layer3", make_layer(128, 256, 2))),
          layer4_(register_module("layer4", make_layer(256, 512, 2))),
          avgpool_(register_module("avgpool", nn::AdaptiveAvgPool2d(1))),
          fc_(register_module("fc", nn::Linear(kFeatures, num_classes))) {
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
    std::int64_t feature_size() const override { return kFeatures; }

private:
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
    return std::make_shared<ResNet18>(in_channels, num_classes);
}

}  // namespace wb
