#pragma once

namespace wb {

/// Makes idle OpenMP threads sleep instead of spinning, by re-executing the program once with
/// OMP_WAIT_POLICY=PASSIVE (libgomp reads it only when it is loaded). The window uses it: its
/// own thread, the loader's threads and libtorch's pool share few cores, and when anything
/// else runs on the machine, spinning threads make training several times slower (measured
/// on 2 cores with one core busy: 152 img/s spinning, 280 passive, ResNet18 at 32x32). On an
/// idle machine spinning is about 25% faster, so the headless executable keeps libgomp's
/// default. A value the user set is kept. Call it first thing in main(); it returns when
/// nothing needs to change or the re-execution fails.
void use_passive_openmp_wait(char** argv);

}  // namespace wb
