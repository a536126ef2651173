#pragma once

// The learning-rate range test (Leslie Smith, "Cyclical Learning Rates for Training Neural
// Networks", 2015; fastai's lr_find, pytorch-lr-finder): train for a few hundred steps while the
// rate grows from tiny to huge, record the loss at each step, and suggest a rate from the curve.
// The curve arithmetic here is plain C++; range_test() runs it on a model and leaves the model,
// the optimizer and torch's RNG as it found them.

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace torch::optim {
class Optimizer;
}  // namespace torch::optim

namespace wb {

class Classifier;
class Loader;

struct LrFinderOptions {
    double start = 1e-7;  ///< first rate, > 0
    double end = 10;      ///< last rate, > start
    int num_iter = 100;   ///< optimizer steps, >= 2
    /// Rates spaced evenly in log10 (true) or linearly (false); both hit start and end exactly.
    bool exponential = true;
    /// EMA factor of the smoothed loss, in [0, 1); 0 means no smoothing.
    double smooth_beta = 0.98;
    /// Stop once the smoothed loss rises this far above the best one (see diverged()); 0 = off.
    double diverge_threshold = 5.0;
    /// Batches whose gradients are summed into each optimizer step (gradient accumulation);
    /// one point per optimizer step, its loss the mean of the batches' losses. >= 1.
    int accumulate = 1;
    /// Validation-loss mode (range_test() given a validation loader): the first `val_batches`
    /// batches of that loader, fixed for the whole test, evaluated after each step.
    int val_batches = 4;
    /// Rate of each parameter group relative to the tested rate (a backbone trained slower
    /// than the head); 1 for a group without an entry.
    std::vector<double> lr_factors;
};

/// One recorded step. `smoothed` is NaN where `loss` is not finite.
struct LrFinderStep {
    int iteration = 0;  ///< 0-based
    double lr = 0;      ///< the rate of this optimizer step
    double loss = 0;    ///< raw loss of the batch, before the step
    double smoothed = 0;
};

struct LrFinderResult {
    std::vector<double> lrs;  ///< one per recorded step
    std::vector<double> losses;
    std::vector<double> smoothed;
    /// "completed", "diverged", "non-finite loss" or "cancelled".
    std::string stop_reason;
    std::optional<double> steepest;   ///< suggest_steepest() with its default skips
    std::optional<double> valley;     ///< suggest_valley()
    std::optional<double> min_div10;  ///< suggest_min_div10()
    /// Why a suggestion should not be trusted blindly (see suggestion_warnings()).
    std::vector<std::string> warnings;
};

/// Warnings about the suggestions of a finished curve: a test stopped before its end
/// ("cancelled"), a suggestion whose smoothed loss is above the first finite smoothed loss (it
/// sits where the curve has already diverged, as happens with the divergence stop turned off),
/// and a min/10 below the first rate (the loss never fell). Each names the suggestion.
std::vector<std::string> suggestion_warnings(const LrFinderResult& result);

/// The num_iter rates of the test. Exponential: lr_i = start * (end / start)^(i / (num_iter - 1)),
/// so consecutive rates have one constant ratio; linear: a constant difference. Throws
/// std::invalid_argument for start <= 0, end <= start or num_iter < 2.
std::vector<double> lr_range(const LrFinderOptions& options);

/// Bias-corrected exponential moving average: avg = beta * avg + (1 - beta) * x and
/// smoothed = avg / (1 - beta^k), where k counts the finite values so far. A constant loss thus
/// smooths to itself from the first point. A non-finite value is left out of the average and
/// gives NaN at its own position only.
std::vector<double> smooth_losses(const std::vector<double>& raw, double beta);

/// Whether the smoothed loss has diverged from the best smoothed loss so far. For positive
/// losses this is smoothed > threshold * best (pytorch-lr-finder's rule); in general the rise
/// smoothed - best must exceed (threshold - 1) * max(|best|, 1e-3), which also holds for
/// negative losses (best -10, threshold 5: diverged above +30) and keeps a best loss near 0 from
/// stopping the test at the first wiggle. threshold <= 0 turns the check off; a non-finite
/// smoothed loss counts as diverged.
bool diverged(double smoothed, double best, double threshold);

/// The suggestions below look only at points where both the rate (> 0) and the smoothed loss
/// are finite, and return nothing when fewer than 2 such points remain.
///
/// The rate of the most negative slope of the smoothed loss against log10(lr) (central
/// differences, one-sided at the ends), after dropping the first `skip_start` and the last
/// `skip_end` finite points, and only up to the lowest smoothed loss of what is left: a fall
/// after the minimum is the curve blowing up, not learning.
std::optional<double> suggest_steepest(const std::vector<double>& lrs,
                                       const std::vector<double>& smoothed, int skip_start = 10,
                                       int skip_end = 5);

/// fastai's "valley": the longest strictly descending subsequence of the smoothed loss (not
/// necessarily contiguous, so noise does not cut it), from its first point `a` to its last
/// point `b` (the positions among the finite points); the suggestion is the rate at
/// a + floor(2 * (b - a) / 3). fastai takes about half-way; two thirds sits nearer the
/// bottom of the valley, where the loss still falls fast.
std::optional<double> suggest_valley(const std::vector<double>& lrs,
                                     const std::vector<double>& smoothed);

/// The rate at the lowest smoothed loss, divided by 10 (fastai's lr_min).
std::optional<double> suggest_min_div10(const std::vector<double>& lrs,
                                        const std::vector<double>& smoothed);

/// The bookkeeping of one test: record() takes each step's rate and raw loss, keeps the raw and
/// smoothed curves, and says when to stop (non-finite loss, divergence). range_test() drives it;
/// it has no torch, so the stopping rules are testable on made-up losses.
class LrRangeRecorder {
public:
    explicit LrRangeRecorder(const LrFinderOptions& options);

    /// Records a step; returns false when the test must stop here (stop_reason() says why).
    bool record(double lr, double loss);
    /// Sets the stop reason of a test that ends for an outside cause ("cancelled").
    void stop(const std::string& reason);
    const std::string& stop_reason() const { return m_result.stop_reason; }
    const std::vector<double>& smoothed() const { return m_result.smoothed; }
    /// The curves, the stop reason ("completed" if none) and the suggestions.
    LrFinderResult finish() const;

private:
    LrFinderOptions m_options;
    LrFinderResult m_result;
    double m_avg = 0;
    int m_finite = 0;
    double m_best = 0;
    bool m_has_best = false;
};

using LrFinderCallback = std::function<void(const LrFinderStep&)>;

/// Runs the range test: options.num_iter optimizer steps of cross-entropy on batches from
/// `loader` (started again from the next epoch whenever it runs out; options.accumulate
/// batches per step), every parameter group at the step's rate from lr_range(). The point of a
/// step is the training loss before the step or, with a `validation` loader, the mean loss of
/// its first options.val_batches batches (the same images every time, eval mode) after the
/// step. Stops early on a non-finite loss, on divergence or when
/// `cancel` is set (checked before every batch); `on_step` (may be empty) sees each recorded
/// step. Afterwards, also when it throws, the model's parameters, gradients, buffers and
/// train/eval mode, the optimizer's state and hyperparameters, and torch's CPU RNG (and the
/// model device's CUDA RNG) are restored bit for bit. The loader is left mid-epoch.
LrFinderResult range_test(Classifier& model, torch::optim::Optimizer& optimizer, Loader& loader,
                          const LrFinderOptions& options, const std::atomic<bool>& cancel,
                          const LrFinderCallback& on_step = {}, Loader* validation = nullptr);

}  // namespace wb
