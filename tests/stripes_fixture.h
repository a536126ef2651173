#pragma once

// A tiny two-class image dataset that a small CNN learns in a few steps: noisy 16x16 gray
// images of horizontal and of vertical stripes. Shared by the training-loop suites.

#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <string>
#include <vector>

#include "engine/image_folder.h"

namespace wb::test {

/// Writes `per_class` images into dir/horizontal/ and dir/vertical/ and returns them as
/// samples (labels 0 and 1).
inline std::vector<Sample> write_stripes(const std::filesystem::path& dir, int per_class,
                                         int seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> noise(0.f, 30.f);
    std::vector<Sample> samples;
    for (int c = 0; c < 2; ++c) {
        const std::filesystem::path cls = dir / (c == 0 ? "horizontal" : "vertical");
        std::filesystem::create_directories(cls);
        for (int i = 0; i < per_class; ++i) {
            cv::Mat img(16, 16, CV_8UC1);
            const int phase = static_cast<int>(rng() % 4);
            for (int y = 0; y < 16; ++y) {
                for (int x = 0; x < 16; ++x) {
                    const int v = ((c == 0 ? y : x) + phase) / 2 % 2 ? 200 : 50;
                    img.at<uchar>(y, x) = cv::saturate_cast<uchar>(v + noise(rng));
                }
            }
            const std::filesystem::path file = cls / (std::to_string(i) + ".png");
            cv::imwrite(file.string(), img);
            samples.push_back({file.string(), c});
        }
    }
    return samples;
}

}  // namespace wb::test
