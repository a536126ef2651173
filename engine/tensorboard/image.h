#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace wb::tb {

/// An 8-bit image, [height, width, channels] row-major. channels is 1 (gray), 3 (RGB) or
/// 4 (RGBA), which is also the colorspace TensorBoard's Summary.Image records.
struct Image {
    int height = 0;
    int width = 0;
    int channels = 0;
    std::vector<std::uint8_t> pixels;
};

/// How the values of a tensor are ordered: [H, W, C] (OpenCV, PIL) or [C, H, W] (torch).
enum class PixelLayout { HWC, CHW };

/// 8-bit pixels pass through unchanged (reordered to [H, W, C] when `layout` is CHW).
Image image_from_uint8(const std::uint8_t* data, int height, int width, int channels,
                       PixelLayout layout = PixelLayout::HWC);

/// Floats in [0, 1] become round(v * 255); values below 0 become 0, above 1 become 255, NaN
/// becomes 0. `data` holds height * width * channels values.
Image image_from_float(const float* data, int height, int width, int channels,
                       PixelLayout layout = PixelLayout::HWC);
inline Image image_from_float(const std::vector<float>& data, int height, int width, int channels,
                              PixelLayout layout = PixelLayout::HWC) {
    return image_from_float(data.data(), height, width, channels, layout);
}

/// Throws std::invalid_argument when a size is not positive, channels is not 1, 3 or 4, or the
/// pixel count does not match.
void check_image(const Image& image);

/// The image as PNG bytes (OpenCV's encoder). Throws std::invalid_argument for a bad image.
std::string encode_png(const Image& image);

}  // namespace wb::tb
