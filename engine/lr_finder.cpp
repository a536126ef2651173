#include "engine/lr_finder.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "engine/loader.h"
#include "engine/models.h"

namespace wb {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Below this, |best| is treated as this scale in diverged().
constexpr double kDivergeFloor = 1e-3;

/// The finite points of a curve: x = log10(lr), y = smoothed loss, and their positions.
struct FinitePoints {
    std::vector<double> x, y;
    std::vector<std::size_t> at;
};

FinitePoints finite_points(const std::vector<double>& lrs, const std::vector<double>& smoothed) {
    FinitePoints p;
    const std::size_t n = std::min(lrs.size(), smoothed.size());
    for (std::size_t i = 0; i < n; ++i) {
        if (std::isfinite(lrs[i]) && lrs[i] > 0 && std::isfinite(smoothed[i])) {
            p.x.push_back(std::log10(lrs[i]));
            p.y.push_back(smoothed[i]);
            p.at.push_back(i);
        }
    }
    return p;
}

}  // namespace

std::vector<double> lr_range(const LrFinderOptions& o) {
    if (!(o.start > 0) || !(o.end > o.start) || !std::isfinite(o.end)) {
        throw std::invalid_argument("lr finder: the rates need 0 < start < end");
    }
    if (o.num_iter < 2) {
        throw std::invalid_argument("lr finder: num_iter must be at least 2");
    }
    std::vector<double> lrs(static_cast<std::size_t>(o.num_iter));
    const double last = o.num_iter - 1;
    for (int i = 0; i < o.num_iter; ++i) {
        const double t = i / last;
        lrs[i] = o.exponential ? o.start * std::pow(o.end / o.start, t)
                               : o.start + (o.end - o.start) * t;
    }
    lrs.back() = o.end;  // pow() may miss the end by an ulp
    return lrs;
}

std::vector<double> smooth_losses(const std::vector<double>& raw, double beta) {
    std::vector<double> out(raw.size(), kNaN);
    double avg = 0;
    int k = 0;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (!std::isfinite(raw[i])) {
            continue;
        }
        ++k;
        avg = beta * avg + (1 - beta) * raw[i];
        out[i] = beta > 0 ? avg / (1 - std::pow(beta, k)) : raw[i];
    }
    return out;
}

bool diverged(double smoothed, double best, double threshold) {
    if (threshold <= 0) {
        return false;
    }
    if (!std::isfinite(smoothed)) {
        return true;
    }
    const double margin = std::max(threshold - 1, 0.0) * std::max(std::abs(best), kDivergeFloor);
    return smoothed - best > margin;
}

std::optional<double> suggest_steepest(const std::vector<double>& lrs,
                                       const std::vector<double>& smoothed, int skip_start,
                                       int skip_end) {
    const FinitePoints p = finite_points(lrs, smoothed);
    const long n = static_cast<long>(p.y.size());
    const long first = std::max(skip_start, 0);
    const long stop = n - std::max(skip_end, 0);  // one past the last point kept
    if (stop - first < 2) {
        return std::nullopt;
    }
    const long lowest =
        static_cast<long>(std::min_element(p.y.begin() + first, p.y.begin() + stop) - p.y.begin());
    const long last = lowest;  // only up to the minimum
    if (last - first < 1) {
        return std::nullopt;
    }
    long best_i = -1;
    double best_slope = 0;
    for (long i = first; i <= last; ++i) {
        const long lo = std::max(i - 1, first);
        const long hi = std::min(i + 1, last);
        const double dx = p.x[hi] - p.x[lo];
        if (!(dx > 0)) {
            continue;
        }
        const double slope = (p.y[hi] - p.y[lo]) / dx;
        if (best_i < 0 || slope < best_slope) {
            best_i = i;
            best_slope = slope;
        }
    }
    if (best_i < 0) {
        return std::nullopt;
    }
    return lrs[p.at[best_i]];
}

std::optional<double> suggest_valley(const std::vector<double>& lrs,
                                     const std::vector<double>& smoothed) {
    const FinitePoints p = finite_points(lrs, smoothed);
    const std::size_t n = p.y.size();
    if (n < 2) {
        return std::nullopt;
    }
    // length[i]: longest strictly descending subsequence ending at i; from[i]: where it starts.
    std::vector<int> length(n, 1);
    std::vector<std::size_t> from(n);
    std::size_t end = 0;
    for (std::size_t i = 0; i < n; ++i) {
        from[i] = i;
        for (std::size_t j = 0; j < i; ++j) {
            if (p.y[i] < p.y[j] && length[j] + 1 > length[i]) {
                length[i] = length[j] + 1;
                from[i] = from[j];
            }
        }
        if (length[i] > length[end]) {
            end = i;
        }
    }
    if (length[end] < 2) {
        return std::nullopt;  // the loss never fell: there is no valley
    }
    const std::size_t start = from[end];
    const std::size_t pick = start + 2 * (end - start) / 3;
    return lrs[p.at[pick]];
}

std::optional<double> suggest_min_div10(const std::vector<double>& lrs,
                                        const std::vector<double>& smoothed) {
    const FinitePoints p = finite_points(lrs, smoothed);
    if (p.y.size() < 2) {
        return std::nullopt;
    }
    const auto lowest = std::min_element(p.y.begin(), p.y.end()) - p.y.begin();
    return lrs[p.at[lowest]] / 10;
}

LrRangeRecorder::LrRangeRecorder(const LrFinderOptions& options) : m_options(options) {}

bool LrRangeRecorder::record(double lr, double loss) {
    m_result.lrs.push_back(lr);
    m_result.losses.push_back(loss);
    if (!std::isfinite(loss)) {
        m_result.smoothed.push_back(kNaN);
        m_result.stop_reason = "non-finite loss";
        return false;
    }
    const double beta = m_options.smooth_beta;
    ++m_finite;
    m_avg = beta * m_avg + (1 - beta) * loss;
    const double s = beta > 0 ? m_avg / (1 - std::pow(beta, m_finite)) : loss;
    m_result.smoothed.push_back(s);
    if (m_has_best && diverged(s, m_best, m_options.diverge_threshold)) {
        m_result.stop_reason = "diverged";
        return false;
    }
    if (!m_has_best || s < m_best) {
        m_best = s;
        m_has_best = true;
    }
    return true;
}

void LrRangeRecorder::stop(const std::string& reason) {
    m_result.stop_reason = reason;
}

LrFinderResult LrRangeRecorder::finish() const {
    LrFinderResult r = m_result;
    if (r.stop_reason.empty()) {
        r.stop_reason = "completed";
    }
    r.steepest = suggest_steepest(r.lrs, r.smoothed);
    r.valley = suggest_valley(r.lrs, r.smoothed);
    r.min_div10 = suggest_min_div10(r.lrs, r.smoothed);
    r.warnings = suggestion_warnings(r);
    return r;
}

std::vector<std::string> suggestion_warnings(const LrFinderResult& r) {
    std::vector<std::string> out;
    if (r.stop_reason == "cancelled") {
        out.push_back(
            "the test was stopped before its end: the suggestions come from part of "
            "the curve");
    }
    double first = kNaN;
    for (double s : r.smoothed) {
        if (std::isfinite(s)) {
            first = s;
            break;
        }
    }
    const auto check = [&](const char* name, const std::optional<double>& lr) {
        if (!lr) {
            return;
        }
        const auto it = std::find(r.lrs.begin(), r.lrs.end(), *lr);
        if (it != r.lrs.end()) {
            const double loss = r.smoothed[static_cast<std::size_t>(it - r.lrs.begin())];
            // A tenth of the start's size above it: early noise lifts the smoothed loss a
            // little above its first value on healthy curves, a diverged one is far above.
            if (std::isfinite(loss) && std::isfinite(first) &&
                loss > first + 0.1 * std::abs(first)) {
                char text[256];
                std::snprintf(text, sizeof text,
                              "%s (%.3g) lies where the smoothed loss (%.4g) is above its start "
                              "(%.4g): the curve has probably diverged there; look at the plot",
                              name, *lr, loss, first);
                out.emplace_back(text);
            }
        }
    };
    check("steepest", r.steepest);
    check("valley", r.valley);
    if (r.min_div10 && !r.lrs.empty() && *r.min_div10 < r.lrs.front()) {
        char text[256];
        std::snprintf(text, sizeof text,
                      "min/10 (%.3g) is below the first rate of the test (%.3g): the loss never "
                      "fell; start lower or train longer",
                      *r.min_div10, r.lrs.front());
        out.emplace_back(text);
    }
    return out;
}

namespace {

/// Deep copies of everything a range test changes, put back by restore().
class Snapshot {
public:
    Snapshot(Classifier& model, torch::optim::Optimizer& optimizer)
        : m_model(model), m_optimizer(optimizer), m_training(model.is_training()) {
        torch::NoGradGuard no_grad;
        for (const auto& p : model.parameters()) {
            m_params.push_back(p.detach().clone());
            m_grads.push_back(p.grad().defined() ? p.grad().detach().clone() : torch::Tensor());
        }
        for (const auto& b : model.buffers()) {
            m_buffers.push_back(b.detach().clone());
        }
        torch::save(optimizer, m_optimizer_bytes);
        // torch::load() of libtorch 1.13 leaves the groups' options as they are: copy them.
        for (const auto& group : optimizer.param_groups()) {
            m_options.push_back(group.options().clone());
        }
        {
            auto gen = at::detail::getDefaultCPUGenerator();
            std::lock_guard<std::mutex> lock(gen.mutex());
            m_cpu_rng = gen.get_state();
        }
        if (!m_params.empty() && m_params.front().is_cuda()) {
            m_cuda_device = m_params.front().device();
            auto gen = at::globalContext().defaultGenerator(*m_cuda_device);
            std::lock_guard<std::mutex> lock(gen.mutex());
            m_cuda_rng = gen.get_state();
        }
    }

    void restore() {
        {
            torch::NoGradGuard no_grad;
            auto params = m_model.parameters();
            for (std::size_t i = 0; i < params.size(); ++i) {
                params[i].copy_(m_params[i]);
                params[i].mutable_grad() = m_grads[i];
            }
            auto buffers = m_model.buffers();
            for (std::size_t i = 0; i < buffers.size(); ++i) {
                buffers[i].copy_(m_buffers[i]);
            }
        }
        m_model.train(m_training);
        // Loading puts back only the states it holds; states the test created must go first.
        m_optimizer.state().clear();
        std::istringstream in(m_optimizer_bytes.str());
        torch::load(m_optimizer, in);
        auto& groups = m_optimizer.param_groups();
        for (std::size_t i = 0; i < groups.size(); ++i) {
            groups[i].set_options(m_options[i]->clone());
        }
        {
            auto gen = at::detail::getDefaultCPUGenerator();
            std::lock_guard<std::mutex> lock(gen.mutex());
            gen.set_state(m_cpu_rng);
        }
        if (m_cuda_device) {
            auto gen = at::globalContext().defaultGenerator(*m_cuda_device);
            std::lock_guard<std::mutex> lock(gen.mutex());
            gen.set_state(m_cuda_rng);
        }
    }

private:
    Classifier& m_model;
    torch::optim::Optimizer& m_optimizer;
    bool m_training;
    std::vector<torch::Tensor> m_params, m_grads, m_buffers;
    std::stringstream m_optimizer_bytes;
    std::vector<std::unique_ptr<torch::optim::OptimizerOptions>> m_options;
    torch::Tensor m_cpu_rng, m_cuda_rng;
    std::optional<torch::Device> m_cuda_device;
};

/// The next batch, starting the loader's next epoch when the current one is over.
Batch next_batch(Loader& loader, int& epoch) {
    if (auto batch = loader.next()) {
        return std::move(*batch);
    }
    loader.start_epoch(++epoch);
    if (auto batch = loader.next()) {
        return std::move(*batch);
    }
    throw std::runtime_error("lr finder: the loader gives no batch");
}

/// The mean cross-entropy of `batches`, in eval mode without gradients; the model is put back
/// in training mode.
double subset_loss(Classifier& model, const std::vector<Batch>& batches,
                   const torch::Device& device) {
    torch::NoGradGuard no_grad;
    model.eval();
    double sum = 0;
    std::int64_t count = 0;
    for (const auto& batch : batches) {
        auto logits = model.forward(batch.images.to(device));
        sum += torch::nn::functional::cross_entropy(
                   logits, batch.labels.to(device),
                   torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                   .item<double>();
        count += batch.labels.size(0);
    }
    model.train();
    return sum / static_cast<double>(std::max<std::int64_t>(count, 1));
}

std::vector<Batch> fixed_subset(Loader& validation, int batches) {
    std::vector<Batch> subset;
    validation.start_epoch(0);
    while (static_cast<int>(subset.size()) < batches) {
        auto batch = validation.next();
        if (!batch) {
            break;
        }
        subset.push_back(std::move(*batch));
    }
    if (subset.empty()) {
        throw std::invalid_argument("lr finder: the validation loader gives no batch");
    }
    return subset;
}

LrFinderResult run_steps(Classifier& model, torch::optim::Optimizer& optimizer, Loader& loader,
                         const LrFinderOptions& options, const std::atomic<bool>& cancel,
                         const LrFinderCallback& on_step, Loader* validation) {
    const std::vector<double> lrs = lr_range(options);
    if (optimizer.param_groups().empty()) {
        throw std::invalid_argument("lr finder: the optimizer has no parameter group");
    }
    if (options.accumulate < 1) {
        throw std::invalid_argument("lr finder: accumulate must be at least 1");
    }
    const auto params = model.parameters();
    const torch::Device device =
        params.empty() ? torch::Device(torch::kCPU) : params.front().device();
    const std::vector<Batch> subset =
        validation ? fixed_subset(*validation, options.val_batches) : std::vector<Batch>();
    LrRangeRecorder recorder(options);
    model.train();
    int epoch = 0;
    loader.start_epoch(epoch);
    for (int i = 0; i < options.num_iter; ++i) {
        if (cancel) {
            recorder.stop("cancelled");
            break;
        }
        auto& groups = optimizer.param_groups();
        for (std::size_t g = 0; g < groups.size(); ++g) {
            const auto& factors = options.lr_factors;
            groups[g].options().set_lr(g < factors.size() ? lrs[i] * factors[g] : lrs[i]);
        }
        optimizer.zero_grad();
        double train_loss = 0;
        for (int k = 0; k < options.accumulate; ++k) {
            Batch batch = next_batch(loader, epoch);
            auto logits = model.forward(batch.images.to(device));
            auto loss = torch::nn::functional::cross_entropy(logits, batch.labels.to(device));
            train_loss += loss.item<double>() / options.accumulate;
            (loss / options.accumulate).backward();
        }
        double value = train_loss;
        if (!subset.empty() && std::isfinite(train_loss)) {
            optimizer.step();
            value = subset_loss(model, subset, device);
        }
        const bool go_on = recorder.record(lrs[i], value);
        if (on_step) {
            on_step({i, lrs[i], value, recorder.smoothed().back()});
        }
        if (!go_on) {
            break;
        }
        if (subset.empty()) {
            optimizer.step();
        }
    }
    return recorder.finish();
}

}  // namespace

LrFinderResult range_test(Classifier& model, torch::optim::Optimizer& optimizer, Loader& loader,
                          const LrFinderOptions& options, const std::atomic<bool>& cancel,
                          const LrFinderCallback& on_step, Loader* validation) {
    Snapshot snapshot(model, optimizer);
    LrFinderResult result;
    try {
        result = run_steps(model, optimizer, loader, options, cancel, on_step, validation);
    } catch (...) {
        snapshot.restore();
        throw;
    }
    snapshot.restore();
    return result;
}

}  // namespace wb
