#pragma once

namespace wb {

/// Makes idle OpenMP threads sleep instead of spinning, by re-executing the program once with
/// OMP_WAIT_POLICY=PASSIVE (libgomp reads it only when it is loaded). On a machine with few
/// cores, the spinning threads of libtorch's pool otherwise take the cores that the loader's
/// decoding threads need, and training runs several times slower. A value the user set is
/// kept. Call it first thing in main(); it returns when nothing needs to change or the
/// re-execution fails.
void use_passive_openmp_wait(char** argv);

}  // namespace wb
