#pragma once

#include <stdexcept>

namespace wb::tb {

/// A log directory that cannot be created, an event file that cannot be opened or written,
/// a projector file that cannot be read back. The message names the file or folder.
class TensorBoardError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace wb::tb
