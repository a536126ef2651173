#pragma once

#include <string>
#include <vector>

namespace wb {

/// How an image becomes the model's input. The same settings serve training (with the
/// augmentations), validation, test and inference (without them), and are saved with the run.
struct Preprocessing {
    /// Side of the square image the model sees, in pixels.
    int image_size = 28;
    /// Short side the image is resized to before cropping; 0 means `image_size`.
    int resize = 0;
    /// Training only: pad by this many pixels (reflect) and crop `image_size` at a random place.
    /// Evaluation always crops the centre.
    bool random_crop = false;
    int crop_padding = 0;
    /// Training only: flip left-right with probability 1/2.
    bool hflip = false;
    /// Channels the model wants: 1 (colour is turned to gray) or 3 (gray is repeated).
    int channels = 1;
    /// "none", "imagenet" (torchvision's mean and std) or "dataset" (computed on the training
    /// split when the run starts, then stored in `mean` and `std`).
    std::string normalize = "dataset";
    /// Per-channel mean and std applied after scaling pixels to [0, 1]; sized `channels` once
    /// resolved.
    std::vector<float> mean;
    std::vector<float> std;

    /// Video datasets: frames per clip (the model sees [C, T, H, W] with T = clip_frames);
    /// 0 means the dataset holds images.
    int clip_frames = 0;
    /// Frames from one frame of a clip to the next (1: consecutive frames).
    int frame_stride = 1;
    /// Clips taken from each video, each its own sample (see clip_frame_indices()).
    int clips_per_video = 1;
    /// Training only: "random" (each clip starts anywhere in its part of the video, drawn anew
    /// every epoch) or "uniform" (in the middle of its part, as evaluation always does).
    std::string clip_sampling = "random";

    int resize_side() const { return resize > 0 ? resize : image_size; }
    bool is_video() const { return clip_frames > 0; }
};

/// ImageNet statistics as torchvision uses them, RGB order.
inline const std::vector<float> kImageNetMean = {0.485f, 0.456f, 0.406f};
inline const std::vector<float> kImageNetStd = {0.229f, 0.224f, 0.225f};

}  // namespace wb
