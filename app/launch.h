#pragma once

#include <string>
#include <vector>

/// `workbench-cli launch --nproc-per-node N COMMAND...`: starts N copies of this executable on
/// this machine with `COMMAND...` as their arguments and the variables torchrun sets (RANK,
/// LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1, MASTER_PORT: a free port,
/// or `master_port` when it is not 0), so that they train as one data-parallel run. Ctrl-C
/// and SIGTERM are passed on to every process; when one fails, the others are stopped.
/// Returns the first non-zero exit status, or 0.
int launch_local_processes(int nproc, int master_port, const std::vector<std::string>& command);
