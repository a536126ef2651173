// IDX files (the MNIST family): a big-endian header of a magic number and dimensions, then
// unsigned bytes. zlib's gzread reads gzip-compressed and plain files alike.

#include "engine/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "engine/errors.h"

namespace wb {

namespace {

constexpr std::uint32_t kImagesMagic = 0x00000803;
constexpr std::uint32_t kLabelsMagic = 0x00000801;

struct GzCloser {
    void operator()(gzFile_s* f) const { gzclose(f); }
};

/// The whole (decompressed) content of `path`.
std::vector<unsigned char> read_all(const std::string& path) {
    std::unique_ptr<gzFile_s, GzCloser> f(gzopen(path.c_str(), "rb"));
    if (!f) {
        throw DataError(path + ": cannot open the IDX file");
    }
    gzbuffer(f.get(), 1 << 17);
    std::vector<unsigned char> data;
    constexpr unsigned kChunk = 1 << 20;
    while (true) {
        const std::size_t old_size = data.size();
        data.resize(old_size + kChunk);
        const int n = gzread(f.get(), data.data() + old_size, kChunk);
        if (n < 0) {
            throw DataError(path + ": cannot read the IDX file (corrupt gzip data)");
        }
        data.resize(old_size + static_cast<std::size_t>(n));
        if (n < static_cast<int>(kChunk)) {
            break;
        }
    }
    return data;
}

std::uint32_t be32(const std::vector<unsigned char>& d, std::size_t at) {
    return (std::uint32_t(d[at]) << 24) | (std::uint32_t(d[at + 1]) << 16) |
           (std::uint32_t(d[at + 2]) << 8) | std::uint32_t(d[at + 3]);
}

std::string hex(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", v);
    return buf;
}

void check_magic(const std::string& path, const std::vector<unsigned char>& d,
                 std::uint32_t expected, const char* what) {
    if (d.size() < 4) {
        throw DataError(path + ": not an IDX " + what + " file (only " + std::to_string(d.size()) +
                        " bytes)");
    }
    const std::uint32_t magic = be32(d, 0);
    if (magic != expected) {
        throw DataError(path + ": not an IDX " + what + " file (magic number " + hex(magic) +
                        ", expected " + hex(expected) + ")");
    }
}

void check_length(const std::string& path, const std::vector<unsigned char>& d,
                  std::uint64_t needed) {
    if (d.size() < needed) {
        throw DataError(path + ": IDX file is truncated (" + std::to_string(d.size()) +
                        " bytes, the header needs " + std::to_string(needed) + ")");
    }
}

}  // namespace

IdxImages read_idx_images(const std::string& path) {
    const std::vector<unsigned char> d = read_all(path);
    check_magic(path, d, kImagesMagic, "image");
    check_length(path, d, 16);
    const std::uint32_t count = be32(d, 4);
    const std::uint32_t rows = be32(d, 8);
    const std::uint32_t cols = be32(d, 12);
    if (rows == 0 || cols == 0 || rows > 65536 || cols > 65536 || count > (1u << 30)) {
        throw DataError(path + ": IDX image file has bad dimensions " + std::to_string(count) +
                        " x " + std::to_string(rows) + " x " + std::to_string(cols));
    }
    const std::uint64_t pixels = std::uint64_t(count) * rows * cols;
    check_length(path, d, 16 + pixels);
    IdxImages out;
    out.count = static_cast<int>(count);
    out.rows = static_cast<int>(rows);
    out.cols = static_cast<int>(cols);
    out.pixels.assign(d.begin() + 16, d.begin() + 16 + static_cast<std::ptrdiff_t>(pixels));
    return out;
}

std::vector<int> read_idx_labels(const std::string& path) {
    const std::vector<unsigned char> d = read_all(path);
    check_magic(path, d, kLabelsMagic, "label");
    check_length(path, d, 8);
    const std::uint32_t count = be32(d, 4);
    check_length(path, d, 8 + std::uint64_t(count));
    return std::vector<int>(d.begin() + 8, d.begin() + 8 + count);
}

const std::vector<std::string>& fashion_mnist_classes() {
    static const std::vector<std::string> names = {
        "T-shirt_top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle_boot"};
    return names;
}

int export_idx_to_folder(const std::string& images_path, const std::string& labels_path,
                         const std::string& out_dir, const std::vector<std::string>& class_names,
                         int limit_per_class, int skip_per_class) {
    namespace fs = std::filesystem;
    const IdxImages images = read_idx_images(images_path);
    const std::vector<int> labels = read_idx_labels(labels_path);
    if (static_cast<int>(labels.size()) != images.count) {
        throw DataError(images_path + " holds " + std::to_string(images.count) + " images but " +
                        labels_path + " holds " + std::to_string(labels.size()) + " labels");
    }
    const int width = static_cast<int>(std::to_string(std::max(images.count - 1, 0)).size());
    const std::size_t image_bytes = std::size_t(images.rows) * images.cols;
    const std::vector<int> png_params = {cv::IMWRITE_PNG_COMPRESSION, 9};
    std::vector<int> seen(256, 0);
    int written = 0;
    for (int i = 0; i < images.count; ++i) {
        const int label = labels[static_cast<std::size_t>(i)];
        if (!class_names.empty() && label >= static_cast<int>(class_names.size())) {
            throw DataError(labels_path + ": label " + std::to_string(label) + " of image " +
                            std::to_string(i) + " has no class name");
        }
        const int rank = seen[static_cast<std::size_t>(label)]++;
        if (rank < skip_per_class ||
            (limit_per_class > 0 && rank >= skip_per_class + limit_per_class)) {
            continue;
        }
        const fs::path dir =
            fs::path(out_dir) /
            (class_names.empty() ? std::to_string(label) : class_names[std::size_t(label)]);
        std::error_code ec;
        fs::create_directories(dir, ec);
        std::string name = std::to_string(i);
        name.insert(0, std::size_t(std::max(0, width - static_cast<int>(name.size()))), '0');
        const std::string file = (dir / (name + ".png")).string();
        const cv::Mat image(images.rows, images.cols, CV_8UC1,
                            const_cast<unsigned char*>(images.pixels.data() + i * image_bytes));
        bool ok = false;
        try {
            ok = cv::imwrite(file, image, png_params);
        } catch (const cv::Exception&) {
            ok = false;
        }
        if (!ok) {
            throw DataError(file + ": cannot write the image");
        }
        ++written;
    }
    return written;
}

}  // namespace wb
