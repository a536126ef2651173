// Benchmark (not a test): the cost of a learning-rate range test against the same number of
// plain training steps on the same model, optimizer and data, the test's snapshot and restore
// included. Prints the median of several alternating rounds and the ratio (goal: within 5%).
// Usage: bench_lr_finder DATASET_FOLDER [MODEL] [BATCH] [STEPS] [ROUNDS]

#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/image_folder.h"
#include "engine/loader.h"
#include "engine/lr_finder.h"
#include "engine/models.h"
#include "engine/trainer.h"
#include "engine/transforms.h"

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

/// `steps` optimizer steps as an ordinary training loop takes them, at the range test's rates.
void plain_steps(wb::Classifier& model, torch::optim::Optimizer& opt, wb::Loader& loader,
                 const std::vector<double>& lrs) {
    model.train();
    int epoch = 0;
    loader.start_epoch(epoch);
    for (double lr : lrs) {
        auto batch = loader.next();
        if (!batch) {
            loader.start_epoch(++epoch);
            batch = loader.next();
        }
        for (auto& group : opt.param_groups()) {
            group.options().set_lr(lr);
        }
        opt.zero_grad();
        auto loss =
            torch::nn::functional::cross_entropy(model.forward(batch->images), batch->labels);
        const double value = loss.item<double>();
        (void)value;
        loss.backward();
        opt.step();
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s DATASET_FOLDER [MODEL] [BATCH] [STEPS] [ROUNDS]\n",
                     argv[0]);
        return 2;
    }
    const std::string arch = argc > 2 ? argv[2] : "small_cnn";
    const int batch = argc > 3 ? std::atoi(argv[3]) : 64;
    const int steps = argc > 4 ? std::atoi(argv[4]) : 100;
    const int rounds = argc > 5 ? std::atoi(argv[5]) : 5;
    wb::set_threads(0);

    wb::SplitOptions split;
    split.val_fraction = 0;
    split.test_fraction = 0;
    split.verify_decode = false;
    const auto scan = wb::scan_image_folder(argv[1], split);
    wb::Preprocessing pre;
    pre.image_size = arch == "small_cnn" ? 28 : 32;
    pre.channels = arch == "small_cnn" ? 1 : 3;
    pre.normalize = "none";
    wb::LoaderOptions lo;
    lo.batch_size = batch;
    lo.workers = 2;
    wb::Loader loader(scan.train, pre, lo);

    torch::manual_seed(1);
    wb::ModelSpec spec;
    spec.arch = arch;
    spec.num_classes = static_cast<int>(scan.classes.size());
    spec.in_channels = pre.channels;
    auto model = wb::make_model(spec);
    torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));

    wb::LrFinderOptions o;
    o.start = 1e-7;
    o.end = 1e-2;  // the cost does not depend on the rates; this keeps every step finite
    o.num_iter = steps;
    o.diverge_threshold = 0;
    const auto lrs = wb::lr_range(o);
    std::atomic<bool> cancel{false};

    // Warm-up: decoder caches, allocator, first-step costs.
    plain_steps(*model, opt, loader, std::vector<double>(lrs.begin(), lrs.begin() + 10));

    std::vector<double> plain, test;
    for (int r = 0; r < rounds; ++r) {
        auto start = Clock::now();
        const auto result = wb::range_test(*model, opt, loader, o, cancel);
        test.push_back(since(start));
        if (static_cast<int>(result.lrs.size()) != steps) {
            std::fprintf(stderr, "the range test stopped after %zu steps (%s)\n", result.lrs.size(),
                         result.stop_reason.c_str());
            return 1;
        }
        start = Clock::now();
        plain_steps(*model, opt, loader, lrs);
        plain.push_back(since(start));
        std::printf("round %d: range test %.3f s, plain steps %.3f s\n", r + 1, test.back(),
                    plain.back());
    }
    const double t = median(test), p = median(plain);
    std::printf("model %s, batch %d, %d steps, %d rounds (medians)\n", arch.c_str(), batch, steps,
                rounds);
    std::printf("range_test_seconds %.3f\nplain_steps_seconds %.3f\n", t, p);
    std::printf("overhead %.2f%% (goal: within 5%%)\n", 100 * (t / p - 1));
    return 0;
}
