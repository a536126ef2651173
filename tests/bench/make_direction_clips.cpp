// Builds the forward-or-backward video task from real videos: each video is cut into segments
// of --frames frames (a new one every --hop frames), and each segment is written twice, as
// played and reversed, into train/{forward,backward}/ or val/{forward,backward}/ as MJPG AVI.
// The last --val-fraction of every video goes to val/, so that no frame of a validation clip
// is seen in training; validation segments start every --val-hop frames (default: --frames,
// so that they do not overlap). With --task speed the classes are instead normal/ (the
// segment as played) and fast/ (twice the speed: every other frame of a segment twice as
// long), which a single frame cannot tell apart either. A single frame cannot tell the two classes
// apart; only motion can.
//
//   make_direction_clips --out DIR [--frames 24] [--hop 12] [--val-hop N] [--side 64]
//       [--val-fraction 0.25] [--task direction|speed] VIDEO...

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <opencv2/videoio.hpp>
#include <string>
#include <vector>

#include "engine/video_io.h"

namespace fs = std::filesystem;

namespace {

/// Writes `count` frames from `first`, `step` apart (a negative step plays backward from the
/// last of the forward frames).
bool write_segment(const fs::path& file, const wb::DecodedVideo& v, int first, int count,
                   int step) {
    cv::VideoWriter writer(file.string(), cv::CAP_FFMPEG,
                           cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10,
                           cv::Size(v.cols, v.rows));
    if (!writer.isOpened()) {
        return false;
    }
    for (int i = 0; i < count; ++i) {
        const int t = step > 0 ? first + i * step : first + (count - 1 - i) * -step;
        writer.write(cv::Mat(v.rows, v.cols, CV_8UC3, const_cast<std::uint8_t*>(v.frame(t))));
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::string out;
    int frames = 24, hop = 12, val_hop = 0, side = 64;
    double val_fraction = 0.25;
    std::string task = "direction";
    std::vector<std::string> videos;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--out") {
            out = value();
        } else if (a == "--frames") {
            frames = std::atoi(value().c_str());
        } else if (a == "--hop") {
            hop = std::atoi(value().c_str());
        } else if (a == "--val-hop") {
            val_hop = std::atoi(value().c_str());
        } else if (a == "--side") {
            side = std::atoi(value().c_str());
        } else if (a == "--task") {
            task = value();
        } else if (a == "--val-fraction") {
            val_fraction = std::atof(value().c_str());
        } else {
            videos.push_back(a);
        }
    }
    const bool speed = task == "speed";
    if (out.empty() || videos.empty() || frames < 2 || hop < 1 || (!speed && task != "direction")) {
        std::fprintf(stderr,
                     "usage: make_direction_clips --out DIR [--frames N] [--hop N] [--val-hop N] "
                     "[--side PX] [--val-fraction F] [--task direction|speed] VIDEO...\n");
        return 2;
    }
    for (const char* split : {"train", "val"}) {
        for (const char* cls : {speed ? "normal" : "forward", speed ? "fast" : "backward"}) {
            fs::create_directories(fs::path(out) / split / cls);
        }
    }
    int counts[2] = {0, 0};
    for (const std::string& path : videos) {
        std::string error;
        const wb::DecodedVideo v = wb::decode_video(path, side, &error);
        if (v.empty()) {
            std::fprintf(stderr, "skipped %s: %s\n", path.c_str(), error.c_str());
            continue;
        }
        const int split_at = static_cast<int>(v.frames * (1.0 - val_fraction));
        const std::string stem = fs::path(path).stem().string();
        int written[2] = {0, 0};
        for (int part = 0; part < 2; ++part) {
            const int begin = part == 0 ? 0 : split_at;
            const int end = part == 0 ? split_at : v.frames;
            const int step = part == 0 ? hop : (val_hop > 0 ? val_hop : frames);
            // Both classes start at the same frames; the fast one spans twice as many.
            const int span = speed ? 2 * frames : frames;
            for (int first = begin; first + span <= end; first += step) {
                char name[64];
                std::snprintf(name, sizeof name, "%s_%04d.avi", stem.c_str(), first);
                const fs::path dir = fs::path(out) / (part == 0 ? "train" : "val");
                const bool ok =
                    speed ? write_segment(dir / "normal" / name, v, first, frames, 1) &&
                                write_segment(dir / "fast" / name, v, first, frames, 2)
                          : write_segment(dir / "forward" / name, v, first, frames, 1) &&
                                write_segment(dir / "backward" / name, v, first, frames, -1);
                if (!ok) {
                    std::fprintf(stderr, "cannot write %s\n", (dir / name).c_str());
                    return 1;
                }
                ++written[part];
            }
        }
        std::printf("%s: %d frames of %dx%d, %d training and %d validation segments\n",
                    path.c_str(), v.frames, v.cols, v.rows, written[0], written[1]);
        counts[0] += written[0];
        counts[1] += written[1];
    }
    std::printf("%s: %d training and %d validation clips per class\n", out.c_str(), counts[0],
                counts[1]);
    return 0;
}
