#pragma once

#include <string>
#include <vector>

#include "engine/tensorboard/image.h"

namespace wb::tb {

/// An animated GIF (giflib) of `frames`, shown `frame_delay_ms` apart and looping forever.
/// Frames must share one size; gray frames keep their exact levels, colour frames their exact
/// colours when all frames together use at most 256, otherwise each frame gets its own
/// 256-colour palette (giflib's median cut). Alpha is dropped: GIF has no partial
/// transparency. GIF stores delays in hundredths of a second, so the delay is rounded to 10 ms.
/// Throws std::invalid_argument for no frames, frames of different sizes or a bad image, and
/// std::runtime_error when giflib fails.
std::string encode_gif(const std::vector<Image>& frames, int frame_delay_ms = 100);

}  // namespace wb::tb
