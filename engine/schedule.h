#pragma once

#include <string>
#include <vector>

namespace wb {

/// What a learning-rate schedule is made of. Steps count optimizer steps, not batches nor
/// epochs: a decay every 7 epochs is `step_size = 7 * steps_per_epoch`. Each policy reads
/// only its own fields. The curves are those of PyTorch 1.13's schedulers of the same name.
struct ScheduleSpec {
    /// "constant", "step" (StepLR), "multistep" (MultiStepLR), "cosine" (CosineAnnealingLR)
    /// or "onecycle" (OneCycleLR).
    std::string policy = "constant";
    /// Base rate of every policy but "onecycle", which uses `max_lr` instead.
    double lr = 0.01;

    /// "step": optimizer steps between two decays.
    long long step_size = 1;
    /// "step" and "multistep": factor applied at each decay, in (0, 1].
    double gamma = 0.1;
    /// "multistep": optimizer steps at which the rate is multiplied by `gamma`, increasing.
    std::vector<long long> milestones;

    /// "cosine": half period in optimizer steps; 0 means the steps after the warm-up. A
    /// shorter period makes the rate rise again after each minimum, as PyTorch's does.
    long long t_max = 0;
    /// "cosine": lowest rate, in [0, lr].
    double eta_min = 0.0;

    /// "onecycle": the peak rate; it starts at max_lr / div_factor and ends at
    /// max_lr / div_factor / final_div_factor.
    double max_lr = 0.1;
    /// "onecycle": fraction of the steps spent rising to max_lr, in (0, 1).
    double pct_start = 0.3;
    /// "onecycle": "cos" or "linear".
    std::string anneal_strategy = "cos";
    /// "onecycle": rise, fall back to the start rate, then anneal to the end rate (the paper),
    /// instead of rise then anneal (fastai).
    bool three_phase = false;
    /// "onecycle": start rate = max_lr / div_factor; positive.
    double div_factor = 25.0;
    /// "onecycle": end rate = start rate / final_div_factor; positive.
    double final_div_factor = 1e4;
    /// "onecycle": cycle the momentum (SGD momentum, Adam beta1) inversely to the rate,
    /// between base_momentum at the peak rate and max_momentum at both ends.
    bool cycle_momentum = true;
    /// "onecycle": momentum at the peak rate, in [0, max_momentum].
    double base_momentum = 0.85;
    /// "onecycle": momentum at the start and the end, in [0, 1).
    double max_momentum = 0.95;

    /// Steps of linear warm-up before the policy (not "onecycle", which has its own): the
    /// rate goes from warmup_start_factor * lr towards lr, and the policy's own clock starts
    /// when the warm-up ends, like PyTorch's SequentialLR([LinearLR, policy], [warmup_steps]).
    long long warmup_steps = 0;
    /// Fraction of `lr` at step 0 of the warm-up, in (0, 1].
    double warmup_start_factor = 0.1;
};

/// A learning-rate (and momentum) curve over a run: a pure function of the optimizer step, so
/// a resumed run follows the same curve. lr(i) is the rate the optimizer uses for step i.
class Schedule {
public:
    /// Checks the spec against the run length; throws ConfigError (line 0) naming the field,
    /// e.g. "schedule.pct_start: ...", for any configuration that is degenerate.
    static Schedule make(const ScheduleSpec& spec, long long total_steps);

    /// Rate for optimizer step `step`, in [min_lr(), max_lr()]. Throws std::out_of_range
    /// unless 0 <= step < total_steps().
    double lr(long long step) const;
    /// Momentum (SGD momentum or Adam beta1) for `step`. Throws std::logic_error unless
    /// has_momentum(), std::out_of_range as lr() does.
    double momentum(long long step) const;
    /// True when the schedule sets the momentum (1cycle with cycle_momentum); otherwise the
    /// optimizer keeps its own.
    bool has_momentum() const { return has_momentum_; }
    /// Number of optimizer steps in the run.
    long long total_steps() const { return total_steps_; }
    /// No step's rate is below min_lr() nor above max_lr(); min_lr() >= 0.
    double min_lr() const { return min_lr_; }
    /// The top rate: lr, or the highest of 1cycle's start, peak and end rates.
    double max_lr() const { return max_lr_; }
    /// The spec as made, with a t_max of 0 replaced by the period it stands for.
    const ScheduleSpec& spec() const { return spec_; }

private:
    Schedule(const ScheduleSpec& spec, long long total_steps);
    double policy_lr(long long step) const;
    double onecycle(long long step, bool momentum) const;
    void check_step(long long step) const;

    ScheduleSpec spec_;
    long long total_steps_ = 0;
    bool has_momentum_ = false;
    double min_lr_ = 0.0;
    double max_lr_ = 0.0;
};

/// Optimizer steps in a run: per epoch, ceil(dataset_size / batch_size) batches (the floor
/// with drop_last), one optimizer step per grad_accumulation batches with the last group of an
/// epoch possibly shorter. Throws ConfigError naming the field when an argument is below 1 or
/// the run would have no step (drop_last with fewer samples than a batch).
long long total_steps(long long dataset_size, int batch_size, int epochs, int grad_accumulation,
                      bool drop_last);

}  // namespace wb
