#pragma once

namespace wb {

/// A TCP port on the loopback address that nothing listens on right now (the kernel's pick),
/// for the rendezvous of processes started on this machine. Another program may take it before
/// it is used. Throws std::runtime_error when no socket can be bound.
int free_loopback_port();

}  // namespace wb
