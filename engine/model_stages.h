#pragma once

// The parts of each network that fine-tuning freezes or trains, by the torchvision names of
// their parameters. No libtorch: the experiment checks use it too.

#include <string>
#include <vector>

namespace wb {

/// One stage: the name prefixes of its parameters and buffers ("layer3.", "features.14.").
using Stage = std::vector<std::string>;

/// The stages of `arch` from the input to the output; the last is the head (the last linear
/// layer, which a new number of classes replaces). resnet*: the stem (conv1, bn1), layer1 to
/// layer4, fc. vgg16_bn: the five convolution blocks, the two hidden linear layers
/// (classifier.0 and classifier.3), classifier.6. small_cnn: its two blocks, fc. Empty for an
/// unknown architecture.
std::vector<Stage> model_stages(const std::string& arch);

/// Whether the dotted tensor name lies in `stage`.
bool in_stage(const std::string& name, const Stage& stage);

}  // namespace wb
