#include "engine/tensorboard/record_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "engine/tensorboard/errors.h"
#include "engine/tensorboard/tfrecord.h"

namespace wb::tb {

namespace {

std::string quoted(const std::filesystem::path& path) {
    return "'" + path.string() + "'";
}

}  // namespace

std::unique_ptr<RecordFile> RecordFile::open(const std::filesystem::path& path, Mode mode,
                                             RecordFileOptions options) {
    const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (mode == Mode::CreateNew ? O_EXCL : O_TRUNC);
    const int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) {
        if (mode == Mode::CreateNew && errno == EEXIST) {
            return nullptr;
        }
        throw TensorBoardError("cannot create the event file " + quoted(path) + ": " +
                               std::strerror(errno));
    }
    return std::unique_ptr<RecordFile>(new RecordFile(path, fd, options));
}

RecordFile::RecordFile(std::filesystem::path path, int fd, RecordFileOptions options)
    : path_(std::move(path)), options_(options), fd_(fd) {
    flusher_ = std::thread([this] { run_flusher(); });
}

RecordFile::~RecordFile() {
    try {
        close();
    } catch (...) {
        // Limitation: a write that fails while the writer is destroyed is lost; close()
        // reports it.
    }
}

void RecordFile::write(std::string_view data) {
    std::lock_guard<std::mutex> lock(mutex_);
    throw_if_failed_locked();
    append_record(buffer_, data);
    if (buffer_.size() >= options_.buffer_bytes) {
        flush_locked();
    }
}

void RecordFile::flush() {
    std::lock_guard<std::mutex> lock(mutex_);
    throw_if_failed_locked();
    flush_locked();
}

void RecordFile::close() {
    std::lock_guard<std::mutex> closing(close_mutex_);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (flusher_.joinable()) {
        flusher_.join();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (fd_ < 0) {
        return;
    }
    if (!failure_) {
        try {
            flush_locked();
        } catch (...) {
            // Recorded in failure_ by flush_locked(); rethrown below after closing.
        }
    }
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0 && !failure_) {
        failure_ = std::make_exception_ptr(TensorBoardError(
            "cannot close the event file " + quoted(path_) + ": " + std::strerror(errno)));
    }
    if (failure_) {
        std::rethrow_exception(failure_);
    }
}

void RecordFile::run_flusher() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
        wake_.wait_for(lock, options_.flush_interval, [this] { return stopping_; });
        if (stopping_ || failure_ || buffer_.empty()) {
            continue;
        }
        try {
            flush_locked();
        } catch (...) {
            // Kept in failure_; the next write(), flush() or close() rethrows it.
        }
    }
}

void RecordFile::flush_locked() {
    if (fd_ < 0) {
        throw TensorBoardError("the event file " + quoted(path_) + " is closed");
    }
    std::size_t done = 0;
    while (done < buffer_.size()) {
        const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            const std::string reason = n < 0 ? std::strerror(errno) : "nothing written";
            failure_ = std::make_exception_ptr(
                TensorBoardError("cannot write the event file " + quoted(path_) + ": " + reason));
            buffer_.erase(0, done);
            std::rethrow_exception(failure_);
        }
        done += static_cast<std::size_t>(n);
    }
    buffer_.clear();
}

void RecordFile::throw_if_failed_locked() const {
    if (failure_) {
        std::rethrow_exception(failure_);
    }
    if (fd_ < 0) {
        throw TensorBoardError("the event file " + quoted(path_) + " is closed");
    }
}

}  // namespace wb::tb
