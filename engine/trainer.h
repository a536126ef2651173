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

/// Continues the run in `run_dir` from its last checkpoint (resume.pt, written at the end of
/// each epoch and inside long ones): model, optimizer state, schedule position, epoch and batch,
/// best score and torch's random generators come back, the rows that metrics.csv and
/// iterations.csv got after the checkpoint are dropped, and training goes on to the planned
/// number of epochs with experiment.yaml's settings. The curves of a resumed run equal those
/// of a run that was never stopped. Refuses (a failed result naming the file) a folder without
/// resume.pt, one another process trains, or a dataset that changed. A non-empty `data_root`
/// reads the dataset from there instead of experiment.yaml's data.root (a run trained in a
/// container, resumed on the desktop).
RunResult resume(const std::string& run_dir, Observer& observer, const std::atomic<bool>& cancel,
                 const std::string& data_root = "");

/// Sets the intra-op threads of libtorch: `threads` or, when 0, the number of cores.
void set_threads(int threads);

/// Folder of the bundled demo dataset: $WB_DEMO_DATA, else next to the executable
/// (../share/workbench/demo), else the source tree's resources/demo.
std::string demo_dataset_dir();

}  // namespace wb
