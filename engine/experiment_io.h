#pragma once

// Helpers shared by the experiment file's reader, writer and checks (experiment.cpp and
// experiment_*.cpp). Internal to wb_config: nothing outside the engine includes it.

#include <charconv>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "engine/experiment.h"

namespace wb::detail {

/// Shortest text that reads back to exactly `value`, in fixed notation unless scientific is
/// much shorter: 0.1 -> "0.1", 3e-4 -> "0.0003", 1e-8 -> "1e-08".
template <typename T>
std::string number_text(T value) {
    char shortest[64];
    char fixed[512];
    const auto s = std::to_chars(shortest, shortest + sizeof shortest, value);
    const auto f = std::to_chars(fixed, fixed + sizeof fixed, value, std::chars_format::fixed);
    if (f.ec == std::errc() && f.ptr - fixed <= s.ptr - shortest + 2) {
        return std::string(fixed, f.ptr);
    }
    return std::string(shortest, s.ptr);
}

/// "a, b, c".
std::string join(const std::vector<std::string>& words);

/// "unknown X 'word' in 'section'; did you mean 'y'? (allowed: a, b)". A `hint` replaces the
/// guess.
std::string unknown_message(const std::string& what, const std::string& word,
                            const std::vector<std::string>& allowed, const std::string& hint = "",
                            const std::string& section = "");

/// Refuses a value: throws at the first of `paths` ("schedule.gamma") that has a position in
/// the file, or without a position.
using Fail = std::function<void(const std::vector<std::string>& paths, const std::string& msg)>;

void check_one_of(const Fail& fail, const std::string& path, const std::string& value,
                  const std::vector<std::string>& allowed, const std::string& what);
/// `value` within [min, max], each bound open or closed; max may be infinity.
void check_range(const Fail& fail, const std::string& path, double value, double min, double max,
                 bool min_open, bool max_open);
void check_at_least(const Fail& fail, const std::string& path, long long value, long long min);

/// Text as a YAML scalar: plain when it cannot be misread, double-quoted otherwise.
std::string yaml_string(const std::string& text);
std::string yaml_bool(bool value);
/// "[1, 2, 3]".
std::string yaml_list(const std::vector<int>& values);
std::string yaml_list(const std::vector<float>& values);

/// Writes the experiment file, key by key, with a trailing comment where it helps.
class Writer {
public:
    void comment(const std::string& text) { out_ << "# " << text << "\n"; }
    void section(const std::string& name) { out_ << "\n" << name << ":\n"; }
    void key(const std::string& name, const std::string& value, int indent = 0,
             const std::string& note = "") {
        out_ << std::string(indent, ' ') << name << ": " << value;
        if (!note.empty()) {
            out_ << "  # " << note;
        }
        out_ << "\n";
    }
    std::string text() const { return out_.str(); }

private:
    std::ostringstream out_;
};

/// The keys of the 'schedule' section, in the order they are written.
const std::vector<std::string>& schedule_keys();
/// The allowed values of schedule.policy.
const std::vector<std::string>& schedule_policies();
/// The checks of the 'schedule' section that need only the file.
void check_schedule(const Experiment& experiment, const Fail& fail);
/// Writes the 'schedule' section.
void write_schedule(Writer& writer, const ScheduleConfig& schedule);

/// The keys of the 'lr_finder' section, in the order they are written.
const std::vector<std::string>& lr_finder_keys();
void check_lr_finder(const LrFinderConfig& config, const Fail& fail);
void write_lr_finder(Writer& writer, const LrFinderConfig& config);

/// The keys of the 'model' section, in the order they are written.
const std::vector<std::string>& model_keys();
/// The allowed values of model.finetune.
const std::vector<std::string>& finetune_modes();
void check_model(const Experiment& experiment, const Fail& fail);
void write_model(Writer& writer, const ModelConfig& model);

/// The keys of the 'tensorboard' section, in the order they are written.
const std::vector<std::string>& tensorboard_keys();
void check_tensorboard(const TensorBoardConfig& config, const Fail& fail);
void write_tensorboard(Writer& writer, const TensorBoardConfig& config);

/// The keys of the 'checkpoint' and 'early_stopping' sections, in the order they are written.
const std::vector<std::string>& checkpoint_keys();
const std::vector<std::string>& early_stopping_keys();
void check_run_control(const Experiment& experiment, const Fail& fail);
/// Writes the 'checkpoint' and 'early_stopping' sections.
void write_run_control(Writer& writer, const Experiment& experiment);

}  // namespace wb::detail
