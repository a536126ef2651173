// The 'checkpoint' and 'early_stopping' sections of the experiment file: their keys, checks and
// how they are written.

#include <limits>
#include <string>
#include <vector>

#include "engine/experiment_io.h"

namespace wb::detail {

const std::vector<std::string>& checkpoint_keys() {
    static const std::vector<std::string> keys = {"every_steps", "every_minutes"};
    return keys;
}

const std::vector<std::string>& early_stopping_keys() {
    static const std::vector<std::string> keys = {"enabled", "metric", "patience", "min_delta"};
    return keys;
}

void check_run_control(const Experiment& e, const Fail& fail) {
    const double inf = std::numeric_limits<double>::infinity();
    check_at_least(fail, "checkpoint.every_steps", e.checkpoint.every_steps, 0);
    check_range(fail, "checkpoint.every_minutes", e.checkpoint.every_minutes, 0, inf, false, true);
    const EarlyStoppingConfig& s = e.early_stopping;
    check_one_of(fail, "early_stopping.metric", s.metric, {"val_loss", "val_accuracy"}, "metric");
    check_at_least(fail, "early_stopping.patience", s.patience, 1);
    check_range(fail, "early_stopping.min_delta", s.min_delta, 0, inf, false, true);
}

void write_run_control(Writer& w, const Experiment& e) {
    w.section("checkpoint");
    w.key("every_steps", std::to_string(e.checkpoint.every_steps), 2,
          "also save resume.pt every N optimizer steps; 0: no");
    w.key("every_minutes", number_text(e.checkpoint.every_minutes), 2,
          "and after this many minutes; 0: only at the end of each epoch");
    const EarlyStoppingConfig& s = e.early_stopping;
    w.section("early_stopping");
    w.key("enabled", yaml_bool(s.enabled), 2, "stop when the metric stops improving");
    w.key("metric", yaml_string(s.metric), 2, "val_loss or val_accuracy");
    w.key("patience", std::to_string(s.patience), 2, "epochs without improvement");
    w.key("min_delta", number_text(s.min_delta), 2, "smallest change that counts");
}

}  // namespace wb::detail
