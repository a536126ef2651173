#pragma once

#include <string>
#include <vector>

namespace wb {

/// A device the engine can train on.
struct DeviceInfo {
    std::string id;     ///< "cpu", "cuda:0", ...: a value of the experiment's `device`
    std::string label;  ///< for people: "CPU (2 cores)", "CUDA device 0"
};

/// The CPU, then every CUDA device this build of libtorch sees.
std::vector<DeviceInfo> available_devices();

/// The device an experiment's `device` setting means on this machine: "auto" is "cuda:0" when
/// there is a CUDA device and "cpu" otherwise; "cuda" is "cuda:0". Throws ConfigError when a
/// CUDA device is asked for and this build or machine has none, or not that many.
std::string resolve_device(const std::string& setting);

}  // namespace wb
