#pragma once

// Pretrained weights in: the files PyTorch users have, mapped onto our networks by name.

#include <string>

#include "engine/models.h"
#include "engine/state_dict.h"

namespace wb {

/// Reads the tensors of a weights file by their dotted names:
/// - a TorchScript archive (torch.jit.script(model).save(path), or torch.jit.trace): its
///   parameters and buffers;
/// - one of our checkpoints (best.pt, last.pt) or an exported weights.pt;
/// - a state dict saved as a plain dict: torch.save(dict(model.state_dict()), path);
/// - a run folder: its best.pt, else its last.pt.
/// Throws StateDictError naming the file and the forms it accepts.
StateDict read_weights(const std::string& path);

/// Copies pretrained `state` into `model` (an `arch`). Every tensor must be there by name and
/// shape, except the head's (the last linear layer), which keeps its fresh initialization when
/// its shape differs (another number of classes). Anything else missing, unexpected or
/// mis-shaped throws StateDictError naming `source` and every such tensor, and copies nothing.
/// The report lists the head's tensors that were left out as mismatched.
StateDictReport load_pretrained(Classifier& model, const std::string& arch, const StateDict& state,
                                const std::string& source);

}  // namespace wb
