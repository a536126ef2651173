#pragma once

// The learning-rate range test of an experiment: its data, model and optimizer, the settings
// of its lr_finder section, and a folder that keeps the curve.

#include <atomic>
#include <string>

#include "engine/experiment.h"
#include "engine/lr_finder.h"
#include "engine/observer.h"

namespace wb {

struct LrFindReport {
    /// <runs_dir>/lr-find/<time>-<name>/, holding experiment.yaml, lr_find.csv (iteration, lr,
    /// loss, smoothed), lr_find.yaml (settings, stop reason, suggestions) and lr_find.png.
    /// Empty when the test failed before it started.
    std::string run_dir;
    /// "finished", "cancelled" or "failed".
    std::string status;
    std::string message;  ///< why it failed
    LrFinderResult result;
    double seconds = 0;
};

/// The options of range_test() from experiment.lr_finder and experiment.grad_accumulation.
LrFinderOptions lr_finder_options(const Experiment& experiment);

/// Scans the data, builds the model and optimizer as train() would (same seed), and runs the
/// range test on them; experiment.lr_finder.loss "val" needs a validation split. Reports each
/// step to observer.on_lr_step() and messages to on_message(). Stops within one step after
/// `cancel` is set, keeping what was recorded. Errors are reported in the result, never thrown.
LrFindReport find_learning_rate(const Experiment& experiment, Observer& observer,
                                const std::atomic<bool>& cancel);

/// Copies lr_find.csv, lr_find.yaml and lr_find.png from a range test's folder into a training
/// run's folder, so that the run keeps the curve its rate came from. Missing files are skipped.
void copy_lr_find_files(const std::string& lr_find_dir, const std::string& run_dir);

/// The suggestions as text, one per line: "steepest  3.16e-03" or "valley  none".
std::string suggestions_text(const LrFinderResult& result);

}  // namespace wb
