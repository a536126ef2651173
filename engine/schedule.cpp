#include "engine/schedule.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "engine/errors.h"

namespace wb {

namespace {

constexpr double kPi = 3.14159265358979323846;  // math.pi

[[noreturn]] void refuse(const std::string& field, const std::string& why) {
    throw ConfigError("", 0, 0, field + ": " + why);
}

template <typename T>
std::string text(T value) {
    std::ostringstream out;
    out << value;
    return out.str();
}

bool is_positive(double value) {
    return std::isfinite(value) && value > 0;
}

// One phase of 1cycle, as in OneCycleLR._schedule_phases: it ends at `end_step`, a fraction of
// a step in general, and takes the rate and the momentum from start to end values.
struct Phase {
    double end_step;
    double start_lr;
    double end_lr;
    double start_momentum;
    double end_momentum;
};

struct OneCyclePhases {
    Phase phase[3];
    int count;
};

OneCyclePhases onecycle_phases(const ScheduleSpec& s, long long total) {
    const double initial = s.max_lr / s.div_factor;
    const double final = initial / s.final_div_factor;
    const double rise_end = s.pct_start * static_cast<double>(total) - 1;
    const double last = static_cast<double>(total - 1);
    const double hi = s.max_momentum;
    const double lo = s.base_momentum;
    if (s.three_phase) {
        const double fall_end = 2 * s.pct_start * static_cast<double>(total) - 2;
        return {{{rise_end, initial, s.max_lr, hi, lo},
                 {fall_end, s.max_lr, initial, lo, hi},
                 {last, initial, final, hi, hi}},
                3};
    }
    return {{{rise_end, initial, s.max_lr, hi, lo}, {last, s.max_lr, final, lo, hi}}, 2};
}

// The same float operations as OneCycleLR._annealing_cos and _annealing_linear.
double anneal(bool cosine, double start, double end, double pct) {
    if (cosine) {
        const double cos_out = std::cos(kPi * pct) + 1;
        return end + (start - end) / 2.0 * cos_out;
    }
    return (end - start) * pct + start;
}

// PyTorch divides by each phase's length and lets a phase without a step go unnoticed
// (the rate then never reaches max_lr, or never anneals): refuse both.
void check_phases(const ScheduleSpec& s, long long total) {
    const OneCyclePhases p = onecycle_phases(s, total);
    const std::string where =
        "pct_start " + text(s.pct_start) + " of " + text(total) + " steps leaves ";
    if (!(p.phase[0].end_step > 0)) {
        refuse("schedule.pct_start",
               where + "the rising phase empty; 1cycle needs pct_start * total_steps > 1");
    }
    if (p.count == 3 && !(std::floor(p.phase[1].end_step) > p.phase[0].end_step)) {
        refuse("schedule.pct_start",
               where + "the falling phase empty; three-phase 1cycle needs more steps");
    }
    if (!(p.phase[p.count - 2].end_step < p.phase[p.count - 1].end_step)) {
        const std::string need = "2 * pct_start * total_steps < total_steps + 1";
        refuse("schedule.pct_start", where + "the final phase empty; three-phase needs " + need);
    }
}

void check_onecycle(const ScheduleSpec& s, long long total) {
    if (!is_positive(s.max_lr)) {
        refuse("schedule.max_lr", "must be positive, got " + text(s.max_lr));
    }
    if (!is_positive(s.div_factor)) {
        refuse("schedule.div_factor", "must be positive, got " + text(s.div_factor));
    }
    if (!is_positive(s.final_div_factor)) {
        refuse("schedule.final_div_factor", "must be positive, got " + text(s.final_div_factor));
    }
    if (!(s.pct_start > 0 && s.pct_start < 1)) {
        refuse("schedule.pct_start", "must be in (0, 1), got " + text(s.pct_start));
    }
    if (s.anneal_strategy != "cos" && s.anneal_strategy != "linear") {
        refuse("schedule.anneal_strategy",
               "must be 'cos' or 'linear', got '" + s.anneal_strategy + "'");
    }
    if (s.cycle_momentum) {
        if (!(s.max_momentum >= 0 && s.max_momentum < 1)) {
            refuse("schedule.max_momentum", "must be in [0, 1), got " + text(s.max_momentum));
        }
        if (!(s.base_momentum >= 0 && s.base_momentum <= s.max_momentum)) {
            refuse("schedule.base_momentum",
                   "must be in [0, max_momentum], got " + text(s.base_momentum));
        }
    }
    if (s.warmup_steps != 0) {
        refuse("schedule.warmup_steps", "must be 0 for onecycle, whose rise is its warm-up");
    }
    check_phases(s, total);
}

void check_gamma(const ScheduleSpec& s) {
    if (!(s.gamma > 0 && s.gamma <= 1)) {
        refuse("schedule.gamma", "must be in (0, 1], got " + text(s.gamma));
    }
}

void check_decaying(const ScheduleSpec& s, long long total) {
    if (!is_positive(s.lr)) {
        refuse("schedule.lr", "must be positive, got " + text(s.lr));
    }
    if (s.warmup_steps < 0 || s.warmup_steps >= total) {
        refuse("schedule.warmup_steps", "must be in [0, " + text(total) + ") for a run of " +
                                            text(total) + " steps, got " + text(s.warmup_steps));
    }
    if (!(s.warmup_start_factor > 0 && s.warmup_start_factor <= 1)) {
        refuse("schedule.warmup_start_factor",
               "must be in (0, 1], got " + text(s.warmup_start_factor));
    }
    if (s.policy == "step") {
        if (s.step_size < 1) {
            refuse("schedule.step_size", "must be at least 1 step, got " + text(s.step_size));
        }
        check_gamma(s);
    } else if (s.policy == "multistep") {
        if (s.milestones.empty()) {
            refuse("schedule.milestones", "none given");
        }
        for (std::size_t i = 0; i < s.milestones.size(); ++i) {
            const long long floor = i == 0 ? 1 : s.milestones[i - 1] + 1;
            if (s.milestones[i] < floor) {
                refuse("schedule.milestones", "must be positive and increasing, got " +
                                                  text(s.milestones[i]) + " at position " +
                                                  text(i + 1));
            }
        }
        check_gamma(s);
    } else if (s.policy == "cosine") {
        if (s.t_max < 0) {
            refuse("schedule.t_max", "must be at least 1 step (0: the run), got " + text(s.t_max));
        }
        if (!(s.eta_min >= 0 && s.eta_min <= s.lr)) {
            refuse("schedule.eta_min",
                   "must be in [0, lr = " + text(s.lr) + "], got " + text(s.eta_min));
        }
    }
}

}  // namespace

Schedule Schedule::make(const ScheduleSpec& spec, long long total_steps) {
    if (total_steps < 1) {
        refuse("total_steps", "the run needs at least 1 optimizer step, got " + text(total_steps));
    }
    if (spec.policy == "onecycle") {
        check_onecycle(spec, total_steps);
    } else if (spec.policy == "constant" || spec.policy == "step" || spec.policy == "multistep" ||
               spec.policy == "cosine") {
        check_decaying(spec, total_steps);
    } else {
        refuse("schedule.policy", "unknown policy '" + spec.policy +
                                      "' (constant, step, multistep, cosine, onecycle)");
    }
    return Schedule(spec, total_steps);
}

Schedule::Schedule(const ScheduleSpec& spec, long long total_steps)
    : spec_(spec), total_steps_(total_steps) {
    const long long inner_steps = total_steps - spec.warmup_steps;
    if (spec_.policy == "cosine" && spec_.t_max == 0) {
        spec_.t_max = inner_steps;
    }
    max_lr_ = spec_.lr;
    if (spec_.policy == "onecycle") {
        const double initial = spec_.max_lr / spec_.div_factor;
        const double final = initial / spec_.final_div_factor;
        min_lr_ = std::min({initial, spec_.max_lr, final});
        max_lr_ = std::max({initial, spec_.max_lr, final});
        has_momentum_ = spec_.cycle_momentum;
        return;
    }
    if (spec_.policy == "step") {
        min_lr_ = spec_.lr * std::pow(spec_.gamma, (inner_steps - 1) / spec_.step_size);
    } else if (spec_.policy == "multistep") {
        const auto decays =
            std::upper_bound(spec_.milestones.begin(), spec_.milestones.end(), inner_steps - 1) -
            spec_.milestones.begin();
        min_lr_ = spec_.lr * std::pow(spec_.gamma, static_cast<double>(decays));
    } else if (spec_.policy == "cosine") {
        min_lr_ = spec_.eta_min;
    } else {
        min_lr_ = spec_.lr;
    }
    if (spec_.warmup_steps > 0) {
        min_lr_ = std::min(min_lr_, spec_.lr * spec_.warmup_start_factor);
    }
}

void Schedule::check_step(long long step) const {
    if (step < 0 || step >= total_steps_) {
        throw std::out_of_range("schedule step " + text(step) + " is outside [0, " +
                                text(total_steps_) + "), the run's " + text(total_steps_) +
                                " optimizer steps");
    }
}

double Schedule::lr(long long step) const {
    check_step(step);
    const double value = spec_.policy == "onecycle" ? onecycle(step, false) : policy_lr(step);
    return std::clamp(value, min_lr_, max_lr_);
}

double Schedule::momentum(long long step) const {
    if (!has_momentum_) {
        throw std::logic_error("schedule '" + spec_.policy + "' does not set the momentum");
    }
    check_step(step);
    return std::clamp(onecycle(step, true), spec_.base_momentum, spec_.max_momentum);
}

// Closed forms of StepLR, MultiStepLR, CosineAnnealingLR and LinearLR; PyTorch computes
// the same values step by step from the previous one.
double Schedule::policy_lr(long long step) const {
    const double base = spec_.lr;
    const long long warmup = spec_.warmup_steps;
    if (step < warmup) {
        const double f = spec_.warmup_start_factor;
        return base * (f + (1.0 - f) * static_cast<double>(step) / static_cast<double>(warmup));
    }
    const long long t = step - warmup;
    if (spec_.policy == "step") {
        return base * std::pow(spec_.gamma, static_cast<double>(t / spec_.step_size));
    }
    if (spec_.policy == "multistep") {
        const auto& m = spec_.milestones;
        const auto decays = std::upper_bound(m.begin(), m.end(), t) - m.begin();
        return base * std::pow(spec_.gamma, static_cast<double>(decays));
    }
    if (spec_.policy == "cosine") {
        const double eta_min = spec_.eta_min;
        const double angle = kPi * static_cast<double>(t) / static_cast<double>(spec_.t_max);
        return eta_min + (base - eta_min) * (1 + std::cos(angle)) / 2;
    }
    return base;
}

// OneCycleLR.get_lr: the first phase whose end is not before the step, or the last one.
double Schedule::onecycle(long long step, bool momentum) const {
    const OneCyclePhases phases = onecycle_phases(spec_, total_steps_);
    const bool cosine = spec_.anneal_strategy == "cos";
    const double x = static_cast<double>(step);
    double start_step = 0;
    for (int i = 0; i < phases.count; ++i) {
        const Phase& p = phases.phase[i];
        if (x <= p.end_step || i == phases.count - 1) {
            const double pct = (x - start_step) / (p.end_step - start_step);
            return momentum ? anneal(cosine, p.start_momentum, p.end_momentum, pct)
                            : anneal(cosine, p.start_lr, p.end_lr, pct);
        }
        start_step = p.end_step;
    }
    return 0.0;  // unreachable: the last phase always answers
}

long long total_steps(long long dataset_size, int batch_size, int epochs, int grad_accumulation,
                      bool drop_last) {
    if (dataset_size < 1) {
        refuse("dataset_size", "the dataset has no sample");
    }
    if (batch_size < 1) {
        refuse("batch_size", "must be at least 1, got " + text(batch_size));
    }
    if (epochs < 1) {
        refuse("epochs", "must be at least 1, got " + text(epochs));
    }
    if (grad_accumulation < 1) {
        refuse("grad_accumulation", "must be at least 1 batch, got " + text(grad_accumulation));
    }
    const long long batches =
        drop_last ? dataset_size / batch_size : (dataset_size + batch_size - 1) / batch_size;
    if (batches == 0) {
        refuse("batch_size", text(batch_size) + " is more than the " + text(dataset_size) +
                                 " samples, and drop_last drops the only batch");
    }
    const long long steps_per_epoch = (batches + grad_accumulation - 1) / grad_accumulation;
    return steps_per_epoch * epochs;
}

}  // namespace wb
