#pragma once

#include <QImage>
#include <QList>
#include <QString>

namespace wb::ui {

/// True for what the engine reads as a video: a video file or a folder of frames.
bool isVideo(const QString& path);

/// The frames of a video's centre clip, `frames` of them `stride` apart, as RGB images whose
/// short side is `side` pixels; empty when it cannot be decoded. Decodes the whole video: call
/// it off the GUI thread for anything long.
QList<QImage> clipFrames(const QString& path, int frames, int stride, int side);

/// The middle frame of a video (see clipFrames()); a null image when it cannot be decoded.
QImage middleFrame(const QString& path, int side);

}  // namespace wb::ui
