#include "app/video_thumbnail.h"

#include <algorithm>
#include <random>

#include "engine/clips.h"
#include "engine/video_io.h"

namespace wb::ui {

bool isVideo(const QString& path) {
    const std::string p = path.toStdString();
    return wb::has_video_extension(p) || wb::is_frame_folder(p);
}

QList<QImage> clipFrames(const QString& path, int frames, int stride, int side) {
    const wb::DecodedVideo video = wb::decode_video(path.toStdString(), side);
    QList<QImage> out;
    if (video.empty()) {
        return out;
    }
    std::mt19937 rng(0);
    for (int t : wb::clip_frame_indices(video.frames, std::max(1, frames), std::max(1, stride), 0,
                                        1, false, rng)) {
        const QImage bgr(video.frame(t), video.cols, video.rows, video.cols * 3,
                         QImage::Format_BGR888);
        out.append(bgr.convertToFormat(QImage::Format_RGB32));
    }
    return out;
}

QImage middleFrame(const QString& path, int side) {
    const QList<QImage> frames = clipFrames(path, 1, 1, side);
    return frames.isEmpty() ? QImage() : frames.front();
}

}  // namespace wb::ui
