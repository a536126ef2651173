#pragma once

#include <ATen/core/Tensor.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace wb {

/// Data-parallel training over several processes, started the way torchrun starts them: each
/// process reads RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT and, optionally, LOCAL_RANK,
/// LOCAL_WORLD_SIZE and WB_DIST_TIMEOUT (seconds; 300 when unset) from its environment.
/// Rank 0 serves the rendezvous at MASTER_ADDR:MASTER_PORT and waits for the others.
/// Collectives go over Gloo on the CPU, or NCCL for "cuda" in a libtorch built with it.
///
/// Every rank must call the same collectives in the same order with tensors of the same
/// shapes and types. A collective that fails (a peer that exited, or one that did not take
/// part within the timeout) throws wb::TrainingError naming the operation and the rank; after
/// that the group is unusable and the run must stop.
///
/// Use:
///     auto dist = Distributed::from_environment("cpu");   // null: a single process
///     if (dist) { dist->broadcast_parameters(params_and_buffers); }
///     ... loss.backward(); if (dist) { dist->average_gradients(params); } optimizer.step();
class Distributed {
public:
    /// Null when WORLD_SIZE is unset or 1. Otherwise joins the group, which blocks until
    /// every rank has joined or the timeout passes. Throws wb::ConfigError naming the variable
    /// and its value when one is missing or invalid, and wb::TrainingError when the group
    /// cannot be formed (port in use, a rank that never came). `device_type` is "cpu" or
    /// "cuda"; "cuda" sets this process's device to LOCAL_RANK.
    static std::unique_ptr<Distributed> from_environment(const std::string& device_type);
    ~Distributed();
    Distributed(const Distributed&) = delete;
    Distributed& operator=(const Distributed&) = delete;

    int rank() const;
    int world_size() const;
    /// Rank among the processes on this machine (LOCAL_RANK; RANK when unset).
    int local_rank() const;
    /// Processes on this machine (LOCAL_WORLD_SIZE; WORLD_SIZE when unset): divide the
    /// machine's cores by it for each process's intra-op threads.
    int local_world_size() const;
    /// Rank 0: the one process that writes logs, checkpoints and reports.
    bool is_main() const;
    /// For the rendezvous and for each collective.
    std::chrono::milliseconds timeout() const;

    /// Overwrites `tensors` on every rank with rank 0's values, in place (parameters and
    /// buffers at the start of a run, so that every rank begins from the same model). The
    /// tensors may be of any dtype and need not require grad; autograd does not see the copy.
    void broadcast_parameters(const std::vector<at::Tensor>& tensors);

    /// Replaces each parameter's grad by its mean over the ranks, with one allreduce per
    /// dtype and device. A grad that is undefined on some ranks counts as zeros there, and
    /// afterwards is defined on every rank; one undefined on all ranks stays undefined, so
    /// the optimizers skip it everywhere alike. Sparse grads are refused.
    void average_gradients(const std::vector<at::Tensor>& params);

    /// The sum over the ranks (loss sums, correct and sample counts), exact in double.
    double sum(double value);
    std::vector<double> sum(const std::vector<double>& values);
    /// True on every rank when any rank passes true (a cancel or early-stop request).
    bool any(bool flag);
    /// Returns once every rank has called it.
    void barrier();

private:
    struct Impl;
    explicit Distributed(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace wb
