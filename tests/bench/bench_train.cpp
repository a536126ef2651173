// Benchmark (not a test): images per second of one training epoch with the workbench's engine,
// and of the training step alone on a batch already in memory (the compute-bound limit).
// Prints one line per figure; tests/bench/bench_resnet18.sh runs it beside the PyTorch script.

#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/models.h"
#include "engine/trainer.h"

namespace {

using Clock = std::chrono::steady_clock;

/// Times the epoch from its first iteration to its last, as the Python script does.
class EpochTimer : public wb::Observer {
public:
    void on_iteration(const wb::IterationStats& it) override {
        if (it.step == 0) {
            start_ = Clock::now();
        }
        end_ = Clock::now();
        images_ += it.step == 0 ? 0 : it.batch_size;
        steps_ = it.step + 1;
    }
    void on_message(wb::Level level, const std::string& text) override {
        if (level != wb::Level::Info) {
            std::fprintf(stderr, "%s\n", text.c_str());
        }
    }
    double seconds() const { return std::chrono::duration<double>(end_ - start_).count(); }
    long long images_ = 0;
    long long steps_ = 0;

private:
    Clock::time_point start_, end_;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s DATASET_FOLDER [BATCH] [STEP_ITERATIONS]\n", argv[0]);
        return 2;
    }
    const int batch = argc > 2 ? std::atoi(argv[2]) : 64;
    const int step_iterations = argc > 3 ? std::atoi(argv[3]) : 50;

    wb::Experiment e;
    e.name = "bench-resnet18";
    e.data.root = argv[1];
    e.data.val_fraction = 0;
    e.data.verify_decode = false;
    e.model.arch = "resnet18";
    e.preprocessing.image_size = 32;
    e.preprocessing.channels = 3;
    e.preprocessing.normalize = "imagenet";
    e.optimizer.type = "sgd";
    e.optimizer.lr = 0.01;
    e.optimizer.momentum = 0.9;
    e.epochs = 1;
    e.batch_size = batch;
    e.runs_dir = "/tmp/wb-bench-runs";

    std::atomic<bool> cancel{false};
    EpochTimer timer;
    wb::RunResult r = wb::train(e, timer, cancel);
    if (r.status != "finished") {
        std::fprintf(stderr, "training failed: %s\n", r.message.c_str());
        return 1;
    }
    // The first step is excluded like the script's: both time from the end of step one.
    std::printf("workbench_epoch_images_per_second %.1f\n", timer.images_ / timer.seconds());

    wb::set_threads(0);
    torch::manual_seed(0);
    auto model = wb::make_model({"resnet18", 10, 3});
    model->train();
    torch::optim::SGD opt(model->parameters(),
                          torch::optim::SGDOptions(0.01).momentum(0.9).weight_decay(5e-4));
    auto x = torch::randn({batch, 3, 32, 32});
    auto y = torch::randint(0, 10, {batch}, torch::kLong);
    auto step = [&] {
        model->zero_grad(/*set_to_none=*/true);
        auto loss = torch::nn::functional::cross_entropy(model->forward(x), y);
        loss.backward();
        opt.step();
    };
    for (int i = 0; i < 3; ++i) {
        step();
    }
    auto t0 = Clock::now();
    for (int i = 0; i < step_iterations; ++i) {
        step();
    }
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("workbench_step_images_per_second %.1f\n", step_iterations * batch / s);
    return 0;
}
