#pragma once

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "engine/image_folder.h"
#include "engine/preprocessing.h"

namespace wb {

struct LoaderOptions {
    int batch_size = 64;
    bool shuffle = true;
    /// The order of epoch e is a permutation drawn from (seed, e): the same seed gives the
    /// same batches, whatever the number of workers.
    std::uint64_t seed = 42;
    /// Apply the training augmentations (random crop, flip).
    bool train = true;
    /// Background threads that decode and preprocess; 0 loads in the thread calling next().
    int workers = 2;
    /// Batches prepared (or being prepared) ahead of the consumer; at least `workers`.
    int prefetch = 4;
    /// Decoded images are kept in memory, as decoded (8- or 16-bit, not float), up to this many
    /// bytes; once one does not fit, no more are added.
    std::size_t cache_bytes = std::size_t(1) << 30;
    /// Video datasets: decoded videos that do not fit in cache_bytes go to raw files in a
    /// folder of the loader's own, made in `disk_cache_dir` (empty: the system's temporary
    /// folder) and removed with the loader, up to `disk_cache_bytes`.
    std::string disk_cache_dir;
    std::size_t disk_cache_bytes = std::size_t(8) << 30;
    /// Leave out the last, partial batch. Implied when shard_count > 1.
    bool drop_last = false;
    /// Data-parallel sharding: this process is shard `shard_rank` of `shard_count`, and
    /// `batch_size` is per process. Every shard draws the same order from (seed, epoch), cut
    /// into global batches of batch_size * shard_count positions; shard r's batch b holds the
    /// positions [b * B * W + r * B, b * B * W + (r + 1) * B) of that order. Augmentation
    /// depends on the position alone, so the shards' batch b together are, sample for sample,
    /// batch b of one loader with batch size B * W. With shard_count > 1 a last, partial
    /// global batch is left out, so that every shard takes the same number of steps.
    int shard_rank = 0;
    int shard_count = 1;
};

struct Batch {
    /// float32 [B, C, H, W]; video datasets: clips [B, C, T, H, W] (T = clip_frames)
    at::Tensor images;
    at::Tensor labels;  ///< int64 [B]
    /// Positions in the loader's sample list, for galleries and per-image reports.
    std::vector<std::int64_t> indices;
};

/// Batches a list of samples in background threads with prefetch. Use: start_epoch(e), then
/// next() until it returns nothing; start_epoch() may be called again at any time, which drops
/// the rest of the current epoch. Batches come in order and depend only on the samples, the
/// options and the epoch, never on thread timing: sample position k of epoch e is augmented
/// with a generator seeded from (seed, e, k). An image that fails to decode at load time is
/// replaced by the next good one in the epoch's order (so usually from the same batch) and
/// counted in skipped(). With `workers` = 0, next() loads in the calling thread. When the
/// preprocessing has clip_frames > 0 the samples are videos (see engine/video_io.h), each
/// batch holds clips (engine/clips.h: the frames of Sample::clip, crop and flip shared by the
/// clip's frames) and decoded videos are cached in memory, then on disk.
class Loader {
public:
    Loader(std::vector<Sample> samples, Preprocessing preprocessing, LoaderOptions options);
    ~Loader();
    Loader(const Loader&) = delete;
    Loader& operator=(const Loader&) = delete;

    /// Stops the workers of the previous epoch, if any, and starts preparing epoch `epoch`
    /// from its batch `first_batch` (to resume a run in the middle of an epoch): the earlier
    /// batches are skipped without being loaded, and the ones that follow are the same as
    /// those of a start at batch 0. A `first_batch` >= num_batches() gives an empty epoch.
    void start_epoch(int epoch, std::size_t first_batch = 0);
    /// The next batch of the current epoch; nothing when it is over or before start_epoch().
    /// Re-throws, on the caller's thread, an exception raised while preparing a batch.
    std::optional<Batch> next();

    std::size_t size() const;         ///< samples
    std::size_t num_batches() const;  ///< per epoch, of this shard
    std::size_t skipped() const;      ///< images that failed to decode while loading
    /// The files counted in skipped(), with the reason each failed.
    std::vector<SkippedFile> skipped_files() const;
    std::size_t cache_bytes_used() const;       ///< bytes of decoded images held, <= cache_bytes
    std::size_t disk_cache_bytes_used() const;  ///< video datasets: bytes in the disk cache
    std::size_t videos_decoded() const;         ///< video datasets: decodes so far (not cache hits)
    const std::vector<Sample>& samples() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace wb
