// The batching loader. Workers claim batch indices in order, at most `prefetch` batches ahead
// of the consumer, and write each sample straight into the batch tensor. Worker threads live
// for one epoch: start_epoch() cancels and joins them before it starts new ones.

#include "engine/loader.h"

#include <ATen/ops/empty.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <numeric>
#include <opencv2/core.hpp>
#include <random>
#include <string>
#include <thread>

#include "engine/clip_cache.h"
#include "engine/clips.h"
#include "engine/errors.h"
#include "engine/image_io.h"
#include "engine/transforms.h"

namespace wb {

struct Loader::Impl {
    std::vector<Sample> samples;
    Preprocessing pre;
    LoaderOptions opt;
    std::size_t batches = 0;
    std::size_t sample_floats = 0;  ///< floats per preprocessed sample

    // Decoded images as stored in the file (8- or 16-bit), shared by all epochs. Once an
    // image does not fit in cache_bytes, no more are added.
    mutable std::mutex cache_mutex;
    std::vector<cv::Mat> cache;         // guarded by cache_mutex
    bool cache_full = false;            // guarded by cache_mutex
    std::vector<char> bad;              // guarded by cache_mutex; 1 = failed to decode
    std::vector<SkippedFile> failures;  // guarded by cache_mutex
    std::atomic<std::size_t> cache_used{0};
    /// Video datasets: decoded videos, by path (the clips of one video share it).
    std::unique_ptr<ClipCache> clips;

    // The current epoch. `order` and `epoch` change only while no worker runs.
    std::vector<std::size_t> order;
    int epoch = 0;
    bool started = false;
    std::vector<std::thread> threads;

    std::mutex mutex;
    std::condition_variable work_cv;   // workers wait for room ahead of the consumer
    std::condition_variable ready_cv;  // the consumer waits for its batch
    std::size_t next_claim = 0;        // guarded by mutex: next batch a worker takes
    std::size_t next_out = 0;          // guarded by mutex: next batch the consumer gets
    /// A prepared batch, or the exception that preparing it raised.
    struct Slot {
        Batch batch;
        std::exception_ptr error;
    };
    std::map<std::size_t, Slot> ready;  // guarded by mutex
    bool failed = false;                // guarded by mutex: a batch failed, stop claiming
    bool cancel = false;                // guarded by mutex

    /// A decoded sample: an image, or a video for video datasets.
    struct Decoded {
        cv::Mat image;
        std::shared_ptr<const DecodedVideo> video;
        bool ok() const { return !image.empty() || video; }
    };
    cv::Mat load(std::size_t index);
    Decoded load_sample(std::size_t index);
    void mark_bad(std::size_t index, const std::string& reason);
    std::size_t load_at(std::size_t pos, Decoded* sample);
    Batch make_batch(std::size_t b);
    void worker();
    void stop();
};

/// The decoded image of sample `index`, from the cache or the file; empty when it fails.
cv::Mat Loader::Impl::load(std::size_t index) {
    {
        std::lock_guard<std::mutex> lock(cache_mutex);
        if (!cache[index].empty() || bad[index]) {
            return cache[index];
        }
    }
    std::string reason;
    cv::Mat raw = read_image_raw(samples[index].path, &reason);
    std::lock_guard<std::mutex> lock(cache_mutex);
    if (raw.empty()) {
        if (!bad[index]) {
            bad[index] = 1;
            failures.push_back({samples[index].path, reason});
        }
        return raw;
    }
    const std::size_t bytes = raw.total() * raw.elemSize();
    if (!cache_full && cache[index].empty()) {
        if (cache_used + bytes <= opt.cache_bytes) {
            cache[index] = raw;
            cache_used += bytes;
        } else {
            cache_full = true;
        }
    }
    return raw;
}

/// Records that sample `index` failed; the clips of one video are listed once.
void Loader::Impl::mark_bad(std::size_t index, const std::string& reason) {
    std::lock_guard<std::mutex> lock(cache_mutex);
    if (bad[index]) {
        return;
    }
    bad[index] = 1;
    const std::string& path = samples[index].path;
    if (std::none_of(failures.begin(), failures.end(),
                     [&](const SkippedFile& f) { return f.path == path; })) {
        failures.push_back({path, reason});
    }
}

Loader::Impl::Decoded Loader::Impl::load_sample(std::size_t index) {
    Decoded d;
    if (!clips) {
        d.image = load(index);
        return d;
    }
    {
        std::lock_guard<std::mutex> lock(cache_mutex);
        if (bad[index]) {
            return d;
        }
    }
    const std::string& path = samples[index].path;
    const int side = pre.resize_side();
    std::string reason;
    d.video = clips->get(
        path, [&](std::string* error) { return decode_video(path, side, error); }, &reason);
    if (!d.video) {
        mark_bad(index, reason);
    }
    return d;
}

/// Loads the sample at position `pos` of the epoch's order or, when it fails, the next good
/// one after it (wrapping around). Returns the sample index.
std::size_t Loader::Impl::load_at(std::size_t pos, Decoded* sample) {
    const std::size_t n = order.size();
    for (std::size_t k = 0; k < n; ++k) {
        const std::size_t index = order[(pos + k) % n];
        *sample = load_sample(index);
        if (sample->ok()) {
            return index;
        }
    }
    std::lock_guard<std::mutex> lock(cache_mutex);
    throw DataError("None of the " + std::to_string(n) + (clips ? " clips" : " images") +
                    " could be loaded; first: " + failures.front().path + ": " +
                    failures.front().reason);
}

Batch Loader::Impl::make_batch(std::size_t b) {
    const std::size_t bs = std::size_t(opt.batch_size);
    const std::size_t begin = (b * std::size_t(opt.shard_count) + std::size_t(opt.shard_rank)) * bs;
    const std::size_t count = std::min(order.size(), begin + bs) - begin;
    const auto n = static_cast<std::int64_t>(count);
    Batch batch;
    batch.images =
        pre.is_video()
            ? at::empty({n, pre.channels, pre.clip_frames, pre.image_size, pre.image_size},
                        at::kFloat)
            : at::empty({n, pre.channels, pre.image_size, pre.image_size}, at::kFloat);
    batch.labels = at::empty({n}, at::kLong);
    batch.indices.resize(count);
    float* images = batch.images.data_ptr<float>();
    std::int64_t* labels = batch.labels.data_ptr<std::int64_t>();
    const std::uint64_t epoch_seed = mix_seed(opt.seed, static_cast<std::uint64_t>(epoch));
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t pos = begin + i;
        Decoded sample;
        const std::size_t index = load_at(pos, &sample);
        const std::uint64_t s = mix_seed(epoch_seed, pos);
        std::mt19937 rng(static_cast<std::uint32_t>(s ^ (s >> 32)));
        if (sample.video) {
            const bool random = opt.train && pre.clip_sampling == "random";
            const std::vector<int> frames = clip_frame_indices(
                sample.video->frames, pre.clip_frames, pre.frame_stride, samples[index].clip,
                std::max(1, pre.clips_per_video), random, rng);
            clip_into(*sample.video, frames, pre, opt.train, rng, images + i * sample_floats);
        } else {
            preprocess_into(sample.image, pre, opt.train, rng, images + i * sample_floats);
        }
        labels[i] = samples[index].label;
        batch.indices[i] = static_cast<std::int64_t>(index);
    }
    return batch;
}

void Loader::Impl::worker() {
    const std::size_t ahead = std::size_t(std::max({1, opt.prefetch, opt.workers}));
    std::unique_lock<std::mutex> lock(mutex);
    while (true) {
        work_cv.wait(lock, [&] {
            return cancel || failed || next_claim >= batches || next_claim < next_out + ahead;
        });
        if (cancel || failed || next_claim >= batches) {
            return;
        }
        const std::size_t b = next_claim++;
        lock.unlock();
        Slot slot;
        try {
            slot.batch = make_batch(b);
        } catch (...) {
            slot.error = std::current_exception();
        }
        lock.lock();
        if (slot.error) {
            failed = true;
            work_cv.notify_all();
        }
        if (!cancel) {
            ready.emplace(b, std::move(slot));
        }
        ready_cv.notify_all();
    }
}

void Loader::Impl::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex);
        cancel = true;
    }
    work_cv.notify_all();
    for (std::thread& t : threads) {
        t.join();
    }
    threads.clear();
    std::lock_guard<std::mutex> lock(mutex);
    cancel = false;
    failed = false;
    ready.clear();
}

Loader::Loader(std::vector<Sample> samples, Preprocessing preprocessing, LoaderOptions options)
    : impl_(std::make_unique<Impl>()) {
    if (options.batch_size <= 0) {
        throw std::invalid_argument("Loader: batch_size must be positive");
    }
    if (options.shard_count <= 0 || options.shard_rank < 0 ||
        options.shard_rank >= options.shard_count) {
        throw std::invalid_argument("Loader: shard " + std::to_string(options.shard_rank) + " of " +
                                    std::to_string(options.shard_count) + " does not exist");
    }
    Impl& d = *impl_;
    d.samples = std::move(samples);
    d.pre = std::move(preprocessing);
    d.opt = options;
    const std::size_t n = d.samples.size();
    const std::size_t bs = std::size_t(options.batch_size);
    if (options.shard_count > 1) {
        d.batches = n / (bs * std::size_t(options.shard_count));
    } else {
        d.batches = options.drop_last ? n / bs : (n + bs - 1) / bs;
    }
    d.sample_floats = std::size_t(d.pre.channels) * d.pre.image_size * d.pre.image_size *
                      std::size_t(std::max(1, d.pre.clip_frames));
    if (d.pre.is_video()) {
        d.clips = std::make_unique<ClipCache>(options.cache_bytes, options.disk_cache_dir,
                                              options.disk_cache_bytes);
    }
    d.cache.resize(n);
    d.bad.assign(n, 0);
}

Loader::~Loader() {
    impl_->stop();
}

void Loader::start_epoch(int epoch, std::size_t first_batch) {
    Impl& d = *impl_;
    d.stop();
    d.epoch = epoch;
    d.order = d.opt.shuffle
                  ? seeded_permutation(d.samples.size(),
                                       mix_seed(d.opt.seed, static_cast<std::uint64_t>(epoch)))
                  : std::vector<std::size_t>(d.samples.size());
    if (!d.opt.shuffle) {
        std::iota(d.order.begin(), d.order.end(), std::size_t(0));
    }
    d.next_claim = std::min(first_batch, d.batches);
    d.next_out = d.next_claim;
    d.started = true;
    const int workers = static_cast<int>(
        std::min<std::size_t>(std::size_t(std::max(0, d.opt.workers)), d.batches - d.next_out));
    for (int t = 0; t < workers; ++t) {
        d.threads.emplace_back([&d] { d.worker(); });
    }
}

std::optional<Batch> Loader::next() {
    Impl& d = *impl_;
    std::unique_lock<std::mutex> lock(d.mutex);
    if (!d.started || d.next_out >= d.batches) {
        return std::nullopt;
    }
    if (d.threads.empty()) {
        const std::size_t b = d.next_out++;
        lock.unlock();
        return d.make_batch(b);
    }
    d.ready_cv.wait(lock, [&] { return d.ready.count(d.next_out) > 0; });
    Impl::Slot slot = std::move(d.ready.extract(d.next_out).mapped());
    if (slot.error) {
        d.next_out = d.batches;  // the epoch ends here
        std::rethrow_exception(slot.error);
    }
    ++d.next_out;
    lock.unlock();
    d.work_cv.notify_all();
    return std::move(slot.batch);
}

std::size_t Loader::size() const {
    return impl_->samples.size();
}

std::size_t Loader::num_batches() const {
    return impl_->batches;
}

std::size_t Loader::skipped() const {
    std::lock_guard<std::mutex> lock(impl_->cache_mutex);
    return impl_->failures.size();
}

std::vector<SkippedFile> Loader::skipped_files() const {
    std::lock_guard<std::mutex> lock(impl_->cache_mutex);
    return impl_->failures;
}

std::size_t Loader::cache_bytes_used() const {
    return impl_->clips ? impl_->clips->memory_bytes_used() : impl_->cache_used.load();
}

std::size_t Loader::disk_cache_bytes_used() const {
    return impl_->clips ? impl_->clips->disk_bytes_used() : 0;
}

std::size_t Loader::videos_decoded() const {
    return impl_->clips ? impl_->clips->decoded() : 0;
}

const std::vector<Sample>& Loader::samples() const {
    return impl_->samples;
}

}  // namespace wb
