// Scanning an image-folder dataset: listing, checking (in parallel) and splitting.

#include "engine/image_folder.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "engine/clips.h"
#include "engine/errors.h"
#include "engine/image_io.h"
#include "engine/video_io.h"

namespace wb {

namespace fs = std::filesystem;

namespace {

constexpr int kMaxDepth = 32;  ///< Folder nesting below a class folder; stops symlink loops.
const char* const kPhaseNames[] = {"train", "val", "test"};

/// A file in a class folder, waiting to be checked.
struct Candidate {
    std::string path;
    std::string class_name;
    int phase = 0;  ///< 0 train, 1 val, 2 test; always 0 in the class layout
};

/// A class folder as found on disk.
struct ClassFolder {
    std::string path;
    std::string name;
    int phase = 0;
};

bool is_hidden(const fs::path& p) {
    const std::string name = p.filename().string();
    return !name.empty() && name[0] == '.';
}

bool is_dir(const fs::path& p) {
    std::error_code ec;
    return fs::is_directory(p, ec);
}

/// Entries of `dir`, sorted by name; an unreadable folder reads as empty.
std::vector<fs::path> sorted_entries(const fs::path& dir) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        out.push_back(it->path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

/// Files below a class folder (recursively), sorted; hidden and non-image entries go to
/// `skipped`. With `video`, the samples are video files and folders of frames.
void collect_files(const fs::path& dir, const ClassFolder& cls, int depth, bool video,
                   std::vector<Candidate>* out, std::vector<SkippedFile>* skipped) {
    for (const fs::path& p : sorted_entries(dir)) {
        const bool folder = is_dir(p);
        if (is_hidden(p)) {
            skipped->push_back({p.string(), folder ? "hidden folder" : "hidden file"});
        } else if (video) {
            if (folder && is_frame_folder(p.string())) {
                out->push_back({p.string(), cls.name, cls.phase});
            } else if (folder) {
                if (depth < kMaxDepth) {
                    collect_files(p, cls, depth + 1, video, out, skipped);
                }
            } else if (has_video_extension(p.string())) {
                out->push_back({p.string(), cls.name, cls.phase});
            } else if (has_image_extension(p.string())) {
                skipped->push_back(
                    {p.string(), "an image beside the clips (a clip's frames need a folder)"});
            } else {
                skipped->push_back({p.string(), "not a video file"});
            }
        } else if (folder) {
            if (depth < kMaxDepth) {
                collect_files(p, cls, depth + 1, video, out, skipped);
            }
        } else if (!has_image_extension(p.string())) {
            skipped->push_back({p.string(), "not an image file"});
        } else {
            out->push_back({p.string(), cls.name, cls.phase});
        }
    }
}

/// Records a file found above the class folders: an image or video there is skipped, other
/// files (README, LICENSE, a CSV) are documentation and pass silently.
void note_stray_file(const fs::path& p, std::vector<SkippedFile>* skipped) {
    if (has_image_extension(p.string()) || has_video_extension(p.string())) {
        skipped->push_back({p.string(), "outside a class folder"});
    }
}

/// Class folders directly in `dir`.
void collect_classes(const fs::path& dir, int phase, std::vector<ClassFolder>* out,
                     std::vector<SkippedFile>* skipped) {
    for (const fs::path& p : sorted_entries(dir)) {
        if (is_hidden(p)) {
            skipped->push_back({p.string(), is_dir(p) ? "hidden folder" : "hidden file"});
        } else if (is_dir(p)) {
            out->push_back({p.string(), p.filename().string(), phase});
        } else {
            note_stray_file(p, skipped);
        }
    }
}

/// The class folders of a dataset, in phase order and then by name, and the phases present.
std::vector<ClassFolder> list_class_folders(const std::string& root, DatasetScan* scan,
                                            std::vector<int>* phases_present) {
    std::vector<ClassFolder> folders;
    if (!scan->phase_layout) {
        *phases_present = {0};
        collect_classes(root, 0, &folders, &scan->skipped);
        return folders;
    }
    for (const fs::path& p : sorted_entries(root)) {
        const std::string name = p.filename().string();
        const auto phase = std::find(std::begin(kPhaseNames), std::end(kPhaseNames), name);
        if (phase != std::end(kPhaseNames) && is_dir(p)) {
            phases_present->push_back(static_cast<int>(phase - std::begin(kPhaseNames)));
        } else if (is_hidden(p)) {
            scan->skipped.push_back({p.string(), is_dir(p) ? "hidden folder" : "hidden file"});
        } else if (is_dir(p)) {
            scan->warnings.push_back("folder " + p.string() +
                                     " is ignored: only train/, val/ and test/ are read");
        } else {
            note_stray_file(p, &scan->skipped);
        }
    }
    std::sort(phases_present->begin(), phases_present->end());
    for (int phase : *phases_present) {
        collect_classes(fs::path(root) / kPhaseNames[phase], phase, &folders, &scan->skipped);
    }
    return folders;
}

/// Why each file is unusable (empty string when it is fine), checked on a few threads.
/// Stops early, leaving the rest unchecked, once `*cancel` is set. With `frames`, the files
/// are videos and it receives their frame counts.
std::vector<std::string> check_files(const std::vector<Candidate>& files, bool decode,
                                     const std::atomic<bool>* cancel,
                                     std::vector<int>* frames = nullptr) {
    std::vector<std::string> reasons(files.size());
    if (frames) {
        frames->assign(files.size(), 0);
    }
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        for (std::size_t i = next++; i < files.size(); i = next++) {
            if (cancel && *cancel) {
                return;
            }
            try {
                if (frames) {
                    (*frames)[i] = decode ? verify_video(files[i].path, &reasons[i])
                                          : probe_video(files[i].path, &reasons[i]);
                } else if (decode) {
                    read_image_raw(files[i].path, &reasons[i]);
                } else {
                    reasons[i] = check_image_file(files[i].path);
                }
            } catch (const std::exception& e) {
                reasons[i] = std::string("cannot be decoded: ") + e.what();
            }
        }
    };
    const unsigned cores = std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
    const std::size_t helpers =
        std::min<std::size_t>(cores - 1, frames ? files.size() : files.size() / 64);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < helpers; ++t) {
        threads.emplace_back(work);
    }
    work();
    for (std::thread& t : threads) {
        t.join();
    }
    return reasons;
}

std::uint64_t splitmix64(std::uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/// FNV-1a: a class's split depends on its name, not on which other classes exist.
std::uint64_t name_hash(const std::string& s) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : s) {
        h = (h ^ c) * 0x100000001b3ULL;
    }
    return h;
}

/// Splits one class's samples (sorted by path) into train, val and test.
void split_class(const std::vector<Sample>& items, const SplitOptions& o, std::uint64_t seed,
                 DatasetScan* scan) {
    const long n = static_cast<long>(items.size());
    long n_val = std::lround(static_cast<double>(n) * o.val_fraction);
    long n_test = std::lround(static_cast<double>(n) * o.test_fraction);
    while (n > 0 && n_val + n_test > n - 1) {
        (n_val >= n_test ? n_val : n_test) -= 1;
    }
    const std::vector<std::size_t> perm = seeded_permutation(items.size(), seed);
    std::vector<int> group(items.size(), 0);
    for (long k = 0; k < n_val + n_test; ++k) {
        group[perm[static_cast<std::size_t>(k)]] = k < n_val ? 1 : 2;
    }
    for (std::size_t i = 0; i < items.size(); ++i) {
        std::vector<Sample>& dst = group[i] == 0   ? scan->train
                                   : group[i] == 1 ? scan->val
                                                   : scan->test;
        dst.push_back(items[i]);
    }
}

/// Each video becomes `clips` samples, its clips 0 .. clips - 1, in the video's split (so that
/// the clips of one video never straddle two splits).
// Limitation: evaluation then counts clips, not videos: the confusion matrix and accuracy are
// per clip, and a video's clips are not averaged into one prediction.
void expand_clips(DatasetScan* scan, int clips) {
    for (std::vector<Sample>* split : {&scan->train, &scan->val, &scan->test}) {
        std::vector<Sample> out;
        out.reserve(split->size() * std::size_t(clips));
        for (const Sample& s : *split) {
            for (int k = 0; k < clips; ++k) {
                out.push_back({s.path, s.label, k});
            }
        }
        *split = std::move(out);
    }
}

}  // namespace

const char* split_name(Split split) {
    switch (split) {
        case Split::Train:
            return "train";
        case Split::Val:
            return "val";
        case Split::Test:
            return "test";
    }
    return "?";
}

const std::vector<Sample>& DatasetScan::split(Split s) const {
    return s == Split::Train ? train : s == Split::Val ? val : test;
}

std::vector<int> DatasetScan::class_counts(Split s) const {
    std::vector<int> counts(classes.size(), 0);
    for (const Sample& sample : split(s)) {
        if (sample.label >= 0 && sample.label < static_cast<int>(counts.size())) {
            ++counts[static_cast<std::size_t>(sample.label)];
        }
    }
    return counts;
}

std::string DatasetScan::summary() const {
    std::ostringstream os;
    os << root << ": " << classes.size() << " classes, "
       << (phase_layout ? "phase folders" : "split from class folders")
       << (val_held_out ? ", val held out of train/" : "") << "\n";
    os << "  train " << train.size() << ", val " << val.size() << ", test " << test.size()
       << (video ? " clips\n" : " images\n");
    const std::vector<int> tr = class_counts(Split::Train);
    const std::vector<int> va = class_counts(Split::Val);
    const std::vector<int> te = class_counts(Split::Test);
    constexpr std::size_t kMaxListed = 10;
    for (std::size_t c = 0; c < classes.size() && c < 2 * kMaxListed; ++c) {
        os << "  " << c << " " << classes[c] << ": " << tr[c] << " / " << va[c] << " / " << te[c]
           << "\n";
    }
    if (classes.size() > 2 * kMaxListed) {
        os << "  ... and " << classes.size() - 2 * kMaxListed << " more classes\n";
    }
    if (!skipped.empty()) {
        os << "  skipped " << skipped.size() << " files:\n";
        for (std::size_t i = 0; i < skipped.size() && i < kMaxListed; ++i) {
            os << "    " << skipped[i].path << ": " << skipped[i].reason << "\n";
        }
        if (skipped.size() > kMaxListed) {
            os << "    ... and " << skipped.size() - kMaxListed << " more\n";
        }
    }
    for (const std::string& w : warnings) {
        os << "  warning: " << w << "\n";
    }
    return os.str();
}

bool has_image_extension(const std::string& path) {
    static const std::set<std::string> known = {".png", ".jpg",  ".jpeg", ".jpe", ".bmp", ".dib",
                                                ".tif", ".tiff", ".webp", ".pbm", ".pgm", ".ppm",
                                                ".pnm", ".jp2",  ".sr",   ".ras"};
    std::string ext = fs::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return known.count(ext) > 0;
}

std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b) {
    return splitmix64(splitmix64(a) ^ b);
}

std::vector<std::size_t> seeded_permutation(std::size_t n, std::uint64_t seed) {
    std::vector<std::size_t> perm(n);
    std::iota(perm.begin(), perm.end(), std::size_t(0));
    std::mt19937_64 rng(seed);
    for (std::size_t i = n; i > 1; --i) {
        // Unbiased draw in [0, i): reject the lowest 2^64 mod i values.
        const std::uint64_t range = i;
        const std::uint64_t threshold = (0 - range) % range;
        std::uint64_t x = rng();
        while (x < threshold) {
            x = rng();
        }
        std::swap(perm[i - 1], perm[static_cast<std::size_t>(x % range)]);
    }
    return perm;
}

DatasetScan scan_image_folder(const std::string& root, const SplitOptions& options,
                              const std::atomic<bool>* cancel) {
    std::error_code ec;
    if (!fs::exists(root, ec)) {
        throw DataError("Dataset folder does not exist: " + root);
    }
    if (!is_dir(root)) {
        throw DataError("Dataset path is not a folder: " + root);
    }
    if (options.val_fraction < 0 || options.test_fraction < 0 ||
        options.val_fraction + options.test_fraction >= 1) {
        throw DataError(root + ": val and test fractions must be >= 0 and sum to less than 1");
    }
    DatasetScan scan;
    scan.root = root;
    scan.phase_layout = is_dir(fs::path(root) / "train");
    std::vector<int> phases_present;
    const std::vector<ClassFolder> folders = list_class_folders(root, &scan, &phases_present);

    std::vector<Candidate> files;
    std::map<std::pair<int, std::string>, int> usable;  // (phase, class) -> good images
    std::set<std::string> names;
    for (const ClassFolder& f : folders) {
        names.insert(f.name);
        usable[{f.phase, f.name}] = 0;
        collect_files(f.path, f, 0, options.video(), &files, &scan.skipped);
    }
    scan.classes.assign(names.begin(), names.end());
    std::map<std::string, int> label_of;
    for (std::size_t i = 0; i < scan.classes.size(); ++i) {
        label_of[scan.classes[i]] = static_cast<int>(i);
    }

    std::vector<int> frames;
    const std::vector<std::string> reasons =
        check_files(files, options.verify_decode, cancel, options.video() ? &frames : nullptr);
    scan.video = options.video();
    if (cancel && *cancel) {
        throw DataError("Scan of " + root + " cancelled");
    }
    std::vector<std::vector<Sample>> by_class(scan.classes.size());
    for (std::size_t i = 0; i < files.size(); ++i) {
        const Candidate& c = files[i];
        if (!reasons[i].empty()) {
            scan.skipped.push_back({c.path, reasons[i]});
            continue;
        }
        ++usable[{c.phase, c.class_name}];
        if (scan.video && frames[i] < clip_span(options.clip_frames, options.frame_stride)) {
            ++scan.looped_videos;
        }
        const Sample s{c.path, label_of[c.class_name]};
        if (!scan.phase_layout) {
            by_class[static_cast<std::size_t>(s.label)].push_back(s);
        } else {
            (c.phase == 0 ? scan.train : c.phase == 1 ? scan.val : scan.test).push_back(s);
        }
    }

    for (const ClassFolder& f : folders) {
        if (usable[{f.phase, f.name}] == 0) {
            scan.warnings.push_back(
                "class folder " + f.path +
                (scan.video ? " holds no usable videos" : " holds no usable images"));
        }
    }
    if (phases_present.size() > 1) {
        for (const std::string& name : scan.classes) {
            for (int phase : phases_present) {
                if (usable.count({phase, name}) == 0) {
                    const fs::path where = fs::path(root) / kPhaseNames[phase];
                    scan.warnings.push_back("class '" + name + "' has no folder in " +
                                            where.string());
                }
            }
        }
    }
    if (!scan.phase_layout) {
        for (std::size_t c = 0; c < by_class.size(); ++c) {
            const std::uint64_t seed = mix_seed(options.seed, name_hash(scan.classes[c]));
            split_class(by_class[c], options, seed, &scan);
        }
    } else if (scan.val.empty() && options.val_fraction > 0 &&
               std::find(phases_present.begin(), phases_present.end(), 1) == phases_present.end()) {
        // train/ without val/: hold out a stratified validation split of train/.
        std::vector<std::vector<Sample>> train_by_class(scan.classes.size());
        for (Sample& s : scan.train) {
            train_by_class[static_cast<std::size_t>(s.label)].push_back(std::move(s));
        }
        scan.train.clear();
        SplitOptions val_only = options;
        val_only.test_fraction = 0;
        for (std::size_t c = 0; c < train_by_class.size(); ++c) {
            const std::uint64_t seed = mix_seed(options.seed, name_hash(scan.classes[c]));
            split_class(train_by_class[c], val_only, seed, &scan);
        }
        scan.val_held_out = !scan.val.empty();
    }

    if (scan.video) {
        expand_clips(&scan, std::max(1, options.clips_per_video));
        if (scan.looped_videos > 0) {
            scan.warnings.push_back(
                std::to_string(scan.looped_videos) + " videos are shorter than a clip (" +
                std::to_string(clip_span(options.clip_frames, options.frame_stride)) +
                " frames) and are padded by looping");
        }
    }
    const std::size_t total = scan.train.size() + scan.val.size() + scan.test.size();
    if (total == 0) {
        std::string detail = std::to_string(folders.size()) + " class folders, " +
                             std::to_string(scan.skipped.size()) + " files skipped";
        if (!scan.skipped.empty()) {
            detail += "; first: " + scan.skipped[0].path + ": " + scan.skipped[0].reason;
        }
        throw DataError(std::string(scan.video ? "No usable videos in " : "No usable images in ") +
                        root + " (" + detail + ")");
    }
    if (scan.train.empty()) {
        throw DataError(std::string(scan.video ? "No usable videos in " : "No usable images in ") +
                        (fs::path(root) / "train").string());
    }
    return scan;
}

}  // namespace wb
