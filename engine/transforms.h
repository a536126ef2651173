#pragma once

#include <opencv2/core.hpp>
#include <random>
#include <vector>

#include "engine/image_folder.h"
#include "engine/preprocessing.h"

namespace wb {

/// Applies `p` to a float image from to_float_image(): resize the short side, crop (random
/// with padding when `train` and p.random_crop, else centre), flip (when `train` and p.hflip),
/// normalize. Writes the result as CHW float32 into `out`, which holds
/// p.channels * p.image_size * p.image_size floats. A raw image from read_image_raw() is
/// converted with to_float_image() first. `rng` draws the crop offset, then the flip.
/// Empty p.mean / p.std mean no normalization; otherwise they need one value per channel
/// (std::invalid_argument if not).
void preprocess_into(const cv::Mat& image, const Preprocessing& p, bool train, std::mt19937& rng,
                     float* out);

/// Mean and std per channel of the training images after resize and centre crop, before
/// normalization (population std over all their pixels). Uses at most `max_images` images
/// spread evenly over the list, on a few threads; unreadable ones are passed over. For videos
/// (p.clip_frames > 0) the middle frame of each evaluation clip counts, from at most 64
/// videos. Throws DataError when none can be read.
void compute_mean_std(const std::vector<Sample>& samples, const Preprocessing& p,
                      std::vector<float>* mean, std::vector<float>* std, int max_images = 5000);

/// Fills p.mean and p.std from p.normalize ("none", "imagenet"; "dataset" computes them on
/// `train` unless they are already set).
void resolve_normalization(Preprocessing* p, const std::vector<Sample>& train);

}  // namespace wb
