// Benchmark (not a test) of video classification on a folder of videos: videos decoded per
// second (one thread, and through the loader's threads), then C3D-BN training clips per second
// for each epoch: the first decodes every video, later ones read the clip cache (memory, then
// disk). Prints one line per figure, with the cache's memory and disk use and the process's
// peak resident memory.
//
//   bench_video --data DIR [--epochs 3] [--frames 8] [--stride 2] [--size 56] [--resize 64]
//       [--width 0.125] [--batch 8] [--workers 2] [--cache-mb 1024] [--disk-cache-mb 8192]

#include <sys/resource.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "engine/image_folder.h"
#include "engine/loader.h"
#include "engine/models.h"
#include "engine/trainer.h"
#include "engine/video_io.h"

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

double peak_rss_mib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss / 1024.0;  // KiB on Linux
}

}  // namespace

int main(int argc, char** argv) {
    std::string data;
    int epochs = 3, frames = 8, stride = 2, size = 56, resize = 64, batch = 8, workers = 2;
    int cache_mb = 1024, disk_cache_mb = 8192;
    double width = 0.125;
    const std::map<std::string, int*> ints = {
        {"--epochs", &epochs},   {"--frames", &frames},     {"--stride", &stride},
        {"--size", &size},       {"--resize", &resize},     {"--batch", &batch},
        {"--workers", &workers}, {"--cache-mb", &cache_mb}, {"--disk-cache-mb", &disk_cache_mb}};
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        const char* v = argv[i + 1];
        if (a == "--data") {
            data = v;
        } else if (a == "--width") {
            width = std::atof(v);
        } else if (ints.count(a)) {
            *ints.at(a) = std::atoi(v);
        } else {
            std::fprintf(stderr, "unknown option %s\n", a.c_str());
            return 2;
        }
    }
    if (data.empty()) {
        std::fprintf(stderr, "usage: bench_video --data DIR [options]\n");
        return 2;
    }
    wb::set_threads(0);
    wb::SplitOptions split;
    split.verify_decode = false;
    split.clip_frames = frames;
    split.frame_stride = stride;
    const wb::DatasetScan scan = wb::scan_image_folder(data, split);
    std::printf("dataset: %zu training clips, %zu classes\n", scan.train.size(),
                scan.classes.size());

    // Decoding alone, one thread, at the resize side.
    {
        const auto start = Clock::now();
        long long decoded_frames = 0;
        for (const wb::Sample& s : scan.train) {
            decoded_frames += wb::decode_video(s.path, resize).frames;
        }
        const double sec = since(start);
        std::printf(
            "decode, 1 thread: %zu videos (%lld frames) in %.2f s: %.1f videos/s, %.0f "
            "frames/s\n",
            scan.train.size(), decoded_frames, sec, scan.train.size() / sec, decoded_frames / sec);
    }

    wb::Preprocessing p;
    p.image_size = size;
    p.resize = resize;
    p.channels = 3;
    p.random_crop = true;
    p.hflip = true;
    p.mean = wb::kImageNetMean;
    p.std = wb::kImageNetStd;
    p.clip_frames = frames;
    p.frame_stride = stride;
    wb::LoaderOptions lo;
    lo.batch_size = batch;
    lo.workers = workers;
    lo.cache_bytes = std::size_t(cache_mb) << 20;
    lo.disk_cache_bytes = std::size_t(disk_cache_mb) << 20;
    lo.drop_last = true;

    // The loader alone: clips per second with a cold cache, then a warm one.
    {
        wb::Loader loader(scan.train, p, lo);
        for (int e = 0; e < 2; ++e) {
            const auto start = Clock::now();
            std::size_t clips = 0;
            loader.start_epoch(e);
            while (auto b = loader.next()) {
                clips += std::size_t(b->images.size(0));
            }
            const double sec = since(start);
            std::printf("loader only, epoch %d (%s): %.1f clips/s, %zu videos decoded so far\n",
                        e + 1, e == 0 ? "decoding" : "cached", clips / sec,
                        loader.videos_decoded());
        }
    }

    wb::ModelSpec spec;
    spec.arch = "c3d_bn";
    spec.num_classes = static_cast<int>(scan.classes.size());
    spec.in_channels = 3;
    spec.clip_frames = frames;
    spec.image_size = size;
    spec.width = width;
    torch::manual_seed(0);
    auto model = wb::make_model(spec);
    model->train();
    torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
    std::printf("model: c3d_bn width %g, clips %dx%dx%d, %lld parameters\n", width, frames, size,
                size, static_cast<long long>(wb::parameter_count(*model)));
    wb::Loader loader(scan.train, p, lo);
    for (int e = 0; e < epochs; ++e) {
        const auto start = Clock::now();
        std::size_t clips = 0;
        loader.start_epoch(e);
        while (auto b = loader.next()) {
            sgd.zero_grad();
            torch::nn::functional::cross_entropy(model->forward(b->images), b->labels).backward();
            sgd.step();
            clips += std::size_t(b->images.size(0));
        }
        const double sec = since(start);
        std::printf(
            "training, epoch %d: %.1f clips/s (%.1f s), %zu videos decoded so far, cache "
            "%.1f MiB in memory, %.1f MiB on disk, peak RSS %.0f MiB\n",
            e + 1, clips / sec, sec, loader.videos_decoded(), loader.cache_bytes_used() / 1048576.0,
            loader.disk_cache_bytes_used() / 1048576.0, peak_rss_mib());
    }
    return 0;
}
