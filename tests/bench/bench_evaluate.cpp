// Benchmark (not a test): images per second of evaluating ResNet18 at 32x32 over an image
// folder with the workbench's engine: an eval Loader (no shuffle, no augmentation) and
// wb::collect_predictions (eval mode, no grad, softmax, per-image losses, argmax, paths).
// Each repetition builds a fresh Loader (its cache of decoded images starts empty, as a
// DataLoader's workers start afresh) and prints two figures:
//   - from_first_batch: images after the first batch over the time from the end of the first
//     batch's forward pass to the end of collect_predictions (as bench_evaluate.py);
//   - whole: all images over the time from the Loader's construction to the end.
// Then the median of the repetitions, and that of the forward pass alone on a batch in memory.
// tests/bench/bench_evaluate.sh runs it beside the PyTorch script. Usage: bench_evaluate
// DATASET_FOLDER [BATCH] [REPETITIONS] [THREADS] [WORKERS]

#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "engine/evaluation.h"
#include "engine/image_folder.h"
#include "engine/loader.h"
#include "engine/models.h"
#include "engine/preprocessing.h"
#include "engine/trainer.h"
#include "engine/transforms.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/// Forwards to the real model and notes when its first forward pass ends, so that the time
/// from the first batch can be taken inside collect_predictions without changing it. The
/// wrapped model is a submodule, so eval() and train() reach it.
class TimedClassifier : public wb::Classifier {
public:
    explicit TimedClassifier(std::shared_ptr<wb::Classifier> inner)
        : inner_(register_module("inner", std::move(inner))) {}

    torch::Tensor forward(torch::Tensor x) override {
        torch::Tensor y = inner_->forward(std::move(x));
        note(y);
        return y;
    }
    torch::Tensor features(torch::Tensor x) override { return inner_->features(std::move(x)); }
    torch::Tensor classify(torch::Tensor f) override {
        torch::Tensor y = inner_->classify(std::move(f));
        note(y);
        return y;
    }
    std::int64_t feature_size() const override { return inner_->feature_size(); }

    void reset() { calls_ = 0; }
    Clock::time_point first_end() const { return first_end_; }
    std::int64_t first_batch() const { return first_batch_; }

private:
    void note(const torch::Tensor& logits) {
        if (calls_++ == 0) {
            first_end_ = Clock::now();
            first_batch_ = logits.size(0);
        }
    }

    std::shared_ptr<wb::Classifier> inner_;
    int calls_ = 0;
    Clock::time_point first_end_;
    std::int64_t first_batch_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s DATASET_FOLDER [BATCH] [REPETITIONS] [THREADS] [WORKERS]\n",
                     argv[0]);
        return 2;
    }
    const int batch = argc > 2 ? std::atoi(argv[2]) : 256;
    const int repetitions = argc > 3 ? std::atoi(argv[3]) : 3;
    const int threads = argc > 4 ? std::atoi(argv[4]) : 2;
    const int workers = argc > 5 ? std::atoi(argv[5]) : 2;
    wb::set_threads(threads);

    // The folder as bench_train reads it: train/ of a phase layout, nothing held out.
    wb::SplitOptions split;
    split.val_fraction = 0;
    split.test_fraction = 0;
    split.verify_decode = false;
    const wb::DatasetScan scan = wb::scan_image_folder(argv[1], split);

    wb::Preprocessing pre;
    pre.image_size = 32;
    pre.channels = 3;
    pre.normalize = "imagenet";
    wb::resolve_normalization(&pre, scan.train);
    wb::LoaderOptions lo;
    lo.batch_size = batch;
    lo.shuffle = false;
    lo.train = false;
    lo.drop_last = false;
    lo.workers = workers;

    torch::manual_seed(0);
    wb::ModelSpec spec;
    spec.arch = "resnet18";
    spec.num_classes = static_cast<int>(scan.classes.size());
    spec.in_channels = 3;
    auto model = std::make_shared<TimedClassifier>(wb::make_model(spec));
    const c10::Device device(c10::kCPU);

    std::printf("workbench_images %zu\n", scan.train.size());
    std::printf("workbench_threads %d\n", at::get_num_threads());
    std::fflush(stdout);

    // Warm-up on a few batches: allocator, first-call costs, the files into the page cache
    // (the Python script warms up the same way).
    {
        torch::NoGradGuard no_grad;
        model->eval();
        wb::Loader warm(scan.train, pre, lo);
        warm.start_epoch(0);
        for (int i = 0; i < 3; ++i) {
            if (auto b = warm.next()) {
                model->forward(b->images);
            }
        }
    }

    std::vector<double> from_first, whole;
    for (int r = 0; r < repetitions; ++r) {
        model->reset();
        const Clock::time_point start = Clock::now();
        wb::Loader loader(scan.train, pre, lo);
        const wb::Predictions p = wb::collect_predictions(*model, loader, device);
        const Clock::time_point end = Clock::now();
        if (p.size() != scan.train.size() || p.paths.size() != p.size()) {
            std::fprintf(stderr, "collect_predictions returned %zu of %zu images\n", p.size(),
                         scan.train.size());
            return 1;
        }
        const double n = static_cast<double>(p.size());
        from_first.push_back((n - static_cast<double>(model->first_batch())) /
                             seconds_between(model->first_end(), end));
        whole.push_back(n / seconds_between(start, end));
        std::printf("workbench_run %d from_first_batch %.1f whole %.1f\n", r + 1, from_first.back(),
                    whole.back());
        std::fflush(stdout);
    }
    std::printf("workbench_from_first_batch_images_per_second %.1f\n", median(from_first));
    std::printf("workbench_whole_images_per_second %.1f\n", median(whole));

    // The forward pass alone on a batch already in memory (the compute-bound limit), median
    // of the repetitions, each of about 2,560 images.
    torch::NoGradGuard no_grad;
    model->eval();
    const torch::Tensor x = torch::randn({batch, 3, 32, 32});
    const int iterations = std::max(2560 / batch, 5);
    std::vector<double> forward;
    for (int r = 0; r < repetitions; ++r) {
        const Clock::time_point start = Clock::now();
        for (int i = 0; i < iterations; ++i) {
            model->forward(x);
        }
        forward.push_back(iterations * batch / seconds_between(start, Clock::now()));
    }
    std::printf("workbench_forward_images_per_second %.1f\n", median(forward));
    return 0;
}
