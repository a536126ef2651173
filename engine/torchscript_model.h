#pragma once

// A network that is not one of ours, trained from its TorchScript archive: model.arch
// "torchscript" with model.weights naming the archive.

#include <memory>
#include <string>

#include "engine/models.h"

namespace wb {

/// The TorchScript module in `path` (torch.jit.script or torch.jit.trace of any classifier) as
/// a Classifier. Its last linear layer (the last torch.nn.Linear in registration order) is the
/// head: replaced by a fresh one of `num_classes` outputs when its size differs. Parameters and
/// buffers keep the module's dotted names, so checkpoints and state dicts work as for our own
/// networks. Throws ConfigError naming the file when it is not a TorchScript archive or has no
/// linear layer.
///
/// Limitation: features() runs the whole module with the head set to the identity, which is the
/// head's input only when the head's output is the module's output (true of torchvision's
/// classifiers; not of a module that, say, applies a softmax after it).
std::shared_ptr<Classifier> make_torchscript_classifier(const std::string& path, int num_classes);

/// Saves the TorchScript module behind `model`, with its current weights, for torch.jit.load.
/// Returns false when `model` was not made by make_torchscript_classifier().
bool save_torchscript(Classifier& model, const std::string& path);

}  // namespace wb
