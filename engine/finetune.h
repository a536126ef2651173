#pragma once

// Which parameters of a model train in each epoch of a fine-tuning run, and the two parameter
// groups (head, backbone) that give the backbone its own rate.

#include <torch/nn/module.h>
#include <torch/types.h>

#include <vector>

#include "engine/experiment.h"
#include "engine/model_stages.h"
#include "engine/models.h"

namespace wb {

/// The stages of `model` (an `arch`): model_stages(arch), or for a network it does not know (a
/// TorchScript module) the head alone.
std::vector<Stage> stages_of(const Classifier& model, const std::string& arch);

/// The parameters of the head (the last of stages_of()) and of the rest.
struct ParameterGroups {
    std::vector<torch::Tensor> head;
    std::vector<torch::Tensor> backbone;
};
ParameterGroups split_parameters(const Classifier& model, const std::string& arch);

/// Whether the parameter `name` trains in `epoch` (0-based) under `config`: every one with
/// finetune "all" or from epoch unfreeze_epoch - 1 on; the head with "head"; the head and the
/// last config.stages backbone stages with "last_stages".
/// `stages` as stages_of() gives them.
bool trains_in_epoch(const std::string& name, const ModelConfig& config, int epoch,
                     const std::vector<Stage>& stages);

/// Sets requires_grad of every parameter of `model` for `epoch` (trains_in_epoch()); a frozen
/// parameter keeps no gradient. Call before model.train(): batch norm layers frozen here stay
/// in eval mode. Returns the number of scalar parameters that train.
std::int64_t set_trainable(Classifier& model, const ModelConfig& config, int epoch);

}  // namespace wb
