#include "engine/tensorboard/projector.h"

#include <google/protobuf/text_format.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "engine/tensorboard/errors.h"
#include "engine/tensorboard/tfrecord.h"
#include "tbproto/projector_config.pb.h"

namespace fs = std::filesystem;

namespace wb::tb {

namespace {

constexpr const char* kConfigName = "projector_config.pbtxt";

std::string folder_name(const std::string& tag, std::int64_t step) {
    std::string safe;
    for (char c : tag) {
        const bool ok =
            std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
        safe += ok ? c : '_';
    }
    if (safe != tag || safe.empty() || safe == "." || safe == "..") {
        char hash[16];
        std::snprintf(hash, sizeof(hash), "%08x", crc32c(tag));
        safe += "-" + std::string(hash);
    }
    char number[32];
    std::snprintf(number, sizeof(number), "%05lld", static_cast<long long>(step));
    return safe + "_" + number;
}

std::string tensor_name(const std::string& tag, std::int64_t step) {
    char number[32];
    std::snprintf(number, sizeof(number), "%05lld", static_cast<long long>(step));
    return tag + ":" + number;
}

/// Writes `content` to `path` through a temporary sibling and a rename.
void write_file(const fs::path& path, const std::string& content) {
    const fs::path temp = path.string() + ".tmp";
    {
        std::ofstream out(temp, std::ios::binary | std::ios::trunc);
        out.write(content.data(), static_cast<std::streamsize>(content.size()));
        out.close();
        if (!out) {
            throw TensorBoardError("cannot write '" + temp.string() + "'");
        }
    }
    std::error_code ec;
    fs::rename(temp, path, ec);
    if (ec) {
        throw TensorBoardError("cannot rename '" + temp.string() + "' to '" + path.string() +
                               "': " + ec.message());
    }
}

std::string tensors_tsv(const Embedding& e, std::size_t points) {
    std::ostringstream out;
    out << std::setprecision(std::numeric_limits<float>::max_digits10);
    for (std::size_t i = 0; i < points; ++i) {
        for (std::size_t d = 0; d < e.dim; ++d) {
            out << (d == 0 ? "" : "\t") << e.vectors[i * e.dim + d];
        }
        out << '\n';
    }
    return out.str();
}

std::string tsv_cell(const std::string& value) {
    if (value.empty()) {
        return "<empty>";
    }
    std::string out = value;
    for (char& c : out) {
        if (c == '\t' || c == '\n' || c == '\r') {
            c = ' ';
        }
    }
    return out;
}

std::string metadata_tsv(const std::vector<MetadataColumn>& columns, std::size_t points) {
    std::string out;
    if (columns.size() > 1) {
        for (std::size_t c = 0; c < columns.size(); ++c) {
            out += (c == 0 ? "" : "\t") + tsv_cell(columns[c].name);
        }
        out += '\n';
    }
    for (std::size_t i = 0; i < points; ++i) {
        for (std::size_t c = 0; c < columns.size(); ++c) {
            out += (c == 0 ? "" : "\t") + tsv_cell(columns[c].values[i]);
        }
        out += '\n';
    }
    return out;
}

std::size_t check_embedding(const Embedding& e) {
    if (e.dim == 0 || e.vectors.empty() || e.vectors.size() % e.dim != 0) {
        throw std::invalid_argument(
            "embedding '" + e.tag + "': " + std::to_string(e.vectors.size()) +
            " values are not N vectors of dimension " + std::to_string(e.dim));
    }
    for (float v : e.vectors) {
        if (!std::isfinite(v)) {
            throw std::invalid_argument("embedding '" + e.tag +
                                        "' has a NaN or infinite value, which the projector "
                                        "cannot read");
        }
    }
    const std::size_t points = e.vectors.size() / e.dim;
    for (const MetadataColumn& column : e.metadata) {
        if (column.values.size() != points) {
            throw std::invalid_argument("embedding '" + e.tag + "': metadata column '" +
                                        column.name + "' has " +
                                        std::to_string(column.values.size()) + " values for " +
                                        std::to_string(points) + " points");
        }
    }
    if (!e.thumbnails.empty() && e.thumbnails.size() != points) {
        throw std::invalid_argument("embedding '" + e.tag +
                                    "': " + std::to_string(e.thumbnails.size()) +
                                    " thumbnails for " + std::to_string(points) + " points");
    }
    return points;
}

proto::ProjectorConfig read_config(const fs::path& path) {
    proto::ProjectorConfig config;
    if (!fs::exists(path)) {
        return config;
    }
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in || !google::protobuf::TextFormat::ParseFromString(text.str(), &config)) {
        throw TensorBoardError("cannot read the projector config '" + path.string() + "'");
    }
    return config;
}

}  // namespace

Image make_sprite(const std::vector<Image>& thumbnails) {
    if (thumbnails.empty()) {
        throw std::invalid_argument("a sprite needs at least one thumbnail");
    }
    const Image& first = thumbnails.front();
    for (const Image& t : thumbnails) {
        check_image(t);
        if (t.width != first.width || t.height != first.height || t.channels != first.channels) {
            throw std::invalid_argument(
                "the thumbnails of a sprite must share one size and "
                "channel count");
        }
    }
    const int side = static_cast<int>(std::ceil(std::sqrt(double(thumbnails.size()))));
    if (static_cast<long>(side) * first.width > kMaxSpriteSide ||
        static_cast<long>(side) * first.height > kMaxSpriteSide) {
        throw std::invalid_argument(
            "a sprite of " + std::to_string(thumbnails.size()) + " thumbnails of " +
            std::to_string(first.width) + "x" + std::to_string(first.height) +
            " is larger than the projector's " + std::to_string(kMaxSpriteSide) + " pixels");
    }
    Image sprite{side * first.height, side * first.width, first.channels, {}};
    sprite.pixels.assign(static_cast<std::size_t>(sprite.height) * sprite.width * sprite.channels,
                         0);
    const std::size_t row_bytes = static_cast<std::size_t>(first.width) * first.channels;
    for (std::size_t k = 0; k < thumbnails.size(); ++k) {
        const int cell_y = static_cast<int>(k) / side;
        const int cell_x = static_cast<int>(k) % side;
        for (int y = 0; y < first.height; ++y) {
            const std::size_t to =
                (static_cast<std::size_t>(cell_y * first.height + y) * sprite.width +
                 static_cast<std::size_t>(cell_x) * first.width) *
                sprite.channels;
            std::copy_n(thumbnails[k].pixels.begin() + y * row_bytes, row_bytes,
                        sprite.pixels.begin() + to);
        }
    }
    return sprite;
}

fs::path write_embedding(const fs::path& logdir, const Embedding& embedding, std::int64_t step) {
    const std::size_t points = check_embedding(embedding);
    const std::string folder = folder_name(embedding.tag, step);
    const fs::path dir = logdir / folder;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        throw TensorBoardError("cannot create the embedding folder '" + dir.string() +
                               "': " + ec.message());
    }

    proto::EmbeddingInfo info;
    info.set_tensor_name(tensor_name(embedding.tag, step));
    info.add_tensor_shape(static_cast<std::uint32_t>(points));
    info.add_tensor_shape(static_cast<std::uint32_t>(embedding.dim));
    write_file(dir / "tensors.tsv", tensors_tsv(embedding, points));
    info.set_tensor_path(folder + "/tensors.tsv");
    if (!embedding.metadata.empty()) {
        write_file(dir / "metadata.tsv", metadata_tsv(embedding.metadata, points));
        info.set_metadata_path(folder + "/metadata.tsv");
    }
    if (!embedding.thumbnails.empty()) {
        write_file(dir / "sprite.png", encode_png(make_sprite(embedding.thumbnails)));
        auto* sprite = info.mutable_sprite();
        sprite->set_image_path(folder + "/sprite.png");
        sprite->add_single_image_dim(static_cast<std::uint32_t>(embedding.thumbnails[0].width));
        sprite->add_single_image_dim(static_cast<std::uint32_t>(embedding.thumbnails[0].height));
    }

    const fs::path config_path = logdir / kConfigName;
    proto::ProjectorConfig config = read_config(config_path);
    bool replaced = false;
    for (auto& existing : *config.mutable_embeddings()) {
        if (existing.tensor_name() == info.tensor_name()) {
            existing = info;
            replaced = true;
        }
    }
    if (!replaced) {
        *config.add_embeddings() = info;
    }
    std::string text;
    if (!google::protobuf::TextFormat::PrintToString(config, &text)) {
        throw TensorBoardError("cannot format the projector config for '" + config_path.string() +
                               "'");
    }
    write_file(config_path, text);
    return dir;
}

}  // namespace wb::tb
