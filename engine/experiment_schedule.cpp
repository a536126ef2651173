// The 'schedule' section of the experiment file: its keys, the checks that need only the file,
// and how it is written. Schedule::make() checks the rest once the run length is known.

#include <limits>
#include <string>
#include <vector>

#include "engine/experiment_io.h"

namespace wb::detail {

namespace {

const std::vector<std::string> kAnneals = {"cos", "linear"};

void check_milestones(const ScheduleConfig& s, const Fail& fail) {
    if (s.policy == "multistep" && s.milestones.empty()) {
        fail({"schedule.milestones", "schedule.policy"},
             "schedule.milestones: multistep needs at least one epoch, e.g. [30, 60]");
    }
    for (std::size_t i = 0; i < s.milestones.size(); ++i) {
        const int floor = i == 0 ? 1 : s.milestones[i - 1] + 1;
        if (s.milestones[i] < floor) {
            fail({"schedule.milestones"},
                 "schedule.milestones must be positive and increasing epochs, got " +
                     std::to_string(s.milestones[i]) + " at position " + std::to_string(i + 1));
        }
    }
}

void check_onecycle(const ScheduleConfig& s, const Fail& fail) {
    const double inf = std::numeric_limits<double>::infinity();
    check_range(fail, "schedule.pct_start", s.pct_start, 0, 1, true, true);
    check_range(fail, "schedule.div_factor", s.div_factor, 0, inf, true, true);
    check_range(fail, "schedule.final_div_factor", s.final_div_factor, 0, inf, true, true);
    check_one_of(fail, "schedule.anneal", s.anneal, kAnneals, "annealing");
    check_range(fail, "schedule.max_momentum", s.max_momentum, 0, 1, false, true);
    check_range(fail, "schedule.base_momentum", s.base_momentum, 0, 1, false, true);
    if (s.base_momentum > s.max_momentum) {
        fail({"schedule.base_momentum", "schedule.max_momentum"},
             "schedule.base_momentum (" + number_text(s.base_momentum) +
                 ") must not exceed schedule.max_momentum (" + number_text(s.max_momentum) + ")");
    }
}

}  // namespace

const std::vector<std::string>& schedule_keys() {
    static const std::vector<std::string> keys = {
        "policy",       "step_epochs",      "gamma",
        "milestones",   "eta_min",          "pct_start",
        "div_factor",   "final_div_factor", "three_phase",
        "anneal",       "cycle_momentum",   "base_momentum",
        "max_momentum", "warmup_steps",     "warmup_start_factor"};
    return keys;
}

const std::vector<std::string>& schedule_policies() {
    static const std::vector<std::string> policies = {"constant", "step", "multistep", "cosine",
                                                      "onecycle"};
    return policies;
}

// Every value is checked whatever the policy, as a bad gamma always was; the combinations only
// for the policy that reads them.
void check_schedule(const Experiment& e, const Fail& fail) {
    const ScheduleConfig& s = e.schedule;
    const double inf = std::numeric_limits<double>::infinity();
    check_one_of(fail, "schedule.policy", s.policy, schedule_policies(), "schedule policy");
    check_at_least(fail, "schedule.step_epochs", s.step_epochs, 1);
    check_range(fail, "schedule.gamma", s.gamma, 0, 1, true, false);
    check_milestones(s, fail);
    check_range(fail, "schedule.eta_min", s.eta_min, 0, inf, false, true);
    if (s.policy == "cosine" && s.eta_min > e.optimizer.lr) {
        fail({"schedule.eta_min", "optimizer.lr"},
             "schedule.eta_min (" + number_text(s.eta_min) + ") must not exceed optimizer.lr (" +
                 number_text(e.optimizer.lr) + "), the rate cosine starts from");
    }
    check_onecycle(s, fail);
    check_at_least(fail, "schedule.warmup_steps", s.warmup_steps, 0);
    if (s.policy == "onecycle" && s.warmup_steps != 0) {
        fail({"schedule.warmup_steps", "schedule.policy"},
             "schedule.warmup_steps must be 0 for onecycle, whose rise (pct_start) is its "
             "warm-up, got " +
                 std::to_string(s.warmup_steps));
    }
    check_range(fail, "schedule.warmup_start_factor", s.warmup_start_factor, 0, 1, true, false);
}

void write_schedule(Writer& w, const ScheduleConfig& s) {
    w.section("schedule");
    w.key("policy", yaml_string(s.policy), 2, join(schedule_policies()));
    w.key("step_epochs", std::to_string(s.step_epochs), 2, "step: epochs between decays");
    w.key("gamma", number_text(s.gamma), 2, "step, multistep: lr factor of each decay");
    w.key("milestones", yaml_list(s.milestones), 2,
          "multistep: epochs of the decays, counted after the warm-up");
    w.key("eta_min", number_text(s.eta_min), 2, "cosine: the last rate");
    w.key("pct_start", number_text(s.pct_start), 2,
          "onecycle: the peak rate is optimizer.lr, reached after this fraction of the steps");
    w.key("div_factor", number_text(s.div_factor), 2, "onecycle: start rate = lr / div_factor");
    w.key("final_div_factor", number_text(s.final_div_factor), 2,
          "onecycle: end rate = start rate / final_div_factor");
    w.key("three_phase", yaml_bool(s.three_phase), 2, "onecycle: fall back before annealing");
    w.key("anneal", yaml_string(s.anneal), 2, "onecycle: " + join(kAnneals));
    w.key("cycle_momentum", yaml_bool(s.cycle_momentum), 2,
          "onecycle: replaces sgd momentum / adam beta1");
    w.key("base_momentum", number_text(s.base_momentum), 2, "onecycle: at the peak rate");
    w.key("max_momentum", number_text(s.max_momentum), 2, "onecycle: at the start and end");
    w.key("warmup_steps", std::to_string(s.warmup_steps), 2,
          "optimizer steps of linear warm-up; not onecycle");
    w.key("warmup_start_factor", number_text(s.warmup_start_factor), 2,
          "fraction of lr at the first warm-up step");
}

}  // namespace wb::detail
