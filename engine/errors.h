#pragma once

#include <stdexcept>
#include <string>

namespace wb {

/// A dataset that cannot be used: no usable images, an unreadable folder, a bad IDX file.
/// The message names the file or folder.
class DataError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// An experiment file or flag that is refused. `line` and `column` are 1-based and 0 when the
/// error has no position (a flag on the command line, say).
class ConfigError : public std::runtime_error {
public:
    ConfigError(const std::string& source, int line, int column, const std::string& what);
    const std::string& source() const { return source_; }
    int line() const { return line_; }
    int column() const { return column_; }

private:
    std::string source_;
    int line_;
    int column_;
};

/// A training run that had to stop: a non-finite loss, a model that does not fit its input.
class TrainingError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace wb
