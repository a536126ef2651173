#pragma once

// A picture of a learning-rate range test for the run folder and the command line: the loss
// against the rate on a log axis, with the suggestions marked. Drawn with OpenCV, no GUI.

#include <optional>
#include <string>

#include "engine/lr_finder.h"

namespace wb {

/// Writes a PNG of `result` (width x height pixels): raw loss thin, smoothed loss thick, one
/// vertical line per suggestion labelled with its value, and `picked` (a chosen rate) dashed.
/// The loss axis spans the lowest loss to the highest smoothed loss before the minimum, so the
/// blow-up at the end is clipped instead of flattening the dip. Throws std::runtime_error when
/// the file cannot be written.
void write_lr_plot_png(const LrFinderResult& result, const std::string& path,
                       std::optional<double> picked = std::nullopt, int width = 960,
                       int height = 600);

}  // namespace wb
