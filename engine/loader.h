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
    /// Background threads that decode and preprocess.
    int workers = 2;
    /// Batches prepared ahead of the consumer.
    int prefetch = 4;
    /// Decoded images are kept in memory up to this many bytes.
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
/// next() until it returns nothing. An image that fails to decode at load time is replaced by
/// the next good one in the same batch and counted in skipped().
class Loader {
public:
    Loader(std::vector<Sample> samples, Preprocessing preprocessing, LoaderOptions options);
    ~Loader();
    Loader(const Loader&) = delete;
    Loader& operator=(const Loader&) = delete;

    void start_epoch(int epoch);
    std::optional<Batch> next();

    std::size_t size() const;         ///< samples
    std::size_t num_batches() const;  ///< per epoch
    std::size_t skipped() const;      ///< images that failed to decode while loading
    std::size_t cache_bytes_used() const;
    const std::vector<Sample>& samples() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace wb
