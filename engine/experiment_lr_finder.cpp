// The 'lr_finder' section of the experiment file: its keys, checks and how it is written.

#include <limits>
#include <string>
#include <vector>

#include "engine/experiment_io.h"

namespace wb::detail {

namespace {

const std::vector<std::string> kModes = {"exponential", "linear"};
const std::vector<std::string> kLosses = {"train", "val"};

}  // namespace

const std::vector<std::string>& lr_finder_keys() {
    static const std::vector<std::string> keys = {"start_lr", "end_lr",      "num_iter",
                                                  "mode",     "smooth_beta", "diverge_threshold",
                                                  "loss",     "val_batches"};
    return keys;
}

void check_lr_finder(const LrFinderConfig& f, const Fail& fail) {
    const double inf = std::numeric_limits<double>::infinity();
    check_range(fail, "lr_finder.start_lr", f.start_lr, 0, inf, true, true);
    check_range(fail, "lr_finder.end_lr", f.end_lr, 0, inf, true, true);
    if (f.end_lr <= f.start_lr) {
        fail({"lr_finder.end_lr", "lr_finder.start_lr"},
             "lr_finder.end_lr (" + number_text(f.end_lr) + ") must be above lr_finder.start_lr (" +
                 number_text(f.start_lr) + ")");
    }
    check_at_least(fail, "lr_finder.num_iter", f.num_iter, 2);
    check_one_of(fail, "lr_finder.mode", f.mode, kModes, "rate spacing");
    check_range(fail, "lr_finder.smooth_beta", f.smooth_beta, 0, 1, false, true);
    if (f.diverge_threshold != 0) {
        check_range(fail, "lr_finder.diverge_threshold", f.diverge_threshold, 1, inf, true, true);
    }
    check_one_of(fail, "lr_finder.loss", f.loss, kLosses, "loss");
    check_at_least(fail, "lr_finder.val_batches", f.val_batches, 1);
}

void write_lr_finder(Writer& w, const LrFinderConfig& f) {
    w.section("lr_finder");
    w.key("start_lr", number_text(f.start_lr), 2, "the learning-rate range test");
    w.key("end_lr", number_text(f.end_lr), 2);
    w.key("num_iter", std::to_string(f.num_iter), 2, "optimizer steps");
    w.key("mode", yaml_string(f.mode), 2, join(kModes));
    w.key("smooth_beta", number_text(f.smooth_beta), 2, "EMA of the loss, bias-corrected");
    w.key("diverge_threshold", number_text(f.diverge_threshold), 2,
          "stop when the smoothed loss passes this times the best; 0: never");
    w.key("loss", yaml_string(f.loss), 2, "train: each batch; val: a fixed validation subset");
    w.key("val_batches", std::to_string(f.val_batches), 2, "val: batches of the subset");
}

}  // namespace wb::detail
