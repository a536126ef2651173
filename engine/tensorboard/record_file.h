#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace wb::tb {

/// When buffered records reach the operating system.
struct RecordFileOptions {
    /// The longest a written record stays in the buffer: a background thread flushes it
    /// after at most this long. TensorBoard polls files every few seconds.
    std::chrono::milliseconds flush_interval{2000};
    /// A write that makes the buffer at least this large flushes at once.
    std::size_t buffer_bytes = std::size_t{1} << 20;
};

/// A file of TFRecord-framed records (see tfrecord.h), written through a buffer.
///
/// Records are appended to the buffer whole and the buffer is written whole, so the file only
/// ends in a partial record when the process dies during a write or the disk fills up.
/// "Flushed" means handed to the OS with write(2), not fsync(2): a record survives a crash of
/// the process, not of the machine. All members are thread-safe.
class RecordFile {
public:
    enum class Mode {
        CreateNew,  ///< the file must not exist yet
        Truncate,   ///< create the file, or empty an existing one
    };

    /// Opens `path`. Returns nullptr when `mode` is CreateNew and the file exists already;
    /// throws TensorBoardError naming the file for any other failure.
    static std::unique_ptr<RecordFile> open(const std::filesystem::path& path, Mode mode,
                                            RecordFileOptions options = {});

    /// Closes the file. A failure at this point cannot be reported: call close() first to
    /// see it.
    ~RecordFile();
    RecordFile(const RecordFile&) = delete;
    RecordFile& operator=(const RecordFile&) = delete;

    /// Frames `data` and buffers it. Throws TensorBoardError when this write, or an earlier
    /// background flush, failed; the file is unusable from then on.
    void write(std::string_view data);
    /// Hands everything buffered to the OS now.
    void flush();
    /// Flushes, stops the background thread and closes the file. Does nothing the second
    /// time; write() and flush() throw after it.
    void close();

    const std::filesystem::path& path() const { return path_; }

private:
    RecordFile(std::filesystem::path path, int fd, RecordFileOptions options);
    void run_flusher();
    void flush_locked();
    void throw_if_failed_locked() const;

    const std::filesystem::path path_;
    const RecordFileOptions options_;
    std::mutex close_mutex_;  // held for the whole of close()
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    int fd_;                      // guarded by mutex_; -1 once closed
    std::string buffer_;          // guarded by mutex_
    std::exception_ptr failure_;  // guarded by mutex_: the first failed write
    bool stopping_ = false;       // guarded by mutex_
    std::thread flusher_;
};

}  // namespace wb::tb
