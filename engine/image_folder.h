#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace wb {

enum class Split { Train, Val, Test };
const char* split_name(Split split);

/// One labelled image (or, later, clip) on disk.
struct Sample {
    std::string path;
    int label = 0;
    /// Video datasets: which of the video's Preprocessing::clips_per_video clips this is.
    int clip = 0;
};

/// A file that was found but not used, and why ("empty file", "not an image", "truncated",
/// "cannot be decoded: ...").
struct SkippedFile {
    std::string path;
    std::string reason;
};

/// How a single folder of classes is split when it has no train/val/test phase folders.
/// The split is stratified (each class is split with the same fractions) and seeded.
struct SplitOptions {
    double val_fraction = 0.1;
    double test_fraction = 0.1;
    std::uint64_t seed = 42;
    /// Decode every image while scanning, so that broken files are skipped before training
    /// starts. Turning it off only checks names, sizes and file signatures.
    bool verify_decode = true;
    /// A video dataset when above 0: class folders hold video files (has_video_extension())
    /// and folders of frames, one clip per folder (is_frame_folder()). Frames per clip, the
    /// stride between them and the clips per video (see engine/clips.h); a video shorter than
    /// a clip is counted in DatasetScan::looped_videos. verify_decode decodes every frame.
    int clip_frames = 0;
    int frame_stride = 1;
    int clips_per_video = 1;

    bool video() const { return clip_frames > 0; }
};

/// The result of scanning a dataset folder.
struct DatasetScan {
    std::string root;
    /// True when the folder had train/ (and optionally val/, test/) phase folders.
    bool phase_layout = false;
    /// True when a phase layout had no val/ and `val` was held out of train/ (stratified,
    /// seeded, SplitOptions::val_fraction).
    bool val_held_out = false;
    /// A video dataset: each sample is one clip (Sample::clip) of a video or frame folder.
    bool video = false;
    /// Videos (not clips) shorter than a clip, padded by looping.
    std::size_t looped_videos = 0;
    /// Class names, sorted; a label is an index into it.
    std::vector<std::string> classes;
    std::vector<Sample> train;
    std::vector<Sample> val;
    std::vector<Sample> test;
    std::vector<SkippedFile> skipped;
    /// Problems that do not stop training: a class folder with no images, a class present in
    /// one phase but not another. Each message names the folder.
    std::vector<std::string> warnings;

    const std::vector<Sample>& split(Split s) const;
    /// Images per class in one split, indexed by label.
    std::vector<int> class_counts(Split s) const;
    /// A few lines for a terminal: classes, counts per split, skipped files, warnings.
    std::string summary() const;
};

/// Scans `root`: either phase folders (train/, val/, test/, each holding one folder per class)
/// or one folder per class, which is then split with `options`. Hidden files, non-image files,
/// empty, truncated and unreadable files are skipped and listed, and so are images lying above
/// the class folders (other files there, a README say, are ignored). Files in subfolders of a
/// class folder count for that class. Each class is split on its own: round(n * val_fraction)
/// images go to val, round(n * test_fraction) to test, at least one stays in train. Throws
/// DataError naming the folder when it does not exist, holds no usable image (train/ holds none
/// in the phase layout), or when the fractions are outside [0, 1) or sum to 1 or more.
/// Setting `*cancel` (from another thread) makes it stop early and throw DataError.
DatasetScan scan_image_folder(const std::string& root, const SplitOptions& options = {},
                              const std::atomic<bool>* cancel = nullptr);

/// True for the file extensions OpenCV may read as images (case-insensitive): png, jpg, jpeg,
/// jpe, bmp, dib, tif, tiff, webp, pbm, pgm, ppm, pnm, jp2, sr, ras.
bool has_image_extension(const std::string& path);

/// Combines two seeds into one (splitmix64 steps), e.g. (seed, epoch) or (seed, position).
std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b);

/// A permutation of 0 .. n-1 drawn from `seed`: Fisher-Yates over std::mt19937_64 with
/// unbiased bounded draws, so it is the same with every standard library.
std::vector<std::size_t> seeded_permutation(std::size_t n, std::uint64_t seed);

}  // namespace wb
