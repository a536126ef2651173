#include "engine/experiment.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <system_error>
#include <tuple>
#include <utility>

#include "engine/errors.h"
#include "engine/experiment_io.h"

namespace wb {

using namespace detail;

// ---------------------------------------------------------------------------------------------
// Text helpers

std::string detail::join(const std::vector<std::string>& words) {
    std::string text;
    for (const auto& w : words) {
        text += (text.empty() ? "" : ", ") + w;
    }
    return text;
}

namespace {

std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = above;
        }
    }
    return row[b.size()];
}

// The candidate a typo of `word` most likely meant, or "" when none is close.
std::string closest(const std::string& word, const std::vector<std::string>& candidates) {
    const std::size_t limit = std::clamp<std::size_t>(word.size() / 3, 1, 3);
    std::string best;
    std::size_t best_distance = limit + 1;
    for (const auto& c : candidates) {
        const std::size_t d = edit_distance(word, c);
        if (d < best_distance) {
            best = c;
            best_distance = d;
        }
    }
    return best;
}

}  // namespace

std::string detail::unknown_message(const std::string& what, const std::string& word,
                                    const std::vector<std::string>& allowed,
                                    const std::string& hint, const std::string& section) {
    std::string msg = "unknown " + what + " '" + word + "'";
    if (!section.empty()) {
        msg += " in '" + section + "'";
    }
    const std::string guess = closest(word, allowed);
    if (!hint.empty()) {
        msg += "; " + hint;
    } else if (!guess.empty()) {
        msg += "; did you mean '" + guess + "'?";
    }
    return msg + " (allowed: " + join(allowed) + ")";
}

namespace {

// ---------------------------------------------------------------------------------------------
// The keys of each section, for the hint "'lr' belongs in the 'optimizer' section". The parser
// itself accepts the keys of its field tables in read_experiment().

const std::vector<std::string> kTopKeys = {"name",           "data",
                                           "model",          "preprocessing",
                                           "optimizer",      "schedule",
                                           "epochs",         "batch_size",
                                           "seed",           "threads",
                                           "device",         "runs_dir",
                                           "lr_finder",      "grad_accumulation",
                                           "tensorboard",    "checkpoint",
                                           "early_stopping", "mixed_precision"};
const std::map<std::string, std::vector<std::string>> kSectionKeys = {
    {"data",
     {"root", "val_fraction", "test_fraction", "split_seed", "workers", "cache_mb", "disk_cache_mb",
      "cache_dir", "verify_decode"}},
    {"model", model_keys()},
    {"preprocessing",
     {"image_size", "resize", "random_crop", "crop_padding", "hflip", "channels", "normalize",
      "mean", "std", "clip_frames", "frame_stride", "clips_per_video", "clip_sampling"}},
    {"optimizer", {"type", "lr", "momentum", "nesterov", "weight_decay", "beta1", "beta2", "eps"}},
    {"schedule", schedule_keys()},
    {"lr_finder", lr_finder_keys()},
    {"tensorboard", tensorboard_keys()},
    {"checkpoint", checkpoint_keys()},
    {"early_stopping", early_stopping_keys()},
};

const std::vector<std::string> kOptimizers = {"sgd", "adam", "adamw"};
const std::vector<std::string> kNormalizations = {"none", "imagenet", "dataset"};
const std::vector<std::string> kClipSamplings = {"random", "uniform"};

// ---------------------------------------------------------------------------------------------
// Reading YAML nodes into typed fields, remembering where each value was.

struct Position {
    int line = 0;
    int column = 0;
};

Position position_of(const YAML::Mark& mark) {
    if (mark.is_null()) {
        return {};
    }
    return {mark.line + 1, mark.column + 1};
}

std::string kind_of(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Sequence:
            return "a list";
        case YAML::NodeType::Map:
            return "a mapping";
        case YAML::NodeType::Null:
            return "nothing";
        default:
            return node.Tag() == "!" ? "the quoted string \"" + node.Scalar() + "\""
                                     : "'" + node.Scalar() + "'";
    }
}

// A plain (unquoted) scalar: numbers and booleans must not be quoted.
bool is_plain_scalar(const YAML::Node& node) {
    return node.IsScalar() && node.Tag() != "!";
}

class Parser {
public:
    using Handler = std::function<void(const YAML::Node&)>;

    explicit Parser(std::string source) : source_(std::move(source)) {}

    [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
        const Position p = position_of(node.Mark());
        throw ConfigError(source_, p.line, p.column, message);
    }

    /// Reads the mapping `node` (a null node is an empty section): each key must be one of
    /// `handlers` and appear once.
    void read_map(const YAML::Node& node, const std::string& section,
                  const std::vector<std::pair<std::string, Handler>>& handlers) {
        if (node.IsNull()) {
            return;
        }
        if (!node.IsMap()) {
            fail(node, (section.empty() ? "the top level" : "'" + section + "'") +
                           " must be a mapping of key: value, got " + kind_of(node));
        }
        std::vector<std::string> allowed;
        for (const auto& h : handlers) {
            allowed.push_back(h.first);
        }
        std::set<std::string> seen;
        for (const auto& item : node) {
            const YAML::Node& key = item.first;
            if (!key.IsScalar()) {
                fail(key, "a key must be a plain name, got " + kind_of(key));
            }
            const std::string name = key.Scalar();
            const std::string path = section.empty() ? name : section + "." + name;
            auto handler = std::find_if(handlers.begin(), handlers.end(),
                                        [&](const auto& h) { return h.first == name; });
            if (handler == handlers.end()) {
                fail(key, unknown_key_message(section, name, allowed));
            }
            if (!seen.insert(name).second) {
                fail(key, "duplicate key '" + path + "'");
            }
            positions_[path] = position_of(item.second.Mark());
            handler->second(item.second);
        }
    }

    template <typename T>
    std::pair<std::string, Handler> field(const std::string& section, const std::string& key,
                                          T* out) {
        const std::string path = section.empty() ? key : section + "." + key;
        return {key, [this, path, out](const YAML::Node& value) { read(value, path, out); }};
    }

    void read(const YAML::Node& node, const std::string& path, std::string* out) const {
        if (node.IsNull()) {
            out->clear();
        } else if (node.IsScalar()) {
            *out = node.Scalar();
        } else {
            fail(node, "'" + path + "' expects text, got " + kind_of(node));
        }
    }

    void read(const YAML::Node& node, const std::string& path, bool* out) const {
        static const std::map<std::string, bool> words = {
            {"true", true},   {"True", true},   {"TRUE", true},   {"yes", true}, {"on", true},
            {"false", false}, {"False", false}, {"FALSE", false}, {"no", false}, {"off", false}};
        auto it = is_plain_scalar(node) ? words.find(node.Scalar()) : words.end();
        if (it == words.end()) {
            fail(node, "'" + path + "' expects true or false, got " + kind_of(node));
        }
        *out = it->second;
    }

    void read(const YAML::Node& node, const std::string& path, int* out) const {
        const long long value =
            integer(node, path, std::numeric_limits<int>::min(), std::numeric_limits<int>::max());
        *out = static_cast<int>(value);
    }

    void read(const YAML::Node& node, const std::string& path, std::uint64_t* out) const {
        std::uint64_t value = 0;
        if (!parse_number(node, &value)) {
            fail(node,
                 "'" + path + "' expects a non-negative integer below 2^64, got " + kind_of(node));
        }
        *out = value;
    }

    void read(const YAML::Node& node, const std::string& path, double* out) const {
        if (!parse_number(node, out) || !std::isfinite(*out)) {
            fail(node, "'" + path + "' expects a number, got " + kind_of(node));
        }
    }

    void read(const YAML::Node& node, const std::string& path, std::vector<float>* out) const {
        out->clear();
        if (node.IsNull()) {
            return;
        }
        if (!node.IsSequence()) {
            fail(node, "'" + path + "' expects a list of numbers such as [0.5, 0.5, 0.5], got " +
                           kind_of(node));
        }
        for (const auto& element : node) {
            float value = 0;
            if (!parse_number(element, &value) || !std::isfinite(value)) {
                fail(element, "'" + path + "' expects numbers, got " + kind_of(element));
            }
            out->push_back(value);
        }
    }

    void read(const YAML::Node& node, const std::string& path, std::vector<int>* out) const {
        out->clear();
        if (node.IsNull()) {
            return;
        }
        if (!node.IsSequence()) {
            fail(node, "'" + path + "' expects a list of integers such as [30, 60], got " +
                           kind_of(node));
        }
        for (const auto& element : node) {
            read(element, path, &out->emplace_back());
        }
    }

    const std::map<std::string, Position>& positions() const { return positions_; }
    const std::string& source() const { return source_; }

private:
    // Parses the whole of a plain scalar as a T; a leading '+' is allowed.
    template <typename T>
    static bool parse_number(const YAML::Node& node, T* out, std::errc* error = nullptr) {
        if (!is_plain_scalar(node)) {
            return false;
        }
        const std::string& text = node.Scalar();
        const char* begin = text.data();
        const char* end = begin + text.size();
        if (begin != end && *begin == '+') {
            ++begin;
        }
        auto result = std::from_chars(begin, end, *out);
        if (error) {
            *error = result.ec;
        }
        return begin != end && result.ec == std::errc() && result.ptr == end;
    }

    long long integer(const YAML::Node& node, const std::string& path, long long min,
                      long long max) const {
        long long value = 0;
        std::errc error{};
        const bool ok = parse_number(node, &value, &error);
        if (!ok && error != std::errc::result_out_of_range) {
            fail(node, "'" + path + "' expects an integer, got " + kind_of(node));
        }
        if (!ok || value < min || value > max) {
            fail(node, "'" + path + "' is out of range: " + node.Scalar());
        }
        return value;
    }

    static std::string unknown_key_message(const std::string& section, const std::string& name,
                                           const std::vector<std::string>& allowed) {
        // A key put in the wrong section: say where it belongs.
        std::string hint;
        for (const auto& [other, keys] : kSectionKeys) {
            if (other != section && std::find(keys.begin(), keys.end(), name) != keys.end()) {
                hint = "it belongs in the '" + other + "' section";
            }
        }
        if (!section.empty() &&
            std::find(kTopKeys.begin(), kTopKeys.end(), name) != kTopKeys.end()) {
            hint = "it belongs at the top level";
        }
        return unknown_message("key", name, allowed, hint, section);
    }

    std::string source_;
    std::map<std::string, Position> positions_;
};

Experiment read_experiment(Parser& p, const YAML::Node& root) {
    Experiment e;
    DataConfig& d = e.data;
    Preprocessing& pre = e.preprocessing;
    OptimizerConfig& o = e.optimizer;
    ScheduleConfig& sc = e.schedule;
    LrFinderConfig& lf = e.lr_finder;
    TensorBoardConfig& tb = e.tensorboard;
    CheckpointConfig& ck = e.checkpoint;
    EarlyStoppingConfig& es = e.early_stopping;
    auto section = [&p](const std::string& name, std::function<void(const YAML::Node&)> read) {
        return std::pair<std::string, Parser::Handler>(name, std::move(read));
    };
    p.read_map(
        root, "",
        {p.field("", "name", &e.name),
         section("data",
                 [&](const YAML::Node& n) {
                     p.read_map(n, "data",
                                {p.field("data", "root", &d.root),
                                 p.field("data", "val_fraction", &d.val_fraction),
                                 p.field("data", "test_fraction", &d.test_fraction),
                                 p.field("data", "split_seed", &d.split_seed),
                                 p.field("data", "workers", &d.workers),
                                 p.field("data", "cache_mb", &d.cache_mb),
                                 p.field("data", "disk_cache_mb", &d.disk_cache_mb),
                                 p.field("data", "cache_dir", &d.cache_dir),
                                 p.field("data", "verify_decode", &d.verify_decode)});
                 }),
         section("model",
                 [&](const YAML::Node& n) {
                     const std::string s = "model";
                     ModelConfig& m = e.model;
                     p.read_map(
                         n, s,
                         {p.field(s, "arch", &m.arch), p.field(s, "weights", &m.weights),
                          p.field(s, "finetune", &m.finetune), p.field(s, "stages", &m.stages),
                          p.field(s, "backbone_lr_factor", &m.backbone_lr_factor),
                          p.field(s, "unfreeze_epoch", &m.unfreeze_epoch),
                          p.field(s, "width", &m.width)});
                 }),
         section("preprocessing",
                 [&](const YAML::Node& n) {
                     const std::string s = "preprocessing";
                     p.read_map(
                         n, s,
                         {p.field(s, "image_size", &pre.image_size),
                          p.field(s, "resize", &pre.resize),
                          p.field(s, "random_crop", &pre.random_crop),
                          p.field(s, "crop_padding", &pre.crop_padding),
                          p.field(s, "hflip", &pre.hflip), p.field(s, "channels", &pre.channels),
                          p.field(s, "normalize", &pre.normalize), p.field(s, "mean", &pre.mean),
                          p.field(s, "std", &pre.std), p.field(s, "clip_frames", &pre.clip_frames),
                          p.field(s, "frame_stride", &pre.frame_stride),
                          p.field(s, "clips_per_video", &pre.clips_per_video),
                          p.field(s, "clip_sampling", &pre.clip_sampling)});
                 }),
         section("optimizer",
                 [&](const YAML::Node& n) {
                     const std::string s = "optimizer";
                     p.read_map(
                         n, s,
                         {p.field(s, "type", &o.type), p.field(s, "lr", &o.lr),
                          p.field(s, "momentum", &o.momentum), p.field(s, "nesterov", &o.nesterov),
                          p.field(s, "weight_decay", &o.weight_decay),
                          p.field(s, "beta1", &o.beta1), p.field(s, "beta2", &o.beta2),
                          p.field(s, "eps", &o.eps)});
                 }),
         section(
             "schedule",
             [&](const YAML::Node& n) {
                 const std::string s = "schedule";
                 p.read_map(
                     n, s,
                     {p.field(s, "policy", &sc.policy), p.field(s, "step_epochs", &sc.step_epochs),
                      p.field(s, "gamma", &sc.gamma), p.field(s, "milestones", &sc.milestones),
                      p.field(s, "eta_min", &sc.eta_min), p.field(s, "pct_start", &sc.pct_start),
                      p.field(s, "div_factor", &sc.div_factor),
                      p.field(s, "final_div_factor", &sc.final_div_factor),
                      p.field(s, "three_phase", &sc.three_phase), p.field(s, "anneal", &sc.anneal),
                      p.field(s, "cycle_momentum", &sc.cycle_momentum),
                      p.field(s, "base_momentum", &sc.base_momentum),
                      p.field(s, "max_momentum", &sc.max_momentum),
                      p.field(s, "warmup_steps", &sc.warmup_steps),
                      p.field(s, "warmup_start_factor", &sc.warmup_start_factor)});
             }),
         section("lr_finder",
                 [&](const YAML::Node& n) {
                     const std::string s = "lr_finder";
                     p.read_map(
                         n, s,
                         {p.field(s, "start_lr", &lf.start_lr), p.field(s, "end_lr", &lf.end_lr),
                          p.field(s, "num_iter", &lf.num_iter), p.field(s, "mode", &lf.mode),
                          p.field(s, "smooth_beta", &lf.smooth_beta),
                          p.field(s, "diverge_threshold", &lf.diverge_threshold),
                          p.field(s, "loss", &lf.loss),
                          p.field(s, "val_batches", &lf.val_batches)});
                 }),
         section("tensorboard",
                 [&](const YAML::Node& n) {
                     const std::string s = "tensorboard";
                     p.read_map(
                         n, s,
                         {p.field(s, "enabled", &tb.enabled), p.field(s, "log_dir", &tb.log_dir),
                          p.field(s, "histograms", &tb.histograms),
                          p.field(s, "images", &tb.images), p.field(s, "pr_curves", &tb.pr_curves),
                          p.field(s, "embeddings", &tb.embeddings),
                          p.field(s, "embedding_images", &tb.embedding_images),
                          p.field(s, "text", &tb.text), p.field(s, "hparams", &tb.hparams)});
                 }),
         section("checkpoint",
                 [&](const YAML::Node& n) {
                     const std::string s = "checkpoint";
                     p.read_map(n, s,
                                {p.field(s, "every_steps", &ck.every_steps),
                                 p.field(s, "every_minutes", &ck.every_minutes)});
                 }),
         section("early_stopping",
                 [&](const YAML::Node& n) {
                     const std::string s = "early_stopping";
                     p.read_map(
                         n, s,
                         {p.field(s, "enabled", &es.enabled), p.field(s, "metric", &es.metric),
                          p.field(s, "patience", &es.patience),
                          p.field(s, "min_delta", &es.min_delta)});
                 }),
         p.field("", "mixed_precision", &e.mixed_precision), p.field("", "epochs", &e.epochs),
         p.field("", "batch_size", &e.batch_size),
         p.field("", "grad_accumulation", &e.grad_accumulation), p.field("", "seed", &e.seed),
         p.field("", "threads", &e.threads), p.field("", "device", &e.device),
         p.field("", "runs_dir", &e.runs_dir)});
    return e;
}

// With pretrained weights, the preprocessing keys the file leaves out take the weights' values
// (pretrained_preprocessing()): the size as a pair (image_size, resize), the normalization as
// a triple (normalize, mean, std), and channels alone.
void apply_pretrained_defaults(Experiment* e, const std::map<std::string, Position>& given) {
    if (e->model.weights.empty()) {
        return;
    }
    const auto has = [&given](const char* key) {
        return given.count(std::string("preprocessing.") + key) > 0;
    };
    const Preprocessing pre = pretrained_preprocessing(e->model.weights, e->preprocessing);
    Preprocessing& p = e->preprocessing;
    if (!has("image_size") && !has("resize")) {
        p.image_size = pre.image_size;
        p.resize = pre.resize;
    }
    if (!has("channels")) {
        p.channels = pre.channels;
    }
    if (!has("normalize") && !has("mean") && !has("std")) {
        p.normalize = pre.normalize;
        p.mean = pre.mean;
        p.std = pre.std;
    }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Validation. `fail(paths, message)` throws at the first of `paths` that has a position.

void detail::check_one_of(const Fail& fail, const std::string& path, const std::string& value,
                          const std::vector<std::string>& allowed, const std::string& what) {
    if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
        fail({path}, path + ": " + unknown_message(what, value, allowed));
    }
}

void detail::check_range(const Fail& fail, const std::string& path, double value, double min,
                         double max, bool min_open, bool max_open) {
    const bool ok = std::isfinite(value) && (min_open ? value > min : value >= min) &&
                    (max_open ? value < max : value <= max);
    if (ok) {
        return;
    }
    std::string bounds;
    if (std::isinf(max)) {
        bounds = min_open ? (min == 0 ? "positive" : "above " + number_text(min))
                          : (min == 0 ? "non-negative" : "at least " + number_text(min));
    } else {
        bounds = std::string("in ") + (min_open ? "(" : "[") + number_text(min) + ", " +
                 number_text(max) + (max_open ? ")" : "]");
    }
    fail({path}, path + " must be " + bounds + ", got " + number_text(value));
}

void detail::check_at_least(const Fail& fail, const std::string& path, long long value,
                            long long min) {
    if (value < min) {
        fail({path},
             path + " must be at least " + std::to_string(min) + ", got " + std::to_string(value));
    }
}

namespace {

bool is_device(const std::string& device) {
    if (device == "auto" || device == "cpu" || device == "cuda") {
        return true;
    }
    const std::string prefix = "cuda:";
    return device.size() > prefix.size() && device.compare(0, prefix.size(), prefix) == 0 &&
           std::all_of(device.begin() + prefix.size(), device.end(),
                       [](char c) { return c >= '0' && c <= '9'; });
}

void check_data(const DataConfig& d, const Fail& fail) {
    check_range(fail, "data.val_fraction", d.val_fraction, 0, 1, false, true);
    check_range(fail, "data.test_fraction", d.test_fraction, 0, 1, false, true);
    if (d.val_fraction + d.test_fraction >= 1) {
        fail({"data.test_fraction", "data.val_fraction"},
             "data.val_fraction + data.test_fraction must be below 1 to leave training images, "
             "got " +
                 number_text(d.val_fraction) + " + " + number_text(d.test_fraction));
    }
    check_at_least(fail, "data.workers", d.workers, 0);
    check_at_least(fail, "data.cache_mb", d.cache_mb, 0);
    check_at_least(fail, "data.disk_cache_mb", d.disk_cache_mb, 0);
}

void check_clips(const Experiment& e, const Fail& fail) {
    const Preprocessing& p = e.preprocessing;
    check_at_least(fail, "preprocessing.clip_frames", p.clip_frames, 0);
    check_at_least(fail, "preprocessing.frame_stride", p.frame_stride, 1);
    check_at_least(fail, "preprocessing.clips_per_video", p.clips_per_video, 1);
    check_one_of(fail, "preprocessing.clip_sampling", p.clip_sampling, kClipSamplings,
                 "clip sampling");
    check_range(fail, "model.width", e.model.width, 0, 64, true, false);
    const bool video_model = e.model.arch == "c3d_bn";
    if (video_model && !p.is_video()) {
        fail({"preprocessing.clip_frames", "model.arch"},
             "model.arch: c3d_bn classifies video clips; set preprocessing.clip_frames (16 in the "
             "paper) for a folder of videos");
    }
    if (!video_model && p.is_video()) {
        fail({"model.arch", "preprocessing.clip_frames"},
             "model.arch: " + e.model.arch +
                 " classifies images, not clips; use c3d_bn for videos or set "
                 "preprocessing.clip_frames to 0");
    }
}

void check_preprocessing(const Preprocessing& p, const Fail& fail) {
    check_at_least(fail, "preprocessing.image_size", p.image_size, 1);
    check_at_least(fail, "preprocessing.resize", p.resize, 0);
    if (p.resize > 0 && p.resize < p.image_size) {
        fail({"preprocessing.resize", "preprocessing.image_size"},
             "preprocessing.resize (" + std::to_string(p.resize) +
                 ") must be 0 or at least preprocessing.image_size (" +
                 std::to_string(p.image_size) + ")");
    }
    check_at_least(fail, "preprocessing.crop_padding", p.crop_padding, 0);
    if (p.channels != 1 && p.channels != 3) {
        fail({"preprocessing.channels"},
             "preprocessing.channels must be 1 or 3, got " + std::to_string(p.channels));
    }
    check_one_of(fail, "preprocessing.normalize", p.normalize, kNormalizations, "normalization");
    for (const auto* name : {"mean", "std"}) {
        const auto& values = std::string(name) == "mean" ? p.mean : p.std;
        const std::string path = std::string("preprocessing.") + name;
        if (!values.empty() && values.size() != static_cast<std::size_t>(p.channels)) {
            fail({path}, path + " needs one value per channel (" + std::to_string(p.channels) +
                             "), got " + std::to_string(values.size()));
        }
    }
    if (p.mean.empty() != p.std.empty()) {
        fail({p.mean.empty() ? "preprocessing.std" : "preprocessing.mean"},
             "preprocessing.mean and preprocessing.std must be given together");
    }
    for (float s : p.std) {
        if (!(s > 0)) {
            fail({"preprocessing.std"},
                 "preprocessing.std values must be positive, got " + number_text(s));
        }
    }
}

void check_optimizer(const OptimizerConfig& o, const Fail& fail) {
    const double inf = std::numeric_limits<double>::infinity();
    check_one_of(fail, "optimizer.type", o.type, kOptimizers, "optimizer");
    check_range(fail, "optimizer.lr", o.lr, 0, inf, true, true);
    check_range(fail, "optimizer.momentum", o.momentum, 0, 1, false, true);
    if (o.nesterov && o.momentum == 0) {
        fail({"optimizer.nesterov", "optimizer.momentum"},
             "optimizer.nesterov needs optimizer.momentum above 0");
    }
    check_range(fail, "optimizer.weight_decay", o.weight_decay, 0, inf, false, true);
    check_range(fail, "optimizer.beta1", o.beta1, 0, 1, false, true);
    check_range(fail, "optimizer.beta2", o.beta2, 0, 1, false, true);
    check_range(fail, "optimizer.eps", o.eps, 0, inf, true, true);
}

void check_experiment(const Experiment& e, const Fail& fail) {
    if (e.name.empty()) {
        fail({"name"}, "name must not be empty");
    }
    check_data(e.data, fail);
    check_model(e, fail);
    check_preprocessing(e.preprocessing, fail);
    check_clips(e, fail);
    check_optimizer(e.optimizer, fail);
    check_schedule(e, fail);
    check_at_least(fail, "epochs", e.epochs, 1);
    // Every model has batch norm, which cannot train on a batch of one image.
    check_at_least(fail, "batch_size", e.batch_size, 2);
    check_at_least(fail, "grad_accumulation", e.grad_accumulation, 1);
    check_lr_finder(e.lr_finder, fail);
    check_tensorboard(e.tensorboard, fail);
    const int min_size = min_image_size(e.model.arch);
    if (e.preprocessing.image_size < min_size) {
        fail({"preprocessing.image_size"}, "preprocessing.image_size: " + e.model.arch +
                                               " needs images of at least " +
                                               std::to_string(min_size) + " pixels, got " +
                                               std::to_string(e.preprocessing.image_size));
    }
    check_at_least(fail, "threads", e.threads, 0);
    if (!is_device(e.device)) {
        fail({"device"}, "device must be auto, cpu, cuda or cuda:N, got '" + e.device + "'");
    }
    if (e.mixed_precision && e.device == "cpu") {
        fail({"mixed_precision", "device"},
             "mixed_precision needs a CUDA device (device: auto, cuda or cuda:N), not cpu");
    }
    check_run_control(e, fail);
    if (e.runs_dir.empty()) {
        fail({"runs_dir"}, "runs_dir must not be empty");
    }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Writing

std::string detail::yaml_string(const std::string& text) {
    static const std::set<std::string> reserved = {
        "null",  "Null", "NULL", "~",   "true", "True", "TRUE", "false", "False",
        "FALSE", "yes",  "Yes",  "YES", "no",   "No",   "NO",   "on",    "On",
        "ON",    "off",  "Off",  "OFF", "y",    "n",    "Y",    "N"};
    const bool plain = !text.empty() && !reserved.count(text) &&
                       ((text[0] >= 'A' && text[0] <= 'Z') || (text[0] >= 'a' && text[0] <= 'z') ||
                        text[0] == '_' || text[0] == '/') &&
                       std::all_of(text.begin(), text.end(), [](char c) {
                           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                  (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
                                  c == '/';
                       });
    if (plain) {
        return text;
    }
    std::string quoted = "\"";
    for (unsigned char c : text) {
        if (c == '"' || c == '\\') {
            quoted += '\\';
            quoted += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
            char escape[8];
            std::snprintf(escape, sizeof escape, "\\x%02X", c);
            quoted += escape;
        } else {
            quoted += static_cast<char>(c);
        }
    }
    return quoted + "\"";
}

std::string detail::yaml_list(const std::vector<float>& values) {
    std::string text = "[";
    for (std::size_t i = 0; i < values.size(); ++i) {
        text += (i ? ", " : "") + number_text(values[i]);
    }
    return text + "]";
}

std::string detail::yaml_list(const std::vector<int>& values) {
    std::string text = "[";
    for (std::size_t i = 0; i < values.size(); ++i) {
        text += (i ? ", " : "") + std::to_string(values[i]);
    }
    return text + "]";
}

std::string detail::yaml_bool(bool value) {
    return value ? "true" : "false";
}

// -------------------------------------------------------------------------------------------------

bool Experiment::operator==(const Experiment& other) const {
    const auto tie_data = [](const DataConfig& d) {
        return std::tie(d.root, d.val_fraction, d.test_fraction, d.split_seed, d.workers,
                        d.cache_mb, d.disk_cache_mb, d.cache_dir, d.verify_decode);
    };
    const auto tie_model = [](const ModelConfig& m) {
        return std::tie(m.arch, m.weights, m.finetune, m.stages, m.backbone_lr_factor,
                        m.unfreeze_epoch, m.width);
    };
    const auto tie_pre = [](const Preprocessing& p) {
        return std::tie(p.image_size, p.resize, p.random_crop, p.crop_padding, p.hflip, p.channels,
                        p.normalize, p.mean, p.std, p.clip_frames, p.frame_stride,
                        p.clips_per_video, p.clip_sampling);
    };
    const auto tie_opt = [](const OptimizerConfig& o) {
        return std::tie(o.type, o.lr, o.momentum, o.nesterov, o.weight_decay, o.beta1, o.beta2,
                        o.eps);
    };
    const auto tie_schedule = [](const ScheduleConfig& s) {
        return std::tie(s.policy, s.step_epochs, s.gamma, s.milestones, s.eta_min, s.pct_start,
                        s.div_factor, s.final_div_factor, s.three_phase, s.anneal, s.cycle_momentum,
                        s.base_momentum, s.max_momentum, s.warmup_steps, s.warmup_start_factor);
    };
    const auto tie_lr_finder = [](const LrFinderConfig& f) {
        return std::tie(f.start_lr, f.end_lr, f.num_iter, f.mode, f.smooth_beta,
                        f.diverge_threshold, f.loss, f.val_batches);
    };
    const auto tie_tb = [](const TensorBoardConfig& t) {
        return std::tie(t.enabled, t.log_dir, t.histograms, t.images, t.pr_curves, t.embeddings,
                        t.embedding_images, t.text, t.hparams);
    };
    return name == other.name && tie_tb(tensorboard) == tie_tb(other.tensorboard) &&
           tie_data(data) == tie_data(other.data) && tie_model(model) == tie_model(other.model) &&
           tie_pre(preprocessing) == tie_pre(other.preprocessing) &&
           tie_opt(optimizer) == tie_opt(other.optimizer) &&
           tie_schedule(schedule) == tie_schedule(other.schedule) && epochs == other.epochs &&
           tie_lr_finder(lr_finder) == tie_lr_finder(other.lr_finder) &&
           batch_size == other.batch_size && grad_accumulation == other.grad_accumulation &&
           seed == other.seed && threads == other.threads && device == other.device &&
           mixed_precision == other.mixed_precision &&
           checkpoint.every_steps == other.checkpoint.every_steps &&
           checkpoint.every_minutes == other.checkpoint.every_minutes &&
           early_stopping.enabled == other.early_stopping.enabled &&
           early_stopping.metric == other.early_stopping.metric &&
           early_stopping.patience == other.early_stopping.patience &&
           early_stopping.min_delta == other.early_stopping.min_delta && runs_dir == other.runs_dir;
}

const std::vector<std::string>& available_models() {
    static const std::vector<std::string> models = {
        "small_cnn", "resnet18", "resnet34", "resnet50", "vgg16_bn", "c3d_bn", "torchscript"};
    return models;
}

int min_image_size(const std::string& arch) {
    // Five halvings leave VGG's features 1 pixel wide at 32; the small CNN pools twice.
    static const std::map<std::string, int> sizes = {{"small_cnn", 4}, {"resnet18", 8},
                                                     {"resnet34", 8},  {"resnet50", 8},
                                                     {"vgg16_bn", 32}, {"c3d_bn", 8}};
    auto it = sizes.find(arch);
    return it == sizes.end() ? 1 : it->second;
}

Experiment parse_experiment(const std::string& yaml_text, const std::string& source_name) {
    YAML::Node root;
    try {
        root = YAML::Load(yaml_text);
    } catch (const YAML::Exception& error) {
        const Position p = position_of(error.mark);
        throw ConfigError(source_name, p.line, p.column, "YAML syntax error: " + error.msg);
    }
    Parser parser(source_name);
    if (!root.IsNull() && !root.IsMap()) {
        parser.fail(root, "expected a mapping of settings (key: value) at the top level, got " +
                              kind_of(root));
    }
    Experiment experiment = read_experiment(parser, root);
    apply_pretrained_defaults(&experiment, parser.positions());
    check_experiment(experiment,
                     [&parser](const std::vector<std::string>& paths, const std::string& message) {
                         Position where;
                         for (const auto& path : paths) {
                             auto it = parser.positions().find(path);
                             if (it != parser.positions().end()) {
                                 where = it->second;
                                 break;
                             }
                         }
                         throw ConfigError(parser.source(), where.line, where.column, message);
                     });
    return experiment;
}

Experiment load_experiment(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        throw ConfigError(path, 0, 0, "cannot open the experiment file");
    }
    std::ostringstream text;
    text << file.rdbuf();
    if (file.bad()) {
        throw ConfigError(path, 0, 0, "cannot read the experiment file");
    }
    return parse_experiment(text.str(), path);
}

std::string to_yaml(const Experiment& e) {
    Writer w;
    w.comment("Workbench experiment. Every key is optional: a missing key takes its default.");
    w.comment("The same file given back to the workbench reproduces the run.");
    w.key("name", yaml_string(e.name));
    w.key("epochs", std::to_string(e.epochs));
    w.key("batch_size", std::to_string(e.batch_size));
    w.key("grad_accumulation", std::to_string(e.grad_accumulation), 0,
          "batches summed into one optimizer step");
    w.key("seed", std::to_string(e.seed));
    w.key("threads", std::to_string(e.threads), 0, "intra-op threads; 0: one per core");
    w.key("device", yaml_string(e.device), 0, "auto, cpu, cuda or cuda:N");
    w.key("mixed_precision", yaml_bool(e.mixed_precision), 0, "CUDA only: float16 autocast");
    w.key("runs_dir", yaml_string(e.runs_dir), 0, "receives one folder per run");

    const DataConfig& d = e.data;
    w.section("data");
    w.key("root", yaml_string(d.root), 2, "empty: the bundled demo dataset");
    w.key("val_fraction", number_text(d.val_fraction), 2, "used when there are no phase folders");
    w.key("test_fraction", number_text(d.test_fraction), 2);
    w.key("split_seed", std::to_string(d.split_seed), 2);
    w.key("workers", std::to_string(d.workers), 2, "background decoding threads");
    w.key("cache_mb", std::to_string(d.cache_mb), 2, "MiB of decoded images kept in memory");
    w.key("disk_cache_mb", std::to_string(d.disk_cache_mb), 2,
          "videos: MiB of decoded clips on disk");
    w.key("cache_dir", yaml_string(d.cache_dir), 2, "videos: disk cache parent; empty: temp");
    w.key("verify_decode", yaml_bool(d.verify_decode), 2);

    write_model(w, e.model);

    const Preprocessing& p = e.preprocessing;
    w.section("preprocessing");
    w.key("image_size", std::to_string(p.image_size), 2, "pixels, square");
    w.key("resize", std::to_string(p.resize), 2, "short side before cropping; 0: image_size");
    w.key("random_crop", yaml_bool(p.random_crop), 2, "training only");
    w.key("crop_padding", std::to_string(p.crop_padding), 2, "pixels, reflect");
    w.key("hflip", yaml_bool(p.hflip), 2, "training only");
    w.key("channels", std::to_string(p.channels), 2, "1 or 3");
    w.key("normalize", yaml_string(p.normalize), 2, join(kNormalizations));
    w.key("mean", yaml_list(p.mean), 2, "per channel, pixels in [0, 1]");
    w.key("std", yaml_list(p.std), 2);
    w.key("clip_frames", std::to_string(p.clip_frames), 2, "videos: frames per clip; 0: images");
    w.key("frame_stride", std::to_string(p.frame_stride), 2, "videos: frames between two");
    w.key("clips_per_video", std::to_string(p.clips_per_video), 2, "videos");
    w.key("clip_sampling", yaml_string(p.clip_sampling), 2,
          "videos, training: " + join(kClipSamplings));

    const OptimizerConfig& o = e.optimizer;
    w.section("optimizer");
    w.key("type", yaml_string(o.type), 2, join(kOptimizers));
    w.key("lr", number_text(o.lr), 2);
    w.key("momentum", number_text(o.momentum), 2, "sgd");
    w.key("nesterov", yaml_bool(o.nesterov), 2, "sgd");
    w.key("weight_decay", number_text(o.weight_decay), 2);
    w.key("beta1", number_text(o.beta1), 2, "adam, adamw");
    w.key("beta2", number_text(o.beta2), 2, "adam, adamw");
    w.key("eps", number_text(o.eps), 2, "adam, adamw");

    write_schedule(w, e.schedule);
    write_lr_finder(w, e.lr_finder);
    write_tensorboard(w, e.tensorboard);
    write_run_control(w, e);
    return w.text();
}

void save_experiment(const Experiment& experiment, const std::string& path) {
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    if (!file) {
        throw ConfigError(path, 0, 0, "cannot write the experiment file");
    }
    file << to_yaml(experiment);
    file.close();
    if (!file) {
        throw ConfigError(path, 0, 0, "cannot write the experiment file");
    }
}

void validate(const Experiment& experiment) {
    check_experiment(experiment, [](const std::vector<std::string>&, const std::string& msg) {
        throw ConfigError("", 0, 0, msg);
    });
}

}  // namespace wb
