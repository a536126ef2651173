#include "engine/train_schedule.h"

#include <torch/torch.h>

#include <stdexcept>

namespace wb {

namespace {

// The momentum of a group: SGD's momentum, Adam's and AdamW's beta1; 0 for other optimizers.
double group_momentum(const torch::optim::OptimizerOptions& options) {
    if (const auto* sgd = dynamic_cast<const torch::optim::SGDOptions*>(&options)) {
        return sgd->momentum();
    }
    if (const auto* adam = dynamic_cast<const torch::optim::AdamOptions*>(&options)) {
        return std::get<0>(adam->betas());
    }
    if (const auto* adamw = dynamic_cast<const torch::optim::AdamWOptions*>(&options)) {
        return std::get<0>(adamw->betas());
    }
    return 0.0;
}

// libtorch's SGD reads the momentum at each step and starts its momentum buffer at the first
// step with a momentum above 0, so a cycled momentum works from a configured momentum of 0.
void set_group_momentum(torch::optim::OptimizerOptions& options, double momentum) {
    if (auto* sgd = dynamic_cast<torch::optim::SGDOptions*>(&options)) {
        sgd->momentum(momentum);
    } else if (auto* adam = dynamic_cast<torch::optim::AdamOptions*>(&options)) {
        adam->betas({momentum, std::get<1>(adam->betas())});
    } else if (auto* adamw = dynamic_cast<torch::optim::AdamWOptions*>(&options)) {
        adamw->betas({momentum, std::get<1>(adamw->betas())});
    } else {
        throw std::logic_error("the schedule sets a momentum, which this optimizer does not have");
    }
}

}  // namespace

ScheduleSpec schedule_spec(const Experiment& e, long long steps_per_epoch) {
    const ScheduleConfig& c = e.schedule;
    ScheduleSpec s;
    s.policy = c.policy;
    s.lr = e.optimizer.lr;
    s.step_size = c.step_epochs * steps_per_epoch;
    s.gamma = c.gamma;
    for (int epoch : c.milestones) {
        s.milestones.push_back(epoch * steps_per_epoch);
    }
    s.t_max = 0;  // the whole run after the warm-up
    s.eta_min = c.eta_min;
    s.max_lr = e.optimizer.lr;
    s.pct_start = c.pct_start;
    s.anneal_strategy = c.anneal;
    s.three_phase = c.three_phase;
    s.div_factor = c.div_factor;
    s.final_div_factor = c.final_div_factor;
    s.cycle_momentum = c.cycle_momentum;
    s.base_momentum = c.base_momentum;
    s.max_momentum = c.max_momentum;
    s.warmup_steps = c.warmup_steps;
    s.warmup_start_factor = c.warmup_start_factor;
    return s;
}

AppliedSchedule apply_schedule(torch::optim::Optimizer& optimizer, const Schedule& schedule,
                               long long step, const std::vector<double>& lr_factors) {
    auto& groups = optimizer.param_groups();
    if (groups.empty()) {
        throw std::logic_error("apply_schedule: the optimizer has no parameter group");
    }
    const double lr = schedule.lr(step);
    for (std::size_t i = 0; i < groups.size(); ++i) {
        auto& group = groups[i];
        group.options().set_lr(i < lr_factors.size() ? lr * lr_factors[i] : lr);
        if (schedule.has_momentum()) {
            set_group_momentum(group.options(), schedule.momentum(step));
        }
    }
    const auto& first = groups.front().options();
    return {first.get_lr(), group_momentum(first)};
}

}  // namespace wb
