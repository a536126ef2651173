// Video decoding with cv::VideoCapture (FFmpeg backend) and folders of frames.

#include "engine/video_io.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <set>

#include "engine/image_folder.h"
#include "engine/image_io.h"

namespace wb {

namespace fs = std::filesystem;

namespace {

std::string lower_extension(const std::string& path) {
    std::string ext = fs::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext;
}

bool is_dir(const std::string& path) {
    std::error_code ec;
    return fs::is_directory(path, ec);
}

/// The image files directly in `dir`, sorted by name, hidden ones left out.
std::vector<std::string> frame_files(const std::string& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (!name.empty() && name[0] != '.' && !is_dir(it->path().string()) &&
            has_image_extension(name)) {
            out.push_back(it->path().string());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

/// A decoded frame (gray, BGR or BGRA, 8 or 16 bits) as 8-bit BGR with short side `side`.
cv::Mat bgr_frame(const cv::Mat& frame, int side) {
    cv::Mat rgb;
    switch (frame.channels()) {
        case 1:
            cv::cvtColor(frame, rgb, cv::COLOR_GRAY2BGR);
            break;
        case 2: {
            cv::Mat gray;
            cv::extractChannel(frame, gray, 0);
            cv::cvtColor(gray, rgb, cv::COLOR_GRAY2BGR);
            break;
        }
        case 4:
            cv::cvtColor(frame, rgb, cv::COLOR_BGRA2BGR);
            break;
        default:
            rgb = frame;
    }
    if (rgb.depth() != CV_8U) {
        rgb.convertTo(rgb, CV_8U, rgb.depth() == CV_16U ? 1.0 / 257 : 255.0);
    }
    const int short_side = std::min(rgb.rows, rgb.cols);
    if (side <= 0 || short_side == side) {
        return rgb;
    }
    const int long_side =
        static_cast<int>(static_cast<double>(side) * std::max(rgb.rows, rgb.cols) / short_side);
    const cv::Size size =
        rgb.cols <= rgb.rows ? cv::Size(side, long_side) : cv::Size(long_side, side);
    cv::Mat out;
    cv::resize(rgb, out, size, 0, 0, side < short_side ? cv::INTER_AREA : cv::INTER_LINEAR);
    return out;
}

/// Appends one frame; false (with `error`) when its size differs from the first frame's.
bool append(DecodedVideo& v, const cv::Mat& rgb, std::string* error) {
    if (v.frames == 0) {
        v.rows = rgb.rows;
        v.cols = rgb.cols;
    } else if (rgb.rows != v.rows || rgb.cols != v.cols) {
        *error = "frame " + std::to_string(v.frames) + " is " + std::to_string(rgb.cols) + "x" +
                 std::to_string(rgb.rows) + ", the first one " + std::to_string(v.cols) + "x" +
                 std::to_string(v.rows);
        return false;
    }
    const cv::Mat m = rgb.isContinuous() ? rgb : rgb.clone();
    v.pixels.insert(v.pixels.end(), m.data, m.data + v.frame_bytes());
    ++v.frames;
    return true;
}

DecodedVideo decode_folder(const std::string& dir, int side, std::string* error) {
    DecodedVideo v;
    for (const std::string& file : frame_files(dir)) {
        std::string reason;
        const cv::Mat raw = read_image_raw(file, &reason);
        if (raw.empty()) {
            *error = "frame " + fs::path(file).filename().string() + ": " + reason;
            return {};
        }
        if (!append(v, bgr_frame(raw, side), error)) {
            return {};
        }
    }
    if (v.frames == 0) {
        *error = "the frame folder holds no image";
    }
    return v;
}

bool is_empty_file(const std::string& path) {
    std::error_code ec;
    return fs::file_size(path, ec) == 0 || ec;
}

DecodedVideo decode_file(const std::string& path, int side, std::string* error) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        *error = "does not exist";
        return {};
    }
    if (is_empty_file(path)) {
        *error = "empty file";
        return {};
    }
    cv::VideoCapture capture(path, cv::CAP_FFMPEG);
    if (!capture.isOpened()) {
        *error = "cannot be opened as a video";
        return {};
    }
    const double announced = capture.get(cv::CAP_PROP_FRAME_COUNT);
    DecodedVideo v;
    cv::Mat frame;
    while (capture.read(frame) && !frame.empty()) {
        if (!append(v, bgr_frame(frame, side), error)) {
            return {};
        }
    }
    if (v.frames == 0) {
        *error = "no frame could be decoded";
        return {};
    }
    if (announced > 0) {
        const double tolerance = std::max(2.0, 0.02 * announced);
        if (v.frames < announced - tolerance) {
            *error = "stops decoding early: frame " + std::to_string(v.frames) + " of " +
                     std::to_string(static_cast<long long>(std::llround(announced)));
            return {};
        }
    }
    return v;
}

}  // namespace

bool has_video_extension(const std::string& path) {
    static const std::set<std::string> known = {".avi", ".mp4",  ".m4v", ".mkv", ".webm", ".mov",
                                                ".mpg", ".mpeg", ".ogv", ".wmv", ".flv"};
    return known.count(lower_extension(path)) > 0;
}

bool is_frame_folder(const std::string& dir) {
    return is_dir(dir) && !frame_files(dir).empty();
}

DecodedVideo decode_video(const std::string& path, int short_side, std::string* error) {
    std::string reason;
    DecodedVideo v;
    try {
        v = is_dir(path) ? decode_folder(path, short_side, &reason)
                         : decode_file(path, short_side, &reason);
    } catch (const std::exception& e) {
        reason = std::string("cannot be decoded: ") + e.what();
        v = {};
    }
    if (v.empty() && error) {
        *error = reason.empty() ? "cannot be decoded" : reason;
    }
    return v;
}

int verify_video(const std::string& path, std::string* error) {
    std::string reason;
    int frames = 0;
    try {
        if (is_dir(path)) {
            for (const std::string& file : frame_files(path)) {
                if (read_image_raw(file, &reason).empty()) {
                    reason = "frame " + fs::path(file).filename().string() + ": " + reason;
                    frames = -1;
                    break;
                }
                ++frames;
            }
        } else if (is_empty_file(path)) {
            reason = "empty file";
            frames = -1;
        } else {
            cv::VideoCapture capture(path, cv::CAP_FFMPEG);
            if (!capture.isOpened()) {
                reason = "cannot be opened as a video";
                frames = -1;
            } else {
                const double announced = capture.get(cv::CAP_PROP_FRAME_COUNT);
                while (capture.grab()) {
                    ++frames;
                }
                if (announced > 0 && frames < announced - std::max(2.0, 0.02 * announced)) {
                    reason = "stops decoding early: frame " + std::to_string(frames) + " of " +
                             std::to_string(static_cast<long long>(std::llround(announced)));
                    frames = -1;
                }
            }
        }
    } catch (const std::exception& e) {
        reason = std::string("cannot be decoded: ") + e.what();
        frames = -1;
    }
    if (frames == 0) {
        reason = is_dir(path) ? "the frame folder holds no image" : "no frame could be decoded";
        frames = -1;
    }
    if (frames < 0 && error) {
        *error = reason;
    }
    return frames;
}

int probe_video(const std::string& path, std::string* error) {
    std::string reason;
    int frames = -1;
    if (is_dir(path)) {
        frames = static_cast<int>(frame_files(path).size());
        if (frames == 0) {
            reason = "the frame folder holds no image";
            frames = -1;
        }
    } else {
        if (is_empty_file(path)) {
            reason = "empty file";
        } else {
            try {
                cv::VideoCapture capture(path, cv::CAP_FFMPEG);
                const double n = capture.isOpened() ? capture.get(cv::CAP_PROP_FRAME_COUNT) : -1;
                if (!capture.isOpened()) {
                    reason = "cannot be opened as a video";
                } else if (n < 1) {
                    reason = "announces no frame";
                } else {
                    frames = static_cast<int>(std::llround(n));
                }
            } catch (const std::exception& e) {
                reason = std::string("cannot be opened as a video: ") + e.what();
            }
        }
    }
    if (frames < 0 && error) {
        *error = reason;
    }
    return frames;
}

}  // namespace wb
