#pragma once

// Embeddings for TensorBoard's projector, which reads `projector_config.pbtxt` from the log
// directory (or from a run directory) and, for each embedding listed there, a TSV of vectors,
// a TSV of metadata and a sprite image, at paths relative to the config file.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/tensorboard/image.h"

namespace wb::tb {

/// One metadata column: a value per point, shown by the projector to label and colour points.
struct MetadataColumn {
    std::string name;
    std::vector<std::string> values;
};

/// N points of dimension D, with optional metadata and thumbnails.
struct Embedding {
    /// Shown as "<tag>:<step, 5 digits>" in the projector's list of tensors.
    std::string tag;
    std::size_t dim = 0;
    std::vector<float> vectors;  ///< [N, dim], row-major
    /// Zero or more columns of N values. One column is written without a header, as the
    /// projector expects; several get a header row. Tabs and line breaks in values become
    /// spaces and empty values become "<empty>", so that every point keeps its line.
    std::vector<MetadataColumn> metadata;
    /// Zero or N images of one size, tiled into the sprite.
    std::vector<Image> thumbnails;
};

/// The largest sprite the projector loads, in pixels per side.
inline constexpr int kMaxSpriteSide = 8192;

/// The thumbnails tiled row by row in a square grid of ceil(sqrt(N)) per side; unused cells
/// are black (transparent for RGBA). Throws std::invalid_argument for no thumbnails,
/// thumbnails of different sizes or channels, or a sprite larger than kMaxSpriteSide.
Image make_sprite(const std::vector<Image>& thumbnails);

/// Writes `<logdir>/<tag>_<step>/` with tensors.tsv, metadata.tsv (when there is metadata) and
/// sprite.png (when there are thumbnails), then adds the embedding to
/// `<logdir>/projector_config.pbtxt`, replacing an entry with the same tensor name and keeping
/// the others. The folder name keeps [A-Za-z0-9._-] of the tag and, when it had to change the
/// tag, adds a hash of it. Files are written to a temporary name and renamed. Returns the
/// folder. Throws std::invalid_argument for inconsistent sizes and TensorBoardError naming the
/// file that cannot be written or the config that cannot be parsed.
/// Limitation: two processes adding embeddings to one log directory at once can lose one of
/// the config entries; write embeddings from one process.
std::filesystem::path write_embedding(const std::filesystem::path& logdir,
                                      const Embedding& embedding, std::int64_t step = 0);

}  // namespace wb::tb
