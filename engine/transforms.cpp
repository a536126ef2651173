// Preprocessing with torchvision's conventions: Resize(int) keeps the aspect ratio and
// truncates the long side, CenterCrop rounds its offset half to even (Python's round) and pads
// with zeros when the image is smaller, RandomCrop pads with reflection (BORDER_REFLECT_101).

#include "engine/transforms.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <stdexcept>
#include <thread>

#include "engine/clips.h"
#include "engine/errors.h"
#include "engine/image_io.h"
#include "engine/video_io.h"

namespace wb {

namespace {

constexpr int kMaxStatsVideos = 64;

/// Resizes so that the short side is `side`: INTER_AREA when shrinking, INTER_LINEAR when
/// growing. Returns `image` itself when it already has that short side.
cv::Mat resize_short_side(const cv::Mat& image, int side) {
    const int h = image.rows;
    const int w = image.cols;
    const int short_side = std::min(h, w);
    if (short_side == side) {
        return image;
    }
    const int long_side = static_cast<int>(static_cast<double>(side) * std::max(h, w) / short_side);
    const cv::Size size = w <= h ? cv::Size(side, long_side) : cv::Size(long_side, side);
    cv::Mat out;
    cv::resize(image, out, size, 0, 0, side < short_side ? cv::INTER_AREA : cv::INTER_LINEAR);
    return out;
}

/// Source index for each of `n` output positions starting at `offset` in source coordinates
/// (reversed when `flip`); -1 stands for a zero pixel outside the source.
void index_table(int n, int offset, int len, bool flip, int border, int* out) {
    for (int i = 0; i < n; ++i) {
        const int src = offset + (flip ? n - 1 - i : i);
        out[i] = cv::borderInterpolate(src, len, border);
    }
}

/// torchvision's centre-crop offset: round half to even when the source is larger, minus
/// the left padding when it is smaller.
int centre_offset(int len, int crop) {
    if (len >= crop) {
        return static_cast<int>(std::nearbyint((len - crop) / 2.0));
    }
    return -((crop - len) / 2);
}

/// The image a sample contributes to the dataset statistics: the image itself or, for a
/// video, the middle frame of its evaluation clip (at the resize side). Empty when unreadable.
cv::Mat stats_image(const Sample& sample, const Preprocessing& p) {
    if (!p.is_video()) {
        return read_image_raw(sample.path);
    }
    const DecodedVideo video = decode_video(sample.path, p.resize_side());
    const int t = middle_frame(video, p);
    if (t < 0) {
        return {};
    }
    return cv::Mat(video.rows, video.cols, CV_8UC3, const_cast<std::uint8_t*>(video.frame(t)))
        .clone();
}

}  // namespace

void preprocess_into(const cv::Mat& image, const Preprocessing& p, bool train, std::mt19937& rng,
                     float* out) {
    const int C = p.channels;
    const int S = p.image_size;
    if ((C != 1 && C != 3) || S <= 0) {
        throw std::invalid_argument("preprocess_into: channels must be 1 or 3, size positive");
    }
    if ((!p.mean.empty() && p.mean.size() != std::size_t(C)) ||
        (!p.std.empty() && p.std.size() != std::size_t(C))) {
        throw std::invalid_argument("preprocess_into: mean and std need one value per channel");
    }
    cv::Mat src = image;
    if (src.depth() != CV_32F || src.channels() != C) {
        src = to_float_image(src, C);
    }
    src = resize_short_side(src, p.resize_side());
    if (!src.isContinuous()) {
        src = src.clone();
    }

    int top = centre_offset(src.rows, S);
    int left = centre_offset(src.cols, S);
    int border = cv::BORDER_CONSTANT;
    if (train && p.random_crop) {
        // Pad by crop_padding on each side, then pick a crop uniformly in the padded image.
        // Modulo draws keep the results the same with every standard library.
        const int pad = std::max(0, p.crop_padding);
        const int range_y = std::max(1, src.rows + 2 * pad - S + 1);
        const int range_x = std::max(1, src.cols + 2 * pad - S + 1);
        top = static_cast<int>(rng() % static_cast<unsigned>(range_y)) - pad;
        left = static_cast<int>(rng() % static_cast<unsigned>(range_x)) - pad;
        border = cv::BORDER_REFLECT_101;
    }
    const bool flip = train && p.hflip && (rng() & 1u) != 0;

    std::vector<int> rows(static_cast<std::size_t>(S));
    std::vector<int> cols(static_cast<std::size_t>(S));
    index_table(S, top, src.rows, false, border, rows.data());
    index_table(S, left, src.cols, flip, border, cols.data());
    for (int c = 0; c < C; ++c) {
        const float mean = p.mean.empty() ? 0.f : p.mean[std::size_t(c)];
        const float inv_std = p.std.empty() ? 1.f : 1.f / p.std[std::size_t(c)];
        float* plane = out + std::size_t(c) * S * S;
        for (int y = 0; y < S; ++y) {
            float* dst = plane + std::size_t(y) * S;
            if (rows[std::size_t(y)] < 0) {
                std::fill(dst, dst + S, (0.f - mean) * inv_std);
                continue;
            }
            const float* row = src.ptr<float>(rows[std::size_t(y)]);
            for (int x = 0; x < S; ++x) {
                const int sx = cols[std::size_t(x)];
                const float v = sx < 0 ? 0.f : row[sx * C + c];
                dst[x] = (v - mean) * inv_std;
            }
        }
    }
}

void compute_mean_std(const std::vector<Sample>& samples, const Preprocessing& p,
                      std::vector<float>* mean, std::vector<float>* stddev, int max_images) {
    const std::size_t n = samples.size();
    // A video costs a whole decode: its middle frames come from fewer of them.
    const int limit = p.is_video() ? std::min(max_images, kMaxStatsVideos) : max_images;
    const std::size_t m = std::min<std::size_t>(n, std::size_t(std::max(1, limit)));
    Preprocessing plain = p;
    plain.mean.clear();
    plain.std.clear();
    const int C = p.channels;
    const std::size_t plane = std::size_t(p.image_size) * p.image_size;

    // Per thread: sums and sums of squares per channel, and images used.
    struct Acc {
        std::vector<double> sum, sq;
        std::size_t images = 0;
    };
    const unsigned threads = std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
    std::vector<Acc> acc(threads, Acc{std::vector<double>(C), std::vector<double>(C), 0});
    std::atomic<std::size_t> next{0};
    auto work = [&](Acc& a) {
        std::vector<float> buf(plane * C);
        std::mt19937 rng(0);
        for (std::size_t k = next++; k < m; k = next++) {
            const cv::Mat raw = stats_image(samples[k * n / m], p);
            if (raw.empty()) {
                continue;
            }
            preprocess_into(raw, plain, false, rng, buf.data());
            for (int c = 0; c < C; ++c) {
                const float* v = buf.data() + std::size_t(c) * plane;
                double s = 0;
                double q = 0;
                for (std::size_t i = 0; i < plane; ++i) {
                    s += v[i];
                    q += double(v[i]) * v[i];
                }
                a.sum[std::size_t(c)] += s;
                a.sq[std::size_t(c)] += q;
            }
            ++a.images;
        }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) {
        pool.emplace_back(work, std::ref(acc[t]));
    }
    work(acc[0]);
    for (std::thread& t : pool) {
        t.join();
    }

    std::size_t images = 0;
    std::vector<double> sum(C, 0.0), sq(C, 0.0);
    for (const Acc& a : acc) {
        images += a.images;
        for (int c = 0; c < C; ++c) {
            sum[std::size_t(c)] += a.sum[std::size_t(c)];
            sq[std::size_t(c)] += a.sq[std::size_t(c)];
        }
    }
    if (images == 0) {
        throw DataError("Cannot compute the dataset mean and std: no training image could be read");
    }
    const double count = double(images) * double(plane);
    mean->assign(std::size_t(C), 0.f);
    stddev->assign(std::size_t(C), 1.f);
    for (std::size_t c = 0; c < std::size_t(C); ++c) {
        const double mu = sum[c] / count;
        const double var = std::max(0.0, sq[c] / count - mu * mu);
        (*mean)[c] = static_cast<float>(mu);
        // A constant channel would divide by zero; leave its scale alone.
        (*stddev)[c] = var > 1e-12 ? static_cast<float>(std::sqrt(var)) : 1.f;
    }
}

void resolve_normalization(Preprocessing* p, const std::vector<Sample>& train) {
    const std::size_t C = std::size_t(p->channels);
    if (p->normalize == "none") {
        p->mean.assign(C, 0.f);
        p->std.assign(C, 1.f);
    } else if (p->normalize == "imagenet") {
        if (C == 3) {
            p->mean = kImageNetMean;
            p->std = kImageNetStd;
        } else {
            auto avg = [](const std::vector<float>& v) { return (v[0] + v[1] + v[2]) / 3.f; };
            p->mean.assign(C, avg(kImageNetMean));
            p->std.assign(C, avg(kImageNetStd));
        }
    } else if (p->normalize == "dataset") {
        if (p->mean.size() != C || p->std.size() != C) {
            compute_mean_std(train, *p, &p->mean, &p->std);
        }
    } else {
        throw ConfigError(
            "normalize", 0, 0,
            "unknown normalization '" + p->normalize + "' (expected none, imagenet or dataset)");
    }
}

}  // namespace wb
