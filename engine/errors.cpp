#include "engine/errors.h"

namespace wb {

namespace {
std::string position_message(const std::string& source, int line, int column,
                             const std::string& what) {
    std::string msg = source;
    if (line > 0) {
        msg += ":" + std::to_string(line);
        if (column > 0) {
            msg += ":" + std::to_string(column);
        }
    }
    return msg.empty() ? what : msg + ": " + what;
}
}  // namespace

ConfigError::ConfigError(const std::string& source, int line, int column, const std::string& what)
    : std::runtime_error(position_message(source, line, column, what)),
      source_(source),
      line_(line),
      column_(column) {}

}  // namespace wb
