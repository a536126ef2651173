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
    bool drop_last = false;
};

struct Batch {
    at::Tensor images;  ///< float32 [B, C, H, W]
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
/// counted in skipped(). With `workers` = 0, next() loads in the calling thread.
class Loader {
public:
    Loader(std::vector<Sample> samples, Preprocessing preprocessing, LoaderOptions options);
    ~Loader();
    Loader(const Loader&) = delete;
    Loader& operator=(const Loader&) = delete;

    /// Stops the workers of the previous epoch, if any, and starts preparing epoch `epoch`.
    void start_epoch(int epoch);
    /// The next batch of the current epoch; nothing when it is over or before start_epoch().
    /// Re-throws, on the caller's thread, an exception raised while preparing a batch.
    std::optional<Batch> next();

    std::size_t size() const;         ///< samples
    std::size_t num_batches() const;  ///< per epoch
    std::size_t skipped() const;      ///< images that failed to decode while loading
    /// The files counted in skipped(), with the reason each failed.
    std::vector<SkippedFile> skipped_files() const;
    std::size_t cache_bytes_used() const;  ///< bytes of decoded images held, <= cache_bytes
    const std::vector<Sample>& samples() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace wb
