// VGG-16 with batch norm, with torchvision's module and parameter names
// (torchvision.models.vgg16_bn).

#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include "engine/models.h"

namespace wb {

namespace {

namespace nn = torch::nn;

/// Output channels of each 3x3 convolution; 0 is a 2x2 max pool (torchvision's config "D").
constexpr int kConfigD[] = {64, 64,  0,   128, 128, 0,   256, 256, 256,
                            0,  512, 512, 512, 0,   512, 512, 512, 0};

nn::Sequential make_vgg_features(int in_channels) {
    nn::Sequential features;
    int in = in_channels;
    for (int out : kConfigD) {
        if (out == 0) {
            features->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)));
            continue;
        }
        features->push_back(nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1)));
        features->push_back(nn::BatchNorm2d(out));
        features->push_back(nn::ReLU(nn::ReLUOptions(true)));
        in = out;
    }
    return features;
}

class Vgg16Bn : public Classifier {
    static constexpr int kHidden = 4096;           // width of the classifier's hidden layers
    static constexpr std::size_t kLastLinear = 6;  // classifier.6, the last linear layer

public:
    Vgg16Bn(int in_channels, int num_classes)
        : features_(register_module("features", make_vgg_features(in_channels))),
          avgpool_(register_module("avgpool",
                                   nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({7, 7})))),
          classifier_(register_module(
              "classifier",
              nn::Sequential(nn::Linear(512 * 7 * 7, kHidden), nn::ReLU(nn::ReLUOptions(true)),
                             nn::Dropout(0.5), nn::Linear(kHidden, kHidden),
                             nn::ReLU(nn::ReLUOptions(true)), nn::Dropout(0.5),
                             nn::Linear(kHidden, num_classes)))) {
        for (const auto& module : modules(/*include_self=*/false)) {
            if (auto* conv = module->as<nn::Conv2d>()) {
                nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
                nn::init::zeros_(conv->bias);
            } else if (auto* bn = module->as<nn::BatchNorm2d>()) {
                nn::init::ones_(bn->weight);
                nn::init::zeros_(bn->bias);
            } else if (auto* linear = module->as<nn::Linear>()) {
                nn::init::normal_(linear->weight, 0.0, 0.01);
                nn::init::zeros_(linear->bias);
            }
        }
    }

    /// The input of classifier.6: the classifier's first six modules (two linear layers with
    /// ReLU and dropout) run here.
    torch::Tensor features(torch::Tensor x) override {
        x = torch::flatten(avgpool_(features_->forward(x)), 1);
        auto module = classifier_->begin();
        for (std::size_t i = 0; i < kLastLinear; ++i, ++module) {
            x = module->forward(x);
        }
        return x;
    }
    torch::Tensor classify(torch::Tensor features) override {
        return classifier_->at<nn::LinearImpl>(kLastLinear).forward(features);
    }
    std::int64_t feature_size() const override { return kHidden; }

private:
    nn::Sequential features_;
    nn::AdaptiveAvgPool2d avgpool_;
    nn::Sequential classifier_;
};

}  // namespace

std::shared_ptr<Classifier> make_vgg16_bn(int in_channels, int num_classes) {
    return std::make_shared<Vgg16Bn>(in_channels, num_classes);
}

}  // namespace wb
