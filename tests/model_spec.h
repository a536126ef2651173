#pragma once

// A model spec in one line for the model suites; the clip fields keep their defaults.

#include <string>

#include "engine/models.h"

namespace wb::test {

inline ModelSpec model_spec(const std::string& arch, int classes, int channels,
                            const std::string& torchscript = {}) {
    ModelSpec spec;
    spec.arch = arch;
    spec.num_classes = classes;
    spec.in_channels = channels;
    spec.torchscript = torchscript;
    return spec;
}

}  // namespace wb::test
