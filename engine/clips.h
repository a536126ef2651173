#pragma once

// From a decoded video to the model's input: which frames a clip takes, and the clip's crop,
// flip and normalization, the same for all of its frames.

#include <random>
#include <vector>

#include "engine/preprocessing.h"
#include "engine/video_io.h"

namespace wb {

/// Frames a clip covers from its first to its last: (frames - 1) * stride + 1.
int clip_span(int frames, int stride);

/// The frame indices of clip `clip` of `clips` in a video of `length` frames, `frames` of them
/// `stride` apart. The positions where a clip may start (length - span + 1 of them) are cut
/// into `clips` equal parts; clip k starts in the middle of part k (with one clip: the video's
/// centre), or, when `random`, anywhere in its part, drawn from `rng`. A video shorter than the
/// span starts at 0 and is looped: index i reads frame i mod length.
std::vector<int> clip_frame_indices(int length, int frames, int stride, int clip, int clips,
                                    bool random, std::mt19937& rng);

/// Writes the clip of `video` at `indices` as float32 [C, T, S, S] into `out` (C = p.channels,
/// T = indices.size(), S = p.image_size): every frame goes through preprocess_into() with the
/// same crop offset and flip, drawn once from `rng` (training augmentation as for images).
void clip_into(const DecodedVideo& video, const std::vector<int>& indices, const Preprocessing& p,
               bool train, std::mt19937& rng, float* out);

/// The frame in the middle of the evaluation clip (clip 0 of 1, centred) of a decoded video:
/// for thumbnails. An empty video gives -1.
int middle_frame(const DecodedVideo& video, const Preprocessing& p);

}  // namespace wb
