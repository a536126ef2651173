#pragma once

#include <opencv2/core.hpp>
#include <string>

namespace wb {

/// Decodes an image file as stored: 8- or 16-bit, 1 to 4 channels. Returns an empty Mat and
/// sets `error` when the file cannot be read or decoded, or is truncated.
cv::Mat read_image_raw(const std::string& path, std::string* error = nullptr);

/// Checks that a file looks like a complete image without decoding it: not empty, a known
/// signature (PNG, JPEG, BMP, TIFF, WebP, PNM, JPEG 2000, Sun raster) and, for PNG and JPEG,
/// the end marker (IEND chunk, FFD9) near the end. Returns an empty string when it does, else
/// the reason ("empty file", "truncated: ...", "not an image: ...").
std::string check_image_file(const std::string& path);

/// Turns a raw decoded image into float32 in [0, 1] with `channels` channels (1 or 3, RGB
/// order): 16-bit is scaled by 65535, alpha is dropped, gray is repeated or colour is turned
/// to gray as needed.
cv::Mat to_float_image(const cv::Mat& raw, int channels);

}  // namespace wb
