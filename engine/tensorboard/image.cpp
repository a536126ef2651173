#include "engine/tensorboard/image.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

namespace wb::tb {

namespace {

Image empty_image(int height, int width, int channels) {
    Image image{height, width, channels, {}};
    if (height <= 0 || width <= 0 || (channels != 1 && channels != 3 && channels != 4)) {
        check_image(image);  // throws with the sizes
    }
    image.pixels.resize(static_cast<std::size_t>(height) * width * channels);
    return image;
}

/// Index in `data` of pixel (y, x, c) of an image stored in `layout`.
std::size_t source_index(PixelLayout layout, int height, int width, int channels, int y, int x,
                         int c) {
    if (layout == PixelLayout::HWC) {
        return (static_cast<std::size_t>(y) * width + x) * channels + c;
    }
    return (static_cast<std::size_t>(c) * height + y) * width + x;
}

template <typename T, typename Convert>
Image convert(const T* data, int height, int width, int channels, PixelLayout layout,
              Convert to_byte) {
    Image image = empty_image(height, width, channels);
    std::size_t out = 0;
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            for (int c = 0; c < channels; ++c) {
                image.pixels[out++] =
                    to_byte(data[source_index(layout, height, width, channels, y, x, c)]);
            }
        }
    }
    return image;
}

}  // namespace

Image image_from_uint8(const std::uint8_t* data, int height, int width, int channels,
                       PixelLayout layout) {
    return convert(data, height, width, channels, layout, [](std::uint8_t v) { return v; });
}

Image image_from_float(const float* data, int height, int width, int channels, PixelLayout layout) {
    return convert(data, height, width, channels, layout, [](float v) -> std::uint8_t {
        if (!(v > 0.0f)) {  // also NaN
            return 0;
        }
        if (v >= 1.0f) {
            return 255;
        }
        return static_cast<std::uint8_t>(std::lround(v * 255.0f));
    });
}

void check_image(const Image& image) {
    const bool sizes_ok = image.height > 0 && image.width > 0 &&
                          (image.channels == 1 || image.channels == 3 || image.channels == 4);
    if (!sizes_ok) {
        throw std::invalid_argument("an image needs a positive size and 1, 3 or 4 channels, not " +
                                    std::to_string(image.height) + "x" +
                                    std::to_string(image.width) + "x" +
                                    std::to_string(image.channels));
    }
    const std::size_t expected =
        static_cast<std::size_t>(image.height) * image.width * image.channels;
    if (image.pixels.size() != expected) {
        throw std::invalid_argument(
            "a " + std::to_string(image.height) + "x" + std::to_string(image.width) + "x" +
            std::to_string(image.channels) + " image needs " + std::to_string(expected) +
            " bytes, not " + std::to_string(image.pixels.size()));
    }
}

std::string encode_png(const Image& image) {
    check_image(image);
    // OpenCV only reads the buffer here; its Mat constructor just takes a non-const pointer.
    const cv::Mat rgb(image.height, image.width, CV_8UC(image.channels),
                      const_cast<std::uint8_t*>(image.pixels.data()));
    cv::Mat bgr;
    if (image.channels == 3) {
        cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    } else if (image.channels == 4) {
        cv::cvtColor(rgb, bgr, cv::COLOR_RGBA2BGRA);
    } else {
        bgr = rgb;
    }
    std::vector<std::uint8_t> bytes;
    if (!cv::imencode(".png", bgr, bytes)) {
        throw std::runtime_error("OpenCV could not encode a " + std::to_string(image.width) + "x" +
                                 std::to_string(image.height) + " PNG");
    }
    return std::string(bytes.begin(), bytes.end());
}

}  // namespace wb::tb
