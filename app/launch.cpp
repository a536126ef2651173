#include "app/launch.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "engine/free_port.h"

namespace {

volatile sig_atomic_t g_signal = 0;

void remember_signal(int signal) {
    g_signal = signal;
}

std::string self_path() {
    char buffer[4096];
    const ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
    if (n <= 0) {
        throw std::runtime_error("launch: cannot find this executable (/proc/self/exe)");
    }
    return std::string(buffer, std::size_t(n));
}

int exit_status(int status) {
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
}

}  // namespace

int launch_local_processes(int nproc, int master_port, const std::vector<std::string>& command) {
    if (nproc < 1) {
        throw std::runtime_error("launch: --nproc-per-node must be at least 1");
    }
    if (command.empty() || (command.front() != "train" && command.front() != "resume")) {
        throw std::runtime_error(
            "launch: the processes run train or resume (for example: launch --nproc-per-node 2 "
            "train --data DIR)");
    }
    const std::string exe = self_path();
    const int port = master_port > 0 ? master_port : wb::free_loopback_port();
    std::fprintf(stderr, "launch: %d processes, rendezvous at 127.0.0.1:%d\n", nproc, port);
    std::signal(SIGINT, remember_signal);
    std::signal(SIGTERM, remember_signal);

    std::vector<pid_t> children;
    for (int rank = 0; rank < nproc; ++rank) {
        const pid_t pid = ::fork();
        if (pid < 0) {
            throw std::runtime_error(std::string("launch: fork: ") + std::strerror(errno));
        }
        if (pid == 0) {
            // A launcher that dies, even by kill -9, takes its processes with it.
            ::prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (::getppid() == 1) {
                std::_Exit(1);
            }
            const std::string r = std::to_string(rank), n = std::to_string(nproc),
                              p = std::to_string(port);
            ::setenv("RANK", r.c_str(), 1);
            ::setenv("LOCAL_RANK", r.c_str(), 1);
            ::setenv("WORLD_SIZE", n.c_str(), 1);
            ::setenv("LOCAL_WORLD_SIZE", n.c_str(), 1);
            ::setenv("MASTER_ADDR", "127.0.0.1", 1);
            ::setenv("MASTER_PORT", p.c_str(), 1);
            std::vector<char*> argv;
            argv.push_back(const_cast<char*>(exe.c_str()));
            for (const std::string& a : command) {
                argv.push_back(const_cast<char*>(a.c_str()));
            }
            argv.push_back(nullptr);
            ::execv(exe.c_str(), argv.data());
            std::fprintf(stderr, "launch: cannot run %s: %s\n", exe.c_str(), std::strerror(errno));
            std::_Exit(127);
        }
        children.push_back(pid);
    }

    int result = 0;
    std::size_t running = children.size();
    bool stopping = false;
    // A process that does not stop within this after being asked (stalled, say) is killed.
    constexpr auto kGrace = std::chrono::seconds(30);
    std::chrono::steady_clock::time_point stop_asked;
    bool killed = false;
    while (running > 0) {
        if (stopping && !killed && std::chrono::steady_clock::now() - stop_asked > kGrace) {
            std::fprintf(stderr, "launch: killing the processes that did not stop\n");
            for (pid_t pid : children) {
                if (pid > 0) {
                    ::kill(pid, SIGKILL);
                }
            }
            killed = true;
        }
        if (g_signal != 0 && !stopping) {
            // Each process stops as Ctrl-C stops a single one.
            for (pid_t pid : children) {
                if (pid > 0) {
                    ::kill(pid, SIGINT);
                }
            }
            stopping = true;
            stop_asked = std::chrono::steady_clock::now();
        }
        int status = 0;
        const pid_t done = ::waitpid(-1, &status, WNOHANG);
        if (done <= 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            continue;
        }
        for (pid_t& pid : children) {
            if (pid != done) {
                continue;
            }
            pid = -1;
            --running;
            const int code = exit_status(status);
            if (code != 0 && result == 0) {
                result = code;
                if (!stopping) {
                    // The others would wait for it at their next collective until the timeout.
                    std::fprintf(stderr,
                                 "launch: a process exited with status %d; stopping the "
                                 "others\n",
                                 code);
                    for (pid_t other : children) {
                        if (other > 0) {
                            ::kill(other, SIGTERM);
                        }
                    }
                    stopping = true;
                    stop_asked = std::chrono::steady_clock::now();
                }
            }
        }
    }
    return result;
}
