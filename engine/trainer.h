#pragma once

#include <atomic>

#include "engine/experiment.h"
#include "engine/observer.h"

namespace wb {

/// Runs one experiment: scans the dataset, builds the model, trains, validates each epoch,
/// evaluates the best checkpoint on the test split, and writes a run folder (experiment.yaml,
/// metrics.csv, iterations.csv, classes.txt, last.pt, best.pt). Stops within one batch after
/// `cancel` becomes true. Errors (bad data, non-finite loss) are reported in the result and to
/// the observer, never thrown.
RunResult train(const Experiment& experiment, Observer& observer, const std::atomic<bool>& cancel);

/// Sets the intra-op threads of libtorch: `threads` or, when 0, the number of cores.
void set_threads(int threads);

/// Folder of the bundled demo dataset: $WB_DEMO_DATA, else next to the executable
/// (../share/workbench/demo), else the source tree's resources/demo.
std::string demo_dataset_dir();

}  // namespace wb
