#pragma once

// Moving weights between a module and a state dict by name: the parity tests against
// torchvision, and pretrained weights saved from Python.

#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstddef>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace wb {

/// Parameters and buffers by their dotted names, as in torchvision ("layer1.0.conv1.weight").
using StateDict = std::map<std::string, torch::Tensor>;

/// A state dict that does not fit a module, or a weights file that cannot be read.
class StateDictError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// What load_state_dict() did, by name.
struct StateDictReport {
    std::size_t loaded = 0;               ///< tensors copied
    std::vector<std::string> missing;     ///< in the module, not in the dict
    std::vector<std::string> unexpected;  ///< in the dict, not in the module
    /// In both with different shapes: "fc.weight: [10, 512] in the module, [1000, 512] in the
    /// dict".
    std::vector<std::string> mismatched;
};

/// The parameters and buffers of `module` (the tensors themselves, not copies).
StateDict state_dict(const torch::nn::Module& module);

/// Copies `state` into the parameters and buffers of `module` by name, converting the dtype.
/// With `strict`, any missing, unexpected or mis-shaped name throws StateDictError listing all
/// of them, and nothing is copied. Without it, what matches is copied and the rest reported:
/// the way to load a pretrained backbone under a new classifier head.
StateDictReport load_state_dict(torch::nn::Module& module, const StateDict& state,
                                bool strict = true);

/// Reads a state dict that Python saved as a plain dict:
/// `torch.save(dict(model.state_dict()), path)`. libtorch cannot read the OrderedDict that
/// `torch.save(model.state_dict(), path)` writes. Throws StateDictError naming the file.
StateDict read_state_dict(const std::string& path);

}  // namespace wb
