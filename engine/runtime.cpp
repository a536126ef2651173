#include "engine/runtime.h"

#include <unistd.h>

#include <cstdlib>

namespace wb {

void use_passive_openmp_wait(char** argv) {
    if (std::getenv("OMP_WAIT_POLICY") != nullptr) {
        return;
    }
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    execv("/proc/self/exe", argv);
    // Still here: the program runs on with the default policy.
}

}  // namespace wb
