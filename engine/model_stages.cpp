#include "engine/model_stages.h"

namespace wb {

namespace {

// Stages of a Sequential "features" of conv-BN-ReLU triples, each stage ending in a max pool:
// `convs[i]` convolutions in stage i.
std::vector<Stage> pooled_blocks(const std::vector<int>& convs) {
    std::vector<Stage> stages;
    int index = 0;
    for (int count : convs) {
        Stage stage;
        for (int module = 0; module < 3 * count + 1; ++module, ++index) {
            stage.push_back("features." + std::to_string(index) + ".");
        }
        stages.push_back(stage);
    }
    return stages;
}

}  // namespace

std::vector<Stage> model_stages(const std::string& arch) {
    if (arch == "resnet18" || arch == "resnet34" || arch == "resnet50") {
        return {{"conv1.", "bn1."}, {"layer1."}, {"layer2."}, {"layer3."}, {"layer4."}, {"fc."}};
    }
    if (arch == "vgg16_bn") {
        auto stages = pooled_blocks({2, 2, 3, 3, 3});
        stages.push_back({"classifier.0.", "classifier.3."});
        stages.push_back({"classifier.6."});
        return stages;
    }
    if (arch == "small_cnn") {
        auto stages = pooled_blocks({2, 2});
        stages.push_back({"fc."});
        return stages;
    }
    return {};
}

bool in_stage(const std::string& name, const Stage& stage) {
    for (const auto& prefix : stage) {
        if (name.compare(0, prefix.size(), prefix) == 0) {
            return true;
        }
    }
    return false;
}

}  // namespace wb
