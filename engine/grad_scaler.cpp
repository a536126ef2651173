#include "engine/grad_scaler.h"

#include <ATen/ATen.h>

namespace wb {

GradScaler::GradScaler(const at::Device& device, double initial_scale, int growth_interval)
    : scale_(at::full({1}, initial_scale, at::TensorOptions(at::kFloat).device(device))),
      growth_tracker_(at::zeros({1}, at::TensorOptions(at::kInt).device(device))),
      found_inf_(at::zeros({1}, at::TensorOptions(at::kFloat).device(device))),
      growth_interval_(growth_interval) {}

at::Tensor GradScaler::scale(const at::Tensor& loss) const {
    return loss * scale_.to(loss.scalar_type());
}

bool GradScaler::unscale(const std::vector<at::Tensor>& params) {
    std::vector<at::Tensor> grads;
    for (const auto& p : params) {
        if (p.grad().defined()) {
            grads.push_back(p.grad());
        }
    }
    found_inf_.zero_();
    if (!grads.empty()) {
        at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf_, scale_.reciprocal());
    }
    return found_inf_.item<float>() == 0.0f;
}

void GradScaler::update() {
    at::_amp_update_scale_(scale_, growth_tracker_, found_inf_, /*growth_factor=*/2.0,
                           /*backoff_factor=*/0.5, growth_interval_);
}

double GradScaler::current_scale() const {
    return scale_.item<double>();
}

}  // namespace wb
