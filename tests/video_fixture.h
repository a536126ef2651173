#pragma once

// Videos for the tests, written into a temporary folder: MJPG in AVI (OpenCV's own encoder, so
// no codec needs installing) or folders of PNG frames. Frame t is uniform gray of value
// frame_value(t), with a white square whose place depends on t when `moving` is set.

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <string>

namespace wb::test {

inline int frame_value(int t) {
    return (10 * t + 5) % 250;
}

inline cv::Mat fixture_frame(int t, int width, int height, bool moving) {
    cv::Mat frame(height, width, CV_8UC3, cv::Scalar::all(frame_value(t)));
    if (moving) {
        const int side = std::max(2, height / 4);
        const int x = (t * 3) % std::max(1, width - side);
        cv::rectangle(frame, cv::Rect(x, height / 3, side, side), cv::Scalar::all(255), cv::FILLED);
    }
    return frame;
}

/// Writes an MJPG AVI of `frames` frames; false when OpenCV cannot write one.
inline bool write_fixture_video(const std::string& path, int frames, int width = 32,
                                int height = 24, bool moving = false) {
    cv::VideoWriter writer(path, cv::CAP_FFMPEG, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10,
                           cv::Size(width, height));
    if (!writer.isOpened()) {
        return false;
    }
    for (int t = 0; t < frames; ++t) {
        writer.write(fixture_frame(t, width, height, moving));
    }
    writer.release();
    return true;
}

/// Writes frames as 000.png, 001.png, ... into the existing folder `dir`.
inline void write_fixture_frames(const std::string& dir, int frames, int width = 32,
                                 int height = 24) {
    for (int t = 0; t < frames; ++t) {
        char name[16];
        std::snprintf(name, sizeof name, "/%03d.png", t);
        cv::imwrite(dir + name, fixture_frame(t, width, height, false));
    }
}

}  // namespace wb::test
