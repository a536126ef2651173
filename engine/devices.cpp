#include "engine/devices.h"

#include <torch/cuda.h>

#include <thread>

#include "engine/errors.h"

namespace wb {

std::vector<DeviceInfo> available_devices() {
    std::vector<DeviceInfo> devices;
    devices.push_back(
        {"cpu", "CPU (" + std::to_string(std::thread::hardware_concurrency()) + " cores)"});
    const auto count = torch::cuda::is_available() ? torch::cuda::device_count() : 0;
    for (std::size_t i = 0; i < count; ++i) {
        devices.push_back({"cuda:" + std::to_string(i), "CUDA device " + std::to_string(i)});
    }
    return devices;
}

std::string resolve_device(const std::string& setting) {
    const bool cuda = torch::cuda::is_available();
    if (setting == "auto") {
        return cuda ? "cuda:0" : "cpu";
    }
    if (setting == "cpu") {
        return setting;
    }
    const std::string id = setting == "cuda" ? "cuda:0" : setting;
    if (!cuda) {
        throw ConfigError("", 0, 0,
                          "device: '" + setting +
                              "' asked for, but this build of libtorch or this machine has no "
                              "CUDA device (use device: auto or cpu)");
    }
    const std::size_t index = std::stoul(id.substr(5));
    if (index >= torch::cuda::device_count()) {
        throw ConfigError("", 0, 0,
                          "device: '" + setting + "' asked for, but this machine has " +
                              std::to_string(torch::cuda::device_count()) + " CUDA device(s)");
    }
    return id;
}

}  // namespace wb
