#pragma once

// How the trainer drives the optimizer from a Schedule. Internal to wb_train; a header of its
// own so that the tests can check what the optimizer really receives.

#include <vector>

#include "engine/experiment.h"
#include "engine/schedule.h"

namespace torch::optim {
class Optimizer;
}  // namespace torch::optim

namespace wb {

/// The schedule of an experiment for a run of `steps_per_epoch` optimizer steps per epoch:
/// epochs become steps (step_epochs * steps_per_epoch, each milestone * steps_per_epoch), and
/// optimizer.lr is the base rate, or the peak rate of "onecycle".
ScheduleSpec schedule_spec(const Experiment& experiment, long long steps_per_epoch);

/// What the optimizer holds for a step, read back from its first parameter group.
struct AppliedSchedule {
    double lr = 0;
    /// SGD momentum or Adam/AdamW beta1.
    double momentum = 0;
};

/// Sets the rate of `step` on every parameter group, times the group's `lr_factors` entry (1
/// where there is none), and, when the schedule has a momentum, SGD's momentum or Adam's and
/// AdamW's beta1 (beta2 kept). Call before optimizer.step(). Throws std::logic_error for a
/// momentum schedule on another kind of optimizer.
AppliedSchedule apply_schedule(torch::optim::Optimizer& optimizer, const Schedule& schedule,
                               long long step, const std::vector<double>& lr_factors = {});

}  // namespace wb
