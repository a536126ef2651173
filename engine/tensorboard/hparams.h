#pragma once

// The data of TensorBoard's hparams dashboard.
//
// A *session* is one training run; its hyperparameters go in a session start info and its
// outcome in a session end info, both written to the run that owns the session. The
// dashboard's metrics are the scalars of that run and of the runs below it: a scalar with tag
// `loss` in run `<session>/val` is the metric (group "val", tag "loss"). For a trainer that
// writes `<logdir>/train` and `<logdir>/val`, write the session infos with a third writer on
// `<logdir>` itself.
//
// The experiment summary is optional, and best left out. When no run has one, the plugin
// builds the experiment from every session start info it finds (the union of all
// hyperparameters, each typed from its values) and from every scalar under a session, so a
// run that adds a hyperparameter later still shows it and older runs show it as missing.
// When any run has one, the plugin takes the first it finds and shows only the
// hyperparameters and metrics listed there. Write one only when you know the full set.
// Limitation: with `tensorboard --logdir <logdir>` pointed at a single run, that run is ".",
// and the plugin finds no metrics under it; point --logdir at the folder of runs instead.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace wb::tb {

/// A hyperparameter value: a number, a string or a boolean (what google.protobuf.Value and the
/// hparams plugin support). Integers are stored as doubles.
class HParamValue {
public:
    enum class Kind { Number, String, Bool };

    HParamValue(double value) : kind_(Kind::Number), number_(value) {}
    HParamValue(bool value) : kind_(Kind::Bool), bool_(value) {}
    HParamValue(std::string value) : kind_(Kind::String), string_(std::move(value)) {}
    HParamValue(const char* value) : HParamValue(std::string(value)) {}
    template <typename T,
              std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
    HParamValue(T value) : HParamValue(static_cast<double>(value)) {}

    Kind kind() const { return kind_; }
    double number() const { return number_; }
    bool boolean() const { return bool_; }
    const std::string& string() const { return string_; }

private:
    Kind kind_;
    double number_ = 0;
    bool bool_ = false;
    std::string string_;
};

/// Hyperparameter name -> value.
using HParams = std::map<std::string, HParamValue>;

/// How a session ended, as the hparams plugin shows it.
enum class SessionStatus { Unknown = 0, Success = 1, Failure = 2, Running = 3 };

/// The dataset a metric is computed on.
enum class DatasetType { Unknown = 0, Training = 1, Validation = 2 };

/// One column of the experiment summary.
struct HParamInfo {
    std::string name;
    HParamValue::Kind type = HParamValue::Kind::Number;
    std::string display_name;
    std::string description;
    /// The values the UI offers as filters; empty for any value of the type.
    std::vector<HParamValue> domain_discrete;
    /// [min, max] for a number; ignored when domain_discrete is set.
    std::optional<std::pair<double, double>> domain_interval;
};

/// One metric of the experiment summary: the scalar `tag` in run `<session>/<group>`
/// (group "" for the session's own run).
struct MetricInfo {
    std::string tag;
    std::string group;
    std::string display_name;
    std::string description;
    DatasetType dataset_type = DatasetType::Unknown;
};

/// The experiment summary (see the note at the top of this file before writing one).
struct HParamsExperiment {
    std::string name;
    std::string description;
    std::string user;
    double time_created_secs = 0;  ///< 0: now
    std::vector<HParamInfo> hparams;
    std::vector<MetricInfo> metrics;
};

/// Optional fields of a session start info.
struct SessionStartOptions {
    std::string model_uri;  ///< where checkpoints go, shown as given
    std::string monitor_url;
    std::string group_name;      ///< sessions of one group are repeats with the same values
    double start_time_secs = 0;  ///< 0: now
};

/// The tags the hparams plugin reads, with plugin_name "hparams".
inline constexpr const char* kHParamsExperimentTag = "_hparams_/experiment";
inline constexpr const char* kHParamsSessionStartTag = "_hparams_/session_start_info";
inline constexpr const char* kHParamsSessionEndTag = "_hparams_/session_end_info";

}  // namespace wb::tb
