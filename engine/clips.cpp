#include "engine/clips.h"

#include <algorithm>
#include <cstring>
#include <opencv2/core.hpp>
#include <stdexcept>

#include "engine/transforms.h"

namespace wb {

int clip_span(int frames, int stride) {
    return (std::max(frames, 1) - 1) * std::max(stride, 1) + 1;
}

std::vector<int> clip_frame_indices(int length, int frames, int stride, int clip, int clips,
                                    bool random, std::mt19937& rng) {
    if (length <= 0 || frames <= 0 || stride <= 0 || clips <= 0 || clip < 0 || clip >= clips) {
        throw std::invalid_argument(
            "clip_frame_indices: length, frames, stride, clips must be "
            "positive and clip in [0, clips)");
    }
    const int span = clip_span(frames, stride);
    long long start = 0;
    if (length > span) {
        const long long free = length - span;  // the last possible start
        if (random) {
            const long long positions = free + 1;
            const long long lo = clip * positions / clips;
            const long long hi = std::max(lo, (clip + 1) * positions / clips - 1);
            start = lo + static_cast<long long>(rng() % static_cast<unsigned>(hi - lo + 1));
        } else {
            start = (2LL * clip + 1) * free / (2LL * clips);
        }
    }
    std::vector<int> indices(static_cast<std::size_t>(frames));
    for (int i = 0; i < frames; ++i) {
        indices[std::size_t(i)] = static_cast<int>((start + 1LL * i * stride) % length);
    }
    return indices;
}

void clip_into(const DecodedVideo& video, const std::vector<int>& indices, const Preprocessing& p,
               bool train, std::mt19937& rng, float* out) {
    const std::size_t plane = std::size_t(p.image_size) * std::size_t(p.image_size);
    const std::size_t T = indices.size();
    std::vector<float> chw(plane * std::size_t(p.channels));
    const std::mt19937 start = rng;
    for (std::size_t t = 0; t < T; ++t) {
        const int index = indices[t];
        if (index < 0 || index >= video.frames) {
            throw std::invalid_argument("clip_into: frame " + std::to_string(index) +
                                        " is outside the video");
        }
        // The same generator state for every frame: the same crop and flip.
        std::mt19937 frame_rng = start;
        const cv::Mat frame(video.rows, video.cols, CV_8UC3,
                            const_cast<std::uint8_t*>(video.frame(index)));
        preprocess_into(frame, p, train, frame_rng, chw.data());
        if (t + 1 == T) {
            rng = frame_rng;
        }
        for (int c = 0; c < p.channels; ++c) {
            std::memcpy(out + (std::size_t(c) * T + t) * plane, chw.data() + std::size_t(c) * plane,
                        plane * sizeof(float));
        }
    }
}

int middle_frame(const DecodedVideo& video, const Preprocessing& p) {
    if (video.empty()) {
        return -1;
    }
    std::mt19937 rng(0);
    const std::vector<int> indices = clip_frame_indices(
        video.frames, std::max(1, p.clip_frames), std::max(1, p.frame_stride), 0, 1, false, rng);
    return indices[indices.size() / 2];
}

}  // namespace wb
