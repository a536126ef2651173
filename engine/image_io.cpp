// Decoding image files with OpenCV, with the checks OpenCV leaves out: libjpeg decodes a
// truncated JPEG with a warning only, so the end markers are checked here.

#include "engine/image_io.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

namespace wb {

namespace {

/// Bytes at the end of a file searched for the end marker: encoders and copy tools may pad.
constexpr std::size_t kTailBytes = 256;

enum class Format { Unknown, Png, Jpeg, Other };

bool starts_with(const unsigned char* data, std::size_t size, const char* sig, std::size_t n) {
    return size >= n && std::memcmp(data, sig, n) == 0;
}

Format detect_format(const unsigned char* head, std::size_t size) {
    if (starts_with(head, size, "\x89PNG\r\n\x1a\n", 8)) {
        return Format::Png;
    }
    if (starts_with(head, size, "\xff\xd8\xff", 3)) {
        return Format::Jpeg;
    }
    const bool webp =
        starts_with(head, size, "RIFF", 4) && size >= 12 && std::memcmp(head + 8, "WEBP", 4) == 0;
    const bool pnm = size >= 2 && head[0] == 'P' && head[1] >= '1' && head[1] <= '7';
    if (webp || pnm || starts_with(head, size, "BM", 2) || starts_with(head, size, "II*\0", 4) ||
        starts_with(head, size, "MM\0*", 4) ||
        starts_with(head, size, "\0\0\0\x0cjP  ", 8) ||    // JPEG 2000 file
        starts_with(head, size, "\xff\x4f\xff\x51", 4) ||  // JPEG 2000 codestream
        starts_with(head, size, "\x59\xa6\x6a\x95", 4)) {  // Sun raster
        return Format::Other;
    }
    return Format::Unknown;
}

bool tail_contains(const unsigned char* tail, std::size_t size, const char* marker, std::size_t n) {
    const auto* m = reinterpret_cast<const unsigned char*>(marker);
    return std::search(tail, tail + size, m, m + n) != tail + size;
}

/// The checks shared by check_image_file() and read_image_raw(), on the first bytes and the
/// last kTailBytes (or fewer) of a file of `file_size` bytes.
std::string check_bytes(const unsigned char* head, std::size_t head_size, const unsigned char* tail,
                        std::size_t tail_size, std::size_t file_size) {
    if (file_size == 0) {
        return "empty file";
    }
    switch (detect_format(head, head_size)) {
        case Format::Unknown:
            return "not an image: unrecognised file signature";
        case Format::Png:
            // The IEND chunk: 4 length bytes (0), "IEND", 4 CRC bytes.
            if (!tail_contains(tail, tail_size, "IEND", 4)) {
                return "truncated: PNG has no IEND chunk";
            }
            break;
        case Format::Jpeg:
            if (!tail_contains(tail, tail_size, "\xff\xd9", 2)) {
                return "truncated: JPEG has no end marker";
            }
            break;
        case Format::Other:
            break;
    }
    return {};
}

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

bool file_size_of(std::FILE* f, std::size_t* size) {
    if (std::fseek(f, 0, SEEK_END) != 0) {
        return false;
    }
    const long end = std::ftell(f);
    if (end < 0 || std::fseek(f, 0, SEEK_SET) != 0) {
        return false;
    }
    *size = static_cast<std::size_t>(end);
    return true;
}

void set_error(std::string* error, const std::string& message) {
    if (error) {
        *error = message;
    }
}

}  // namespace

std::string check_image_file(const std::string& path) {
    FilePtr f(std::fopen(path.c_str(), "rb"));
    std::size_t size = 0;
    if (!f || !file_size_of(f.get(), &size)) {
        return "cannot be read";
    }
    unsigned char head[16] = {};
    const std::size_t head_size = std::fread(head, 1, sizeof head, f.get());
    unsigned char tail[kTailBytes] = {};
    const std::size_t tail_size = std::min(size, kTailBytes);
    if (std::fseek(f.get(), static_cast<long>(size - tail_size), SEEK_SET) != 0 ||
        std::fread(tail, 1, tail_size, f.get()) != tail_size) {
        return "cannot be read";
    }
    return check_bytes(head, head_size, tail, tail_size, size);
}

cv::Mat read_image_raw(const std::string& path, std::string* error) {
    // fopen opens a folder too, whose "size" is then nonsense.
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        set_error(error, "is a folder, not an image file");
        return {};
    }
    FilePtr f(std::fopen(path.c_str(), "rb"));
    std::size_t size = 0;
    if (!f || !file_size_of(f.get(), &size)) {
        set_error(error, "cannot be read");
        return {};
    }
    std::vector<unsigned char> bytes(size);
    if (std::fread(bytes.data(), 1, size, f.get()) != size) {
        set_error(error, "cannot be read");
        return {};
    }
    f.reset();
    const std::size_t tail_size = std::min(size, kTailBytes);
    const std::string problem = check_bytes(bytes.data(), std::min<std::size_t>(size, 16),
                                            bytes.data() + size - tail_size, tail_size, size);
    if (!problem.empty()) {
        set_error(error, problem);
        return {};
    }
    cv::Mat image;
    try {
        image = cv::imdecode(cv::Mat(1, static_cast<int>(size), CV_8U, bytes.data()),
                             cv::IMREAD_UNCHANGED);
    } catch (const cv::Exception& e) {
        set_error(error, "cannot be decoded: " + e.err);
        return {};
    }
    if (image.empty()) {
        set_error(error, "cannot be decoded");
        return {};
    }
    const int depth = image.depth();
    if (depth != CV_8U && depth != CV_16U && depth != CV_32F) {
        set_error(error, "cannot be decoded: unsupported pixel type");
        return {};
    }
    return image;
}

cv::Mat to_float_image(const cv::Mat& raw, int channels) {
    CV_Assert(!raw.empty() && (channels == 1 || channels == 3));
    const int depth = raw.depth();
    CV_Assert(depth == CV_8U || depth == CV_16U || depth == CV_32F);
    // `colour` may share `raw`'s pixels (a cached image): only ever read from it.
    cv::Mat colour;
    switch (raw.channels()) {
        case 1:
            if (channels == 3) {
                cv::cvtColor(raw, colour, cv::COLOR_GRAY2RGB);
            } else {
                colour = raw;
            }
            break;
        case 2: {
            // Gray and alpha (TIFF can hold it; PNG gray+alpha decodes as BGRA): keep the gray.
            cv::Mat gray;
            cv::extractChannel(raw, gray, 0);
            if (channels == 3) {
                cv::cvtColor(gray, colour, cv::COLOR_GRAY2RGB);
            } else {
                colour = gray;
            }
            break;
        }
        case 3:
            cv::cvtColor(raw, colour, channels == 1 ? cv::COLOR_BGR2GRAY : cv::COLOR_BGR2RGB);
            break;
        default:
            cv::cvtColor(raw, colour, channels == 1 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGRA2RGB);
            break;
    }
    double scale = 1.0;
    if (depth == CV_8U) {
        scale = 1.0 / 255.0;
    } else if (depth == CV_16U) {
        scale = 1.0 / 65535.0;
    }
    cv::Mat out;
    colour.convertTo(out, CV_32F, scale);
    return out;
}

}  // namespace wb
