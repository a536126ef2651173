#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

namespace wb {

/// Dynamic loss scaling for float16 training on CUDA, with the rules of PyTorch's
/// torch.cuda.amp.GradScaler: the loss is multiplied by the scale before backward(); before
/// the optimizer step the gradients are divided by it, and a step whose gradients hold an
/// infinity or NaN is skipped and halves the scale; after `growth_interval` steps in a row
/// without one, the scale doubles.
///
/// Limitation: ATen 1.13 implements the unscale and update kernels for CUDA tensors only; the
/// trainer uses this class only for mixed_precision on a CUDA device.
class GradScaler {
public:
    explicit GradScaler(const at::Device& device, double initial_scale = 65536.0,
                        int growth_interval = 2000);

    /// loss * scale.
    at::Tensor scale(const at::Tensor& loss) const;
    /// Divides the defined gradients of `params` by the scale in place. True when they are
    /// all finite, so that the optimizer may step.
    bool unscale(const std::vector<at::Tensor>& params);
    /// Adjusts the scale after a step (taken or skipped) whose gradients unscale() checked.
    void update();
    double current_scale() const;

private:
    at::Tensor scale_;           ///< [1] float32 on the device
    at::Tensor growth_tracker_;  ///< [1] int32 on the device
    at::Tensor found_inf_;       ///< [1] float32 on the device
    int growth_interval_;
};

}  // namespace wb
