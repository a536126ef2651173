#include "engine/run_folder.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "engine/errors.h"

namespace fs = std::filesystem;

namespace wb {

namespace {

std::string timestamp() {
    std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    localtime_r(&now, &tm);
    std::ostringstream out;
    out << std::put_time(&tm, "%Y%m%d-%H%M%S");
    return out.str();
}

/// Keeps names usable as folder names on every file system.
std::string safe_name(const std::string& name) {
    std::string out;
    for (char c : name) {
        // Bytes of UTF-8 characters are kept: "kill test ü" is "kill_test_ü", not "kill_test___".
        const auto byte = static_cast<unsigned char>(c);
        bool ok = std::isalnum(byte) || c == '-' || c == '_' || c == '.' || byte >= 0x80;
        out += ok ? c : '_';
    }
    return out.empty() ? "run" : out;
}

}  // namespace

RunFolder RunFolder::create(const std::string& runs_dir, const std::string& name) {
    std::error_code ec;
    fs::create_directories(runs_dir, ec);
    if (ec) {
        throw DataError("cannot create the runs folder " + runs_dir + ": " + ec.message());
    }
    std::string base = (fs::path(runs_dir) / (timestamp() + "-" + safe_name(name))).string();
    std::string path = base;
    for (int i = 2; !fs::create_directory(path, ec); ++i) {
        if (ec) {
            throw DataError("cannot create the run folder " + path + ": " + ec.message());
        }
        path = base + "-" + std::to_string(i);
    }
    return RunFolder(path);
}

std::string write_failure(const std::string& path, const std::string& detail) {
    std::error_code ec;
    const auto space = fs::space(fs::path(path).parent_path(), ec);
    std::string text = "cannot write " + path;
    if (!ec && space.available < (std::uintmax_t(4) << 20)) {
        text += ": the disk is full (" + std::to_string(space.available / 1024) +
                " KiB left on its filesystem)";
    } else if (!detail.empty()) {
        text += ": " + detail;
    }
    return text;
}

RunFolder RunFolder::open(const std::string& path) {
    std::error_code ec;
    if (!fs::is_directory(path, ec)) {
        throw DataError(path + ": no such run folder");
    }
    return RunFolder(fs::absolute(path, ec).lexically_normal().string());
}

std::string RunFolder::file(const std::string& name) const {
    return (fs::path(path_) / name).string();
}

std::string RunFolder::temp_path(const std::string& name) const {
    return file(name) + ".tmp";
}

void RunFolder::publish(const std::string& name) const {
    std::error_code ec;
    fs::rename(temp_path(name), file(name), ec);
    if (ec) {
        throw DataError("cannot write " + file(name) + ": " + ec.message());
    }
}

void RunFolder::write_text(const std::string& name, const std::string& content) const {
    const std::string temp = temp_path(name);
    const auto fail = [&](int error) {
        std::error_code ec;
        fs::remove(temp, ec);
        throw DataError(write_failure(file(name), std::strerror(error)) + "; the previous " + name +
                        (fs::exists(file(name), ec) ? " is kept" : " did not exist yet"));
    };
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fail(errno);
    }
    for (std::size_t done = 0; done < content.size();) {
        const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            const int error = n < 0 ? errno : ENOSPC;
            ::close(fd);
            fail(error);
        }
        done += static_cast<std::size_t>(n);
    }
    // On disk before the rename, so that a power loss leaves the old file or the new one.
    if (::fsync(fd) != 0) {
        const int error = errno;
        ::close(fd);
        fail(error);
    }
    if (::close(fd) != 0) {
        fail(errno);
    }
    publish(name);
}

RunLock::RunLock(const std::string& dir) {
    const std::string path = (fs::path(dir) / ".lock").string();
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
        throw DataError(write_failure(path, std::strerror(errno)));
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        char holder[32] = {};
        const ssize_t n = ::pread(fd_, holder, sizeof holder - 1, 0);
        ::close(fd_);
        fd_ = -1;
        const std::string pid = n > 0 ? std::string(holder, std::size_t(n)) : "";
        throw DataError(dir + ": another process" +
                        (pid.empty() ? std::string() : " (pid " + pid + ")") +
                        " is training this run folder; wait for it to end or stop it first");
    }
    // The pid is only for the message of a refused second process: a failed write is harmless.
    const std::string pid = std::to_string(::getpid());
    if (::ftruncate(fd_, 0) == 0) {
        [[maybe_unused]] const ssize_t written = ::pwrite(fd_, pid.data(), pid.size(), 0);
    }
}

RunLock::~RunLock() {
    if (fd_ >= 0) {
        ::close(fd_);  // releases the lock
    }
}

CsvLog::CsvLog(const std::string& path, const std::vector<std::string>& columns)
    : out_(path, std::ios::trunc), path_(path) {
    if (!out_) {
        throw DataError("cannot write " + path);
    }
    for (size_t i = 0; i < columns.size(); ++i) {
        out_ << (i ? "," : "") << columns[i];
    }
    out_ << '\n' << std::flush;
}

CsvLog CsvLog::resume(const std::string& path, const std::vector<std::string>& columns,
                      long long keep_rows) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw DataError("cannot read " + path + " to resume the run");
    }
    std::string header;
    for (size_t i = 0; i < columns.size(); ++i) {
        header += (i ? "," : "") + columns[i];
    }
    std::string line;
    std::getline(in, line);
    if (line != header) {
        throw DataError(path + ": line 1 is '" + line + "', expected '" + header + "'");
    }
    std::string kept = line + "\n";
    long long rows = 0;
    while (rows < keep_rows && std::getline(in, line)) {
        kept += line + "\n";
        ++rows;
    }
    if (rows < keep_rows) {
        throw DataError(path + ": " + std::to_string(rows) + " rows, but the checkpoint is " +
                        std::to_string(keep_rows) + " rows in");
    }
    in.close();
    const std::string temp = path + ".tmp";
    {
        std::ofstream out(temp, std::ios::binary | std::ios::trunc);
        out << kept;
        out.flush();
        if (!out) {
            throw DataError("cannot write " + temp);
        }
    }
    std::error_code ec;
    fs::rename(temp, path, ec);
    if (ec) {
        throw DataError("cannot write " + path + ": " + ec.message());
    }
    CsvLog log;
    log.path_ = path;
    log.out_.open(path, std::ios::app);
    if (!log.out_) {
        throw DataError("cannot write " + path);
    }
    return log;
}

void CsvLog::row(const std::vector<double>& values) {
    for (size_t i = 0; i < values.size(); ++i) {
        out_ << (i ? "," : "") << std::setprecision(8) << values[i];
    }
    out_ << '\n' << std::flush;
    if (!out_) {
        throw DataError(write_failure(path_));
    }
}

}  // namespace wb
