// Builds the forward-or-backward video task from real videos: each video is cut into segments
// of --frames frames (a new one every --hop frames), and each segment is written twice, as
// played and reversed, into train/{forward,backward}/ or val/{forward,backward}/ as MJPG AVI.
// The last --val-fraction of every video goes to val/, so that no frame of a validation clip
// is seen in training. A single frame cannot tell the two classes apart; only motion can.
//
//   make_direction_clips --out DIR [--frames 24] [--hop 12] [--side 64] [--val-fraction 0.25]
//       VIDEO...

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <opencv2/videoio.hpp>
#include <string>
#include <vector>

#include "engine/video_io.h"

namespace fs = std::filesystem;

namespace {

bool write_segment(const fs::path& file, const wb::DecodedVideo& v, int first, int count,
                   bool reversed) {
    cv::VideoWriter writer(file.string(), cv::CAP_FFMPEG, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'),
                           10, cv::Size(v.cols, v.rows));
    if (!writer.isOpened()) {
        return false;
    }
    for (int i = 0; i < count; ++i) {
        const int t = reversed ? first + count - 1 - i : first + i;
        writer.write(cv::Mat(v.rows, v.cols, CV_8UC3, const_cast<std::uint8_t*>(v.frame(t))));
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::string out;
    int frames = 24, hop = 12, side = 64;
    double val_fraction = 0.25;
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
        } else if (a == "--side") {
            side = std::atoi(value().c_str());
        } else if (a == "--val-fraction") {
            val_fraction = std::atof(value().c_str());
        } else {
            videos.push_back(a);
        }
    }
    if (out.empty() || videos.empty() || frames < 2 || hop < 1) {
        std::fprintf(stderr,
                     "usage: make_direction_clips --out DIR [--frames N] [--hop N] [--side PX] "
                     "[--val-fraction F] VIDEO...\n");
        return 2;
    }
    for (const char* split : {"train", "val"}) {
        for (const char* cls : {"forward", "backward"}) {
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
            // Validation segments do not overlap: each is seen once.
            const int step = part == 0 ? hop : frames;
            for (int first = begin; first + frames <= end; first += step) {
                char name[64];
                std::snprintf(name, sizeof name, "%s_%04d.avi", stem.c_str(), first);
                const fs::path dir = fs::path(out) / (part == 0 ? "train" : "val");
                if (!write_segment(dir / "forward" / name, v, first, frames, false) ||
                    !write_segment(dir / "backward" / name, v, first, frames, true)) {
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
