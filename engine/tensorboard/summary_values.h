#pragma once

// Internal: the Summary.Value protos of each kind of summary, with the plugin metadata
// TensorBoard's plugins look for. Not part of the public API (it exposes generated types).

#include <string>
#include <string_view>

#include "engine/tensorboard/histogram.h"
#include "engine/tensorboard/hparams.h"
#include "engine/tensorboard/pr_curve.h"
#include "tbproto/summary.pb.h"

namespace wb::tb::detail {

/// Protobuf refuses strings that are not UTF-8 on the reading side.
bool is_utf8(std::string_view text);
/// Throws std::invalid_argument for an empty tag or one that is not UTF-8.
void check_tag(const std::string& tag);

proto::Summary::Value scalar_value(const std::string& tag, float value);
proto::Summary::Value histogram_value(const std::string& tag, const Histogram& histogram);
/// `colorspace` 1 gray, 3 RGB, 4 RGBA; `encoded` PNG or GIF bytes.
proto::Summary::Value image_value(const std::string& tag, int height, int width, int colorspace,
                                  std::string encoded);
proto::Summary::Value text_value(const std::string& tag, const std::string& text);
proto::Summary::Value pr_curve_value(const std::string& tag, const PrCurve& curve);

/// The hparams plugin's three summaries; `now` fills times left at 0.
proto::Summary::Value hparams_experiment_value(const HParamsExperiment& experiment, double now);
proto::Summary::Value hparams_session_start_value(const HParams& hparams,
                                                  const SessionStartOptions& options, double now);
proto::Summary::Value hparams_session_end_value(SessionStatus status, double now);

}  // namespace wb::tb::detail
