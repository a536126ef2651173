#pragma once

// Decoding videos for classification: a video file OpenCV reads (through FFmpeg: AVI, MP4,
// MKV, WebM, ...) or a folder of frames, one clip per folder.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace wb {

/// A video decoded to 8-bit BGR (OpenCV's order, as read_image_raw() gives) at one size:
/// `frames` frames of rows x cols x 3 bytes each, one after another.
struct DecodedVideo {
    int frames = 0;
    int rows = 0;
    int cols = 0;
    std::vector<std::uint8_t> pixels;  ///< frames * rows * cols * 3, BGR, row major

    std::size_t frame_bytes() const { return std::size_t(rows) * std::size_t(cols) * 3; }
    const std::uint8_t* frame(int t) const {
        return pixels.data() + std::size_t(t) * frame_bytes();
    }
    bool empty() const { return frames == 0; }
};

/// True for the file extensions read as videos (case-insensitive): avi, mp4, m4v, mkv, webm,
/// mov, mpg, mpeg, ogv, wmv, flv.
bool has_video_extension(const std::string& path);

/// True when `dir` directly holds at least one image file: it is then one clip, its images
/// sorted by name being the frames.
bool is_frame_folder(const std::string& dir);

/// Decodes every frame of a video file or frame folder, each resized so that its short side is
/// `short_side` pixels (INTER_AREA when shrinking; 0 keeps the size). Returns an empty video
/// and sets `error` when it does not open, holds no frame, a frame of a folder cannot be read,
/// frames change size, or the decoder stops early: before the frame count the container
/// announces (less a tolerance of 2 frames and 2%, as the count of some containers is an
/// estimate from the duration).
DecodedVideo decode_video(const std::string& path, int short_side, std::string* error = nullptr);

/// Decodes every frame without keeping it (as decode_video() checks it); returns the frame
/// count, or -1 and sets `error`.
int verify_video(const std::string& path, std::string* error = nullptr);

/// Checks that a video opens and announces at least one frame, without decoding it; returns
/// the frame count (a folder's image count) or -1 and sets `error`.
int probe_video(const std::string& path, std::string* error = nullptr);

}  // namespace wb
