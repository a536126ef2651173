#pragma once

// Parameter counts of a network and of the part of it that trains, without libtorch in the
// caller's compile (the model form shows them).

#include <cstdint>
#include <string>

#include "engine/experiment.h"

namespace wb {

struct ParameterCounts {
    std::int64_t all = 0;        ///< scalar parameters; 0 for an unknown architecture
    std::int64_t trainable = 0;  ///< of those, the ones that train in the first epoch
};

/// Counts for config.arch with `classes` outputs and `channels` inputs under config's
/// fine-tuning mode (trains_in_epoch() at epoch 0). Each shape is built once and remembered.
ParameterCounts count_parameters(const ModelConfig& config, int classes, int channels);

}  // namespace wb
