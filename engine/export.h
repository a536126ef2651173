#pragma once

// Weights out: a trained run as files a Python user loads in a line or two.

#include <string>
#include <vector>

namespace wb {

/// Writes the model of the run folder `run_dir` (its `checkpoint`, a file in the folder or an
/// absolute path) into `out_dir`:
/// - weights.pt: the state dict as a plain dict of tensors by torchvision's names, which
///   `torchvision.models.<arch>(num_classes=N).load_state_dict(torch.load(path))` loads (after
///   replacing the first convolution for a model of one input channel; model.json says how);
///   the workbench reads it back as model.weights too;
/// - model.json: architecture, number of classes, input channels, the class names in output
///   order, the preprocessing (size, channels, mean and std after scaling pixels to [0, 1]),
///   and the Python lines that build and load the model;
/// - model.pt, for a model that came in as TorchScript (model.arch "torchscript"): the module
///   with the new head and the trained weights, for torch.jit.load.
/// Returns the paths written. Throws DataError naming the file that is missing or unreadable.
std::vector<std::string> export_run(const std::string& run_dir, const std::string& out_dir,
                                    const std::string& checkpoint = "best.pt");

}  // namespace wb
