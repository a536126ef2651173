#include "engine/tensorboard/gif.h"

#include <gif_lib.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <unordered_map>

namespace wb::tb {

namespace {

struct MapDeleter {
    void operator()(ColorMapObject* map) const { GifFreeMapObject(map); }
};
using ColorMap = std::unique_ptr<ColorMapObject, MapDeleter>;

/// One frame as palette indices, with its own palette or none (then the global one applies).
struct IndexedFrame {
    std::vector<GifByteType> indices;
    ColorMap local_map;
};

std::uint32_t rgb_at(const Image& image, std::size_t pixel) {
    const std::uint8_t* p = image.pixels.data() + pixel * image.channels;
    if (image.channels == 1) {
        return (std::uint32_t{p[0]} << 16) | (std::uint32_t{p[0]} << 8) | p[0];
    }
    return (std::uint32_t{p[0]} << 16) | (std::uint32_t{p[1]} << 8) | p[2];
}

/// giflib wants palettes of 2^k entries.
ColorMap make_map(const std::vector<GifColorType>& colors) {
    int size = 2;
    while (size < static_cast<int>(colors.size())) {
        size *= 2;
    }
    std::vector<GifColorType> padded(colors);
    padded.resize(size, GifColorType{0, 0, 0});
    ColorMap map(GifMakeMapObject(size, padded.data()));
    if (!map) {
        throw std::runtime_error("giflib could not make a palette of " + std::to_string(size) +
                                 " colours");
    }
    return map;
}

/// The colours of all frames when there are at most 256 of them, in first-seen order.
bool exact_palette(const std::vector<Image>& frames, std::vector<GifColorType>& palette,
                   std::unordered_map<std::uint32_t, GifByteType>& index_of) {
    for (const Image& frame : frames) {
        const std::size_t n = static_cast<std::size_t>(frame.width) * frame.height;
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint32_t rgb = rgb_at(frame, i);
            if (index_of.count(rgb) != 0) {
                continue;
            }
            if (palette.size() == 256) {
                return false;
            }
            index_of[rgb] = static_cast<GifByteType>(palette.size());
            palette.push_back(GifColorType{static_cast<GifByteType>(rgb >> 16),
                                           static_cast<GifByteType>((rgb >> 8) & 0xFF),
                                           static_cast<GifByteType>(rgb & 0xFF)});
        }
    }
    return true;
}

IndexedFrame quantize(const Image& frame) {
    const std::size_t n = static_cast<std::size_t>(frame.width) * frame.height;
    std::vector<GifByteType> r(n), g(n), b(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t rgb = rgb_at(frame, i);
        r[i] = static_cast<GifByteType>(rgb >> 16);
        g[i] = static_cast<GifByteType>((rgb >> 8) & 0xFF);
        b[i] = static_cast<GifByteType>(rgb & 0xFF);
    }
    IndexedFrame out;
    out.indices.resize(n);
    std::vector<GifColorType> colors(256);
    int size = 256;
    if (GifQuantizeBuffer(frame.width, frame.height, &size, r.data(), g.data(), b.data(),
                          out.indices.data(), colors.data()) != GIF_OK) {
        throw std::runtime_error("giflib could not reduce a frame to 256 colours");
    }
    colors.resize(std::max(size, 1));
    out.local_map = make_map(colors);
    return out;
}

int append_bytes(GifFileType* gif, const GifByteType* data, int length) {
    static_cast<std::string*>(gif->UserData)->append(reinterpret_cast<const char*>(data), length);
    return length;
}

/// Closes the encoder on every path; close() reports the error of the final write.
class Encoder {
public:
    explicit Encoder(std::string& out) {
        int error = 0;
        gif_ = EGifOpen(&out, append_bytes, &error);
        if (gif_ == nullptr) {
            throw std::runtime_error(std::string("giflib could not start a GIF: ") +
                                     GifErrorString(error));
        }
        EGifSetGifVersion(gif_, true);
    }
    ~Encoder() {
        if (gif_ != nullptr) {
            int error = 0;
            EGifCloseFile(gif_, &error);
        }
    }
    Encoder(const Encoder&) = delete;
    Encoder& operator=(const Encoder&) = delete;

    GifFileType* get() { return gif_; }

    void check(int status, const char* what) {
        if (status != GIF_OK) {
            throw std::runtime_error(std::string("giflib could not write ") + what + ": " +
                                     GifErrorString(gif_->Error));
        }
    }

    void close() {
        int error = 0;
        GifFileType* gif = gif_;
        gif_ = nullptr;
        if (EGifCloseFile(gif, &error) != GIF_OK) {
            throw std::runtime_error(std::string("giflib could not finish a GIF: ") +
                                     GifErrorString(error));
        }
    }

private:
    GifFileType* gif_ = nullptr;
};

}  // namespace

std::string encode_gif(const std::vector<Image>& frames, int frame_delay_ms) {
    if (frames.empty()) {
        throw std::invalid_argument("an animated GIF needs at least one frame");
    }
    for (const Image& frame : frames) {
        check_image(frame);
        if (frame.width != frames[0].width || frame.height != frames[0].height) {
            throw std::invalid_argument(
                "the frames of an animated GIF must share one size: " +
                std::to_string(frames[0].width) + "x" + std::to_string(frames[0].height) + " and " +
                std::to_string(frame.width) + "x" + std::to_string(frame.height));
        }
    }
    const int width = frames[0].width;
    const int height = frames[0].height;
    const std::size_t n = static_cast<std::size_t>(width) * height;

    std::vector<GifColorType> palette;
    std::unordered_map<std::uint32_t, GifByteType> index_of;
    std::vector<IndexedFrame> indexed(frames.size());
    ColorMap global_map;
    if (exact_palette(frames, palette, index_of)) {
        global_map = make_map(palette);
        for (std::size_t f = 0; f < frames.size(); ++f) {
            indexed[f].indices.resize(n);
            for (std::size_t i = 0; i < n; ++i) {
                indexed[f].indices[i] = index_of.at(rgb_at(frames[f], i));
            }
        }
    } else {
        for (std::size_t f = 0; f < frames.size(); ++f) {
            indexed[f] = quantize(frames[f]);
        }
    }

    std::string out;
    Encoder gif(out);
    gif.check(EGifPutScreenDesc(gif.get(), width, height, 8, 0, global_map.get()),
              "the screen descriptor");
    // NETSCAPE2.0 application extension: loop forever (count 0).
    const GifByteType loop[3] = {1, 0, 0};
    gif.check(EGifPutExtensionLeader(gif.get(), APPLICATION_EXT_FUNC_CODE), "the loop extension");
    gif.check(EGifPutExtensionBlock(gif.get(), 11, "NETSCAPE2.0"), "the loop extension");
    gif.check(EGifPutExtensionBlock(gif.get(), 3, loop), "the loop extension");
    gif.check(EGifPutExtensionTrailer(gif.get()), "the loop extension");

    GraphicsControlBlock control{};
    control.DisposalMode = DISPOSE_DO_NOT;
    control.UserInputFlag = false;
    control.DelayTime = std::max(0, (frame_delay_ms + 5) / 10);
    control.TransparentColor = NO_TRANSPARENT_COLOR;
    GifByteType control_bytes[4];
    const auto control_size = EGifGCBToExtension(&control, control_bytes);
    for (IndexedFrame& frame : indexed) {
        gif.check(EGifPutExtension(gif.get(), GRAPHICS_EXT_FUNC_CODE,
                                   static_cast<int>(control_size), control_bytes),
                  "a frame delay");
        gif.check(EGifPutImageDesc(gif.get(), 0, 0, width, height, false, frame.local_map.get()),
                  "an image descriptor");
        for (int y = 0; y < height; ++y) {
            gif.check(
                EGifPutLine(gif.get(), frame.indices.data() + static_cast<std::size_t>(y) * width,
                            width),
                "a row of pixels");
        }
    }
    gif.close();
    return out;
}

}  // namespace wb::tb
