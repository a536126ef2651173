#pragma once

#include <fstream>
#include <string>
#include <vector>

namespace wb {

/// "cannot write PATH: the disk is full (N KiB left on its filesystem)" when the filesystem of
/// `path` is (almost) full, else "cannot write PATH: detail".
std::string write_failure(const std::string& path, const std::string& detail = "");

/// One training run on disk: <runs_dir>/<YYYYmmdd-HHMMSS>-<name>/. Files are written so that a
/// crash never leaves a half-written one: text and checkpoints go to a temporary name first
/// and are renamed; CSV rows are flushed as they are appended.
class RunFolder {
public:
    /// Creates a new, unique folder under `runs_dir` (created too). Throws DataError when the
    /// folder cannot be created.
    static RunFolder create(const std::string& runs_dir, const std::string& name);
    /// An existing run folder, to resume. Throws DataError when it is not a folder.
    static RunFolder open(const std::string& path);

    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const;

    /// Writes `content` (text or bytes) to `name` atomically: a temporary file, flushed to the
    /// disk, then a rename, so that a crash or a power loss leaves the previous file or the new
    /// one. Throws DataError naming the file (and a full disk) when it cannot; the previous
    /// file is then kept.
    void write_text(const std::string& name, const std::string& content) const;

    /// Path of a temporary sibling for `name`, and the rename that publishes it.
    std::string temp_path(const std::string& name) const;
    void publish(const std::string& name) const;

private:
    explicit RunFolder(std::string path) : path_(std::move(path)) {}
    std::string path_;
};

/// A CSV file that is appended to row by row and flushed after each row.
/// Holds a run folder for the one process that trains it: an advisory lock (flock) on its
/// `.lock` file, which names the holder's process id. The lock goes with the process, however
/// it ends (a kill -9 too), so a killed run's folder can be resumed at once.
class RunLock {
public:
    /// Takes the lock of the folder `dir`. Throws DataError naming the folder and the process
    /// that holds it.
    explicit RunLock(const std::string& dir);
    ~RunLock();
    RunLock(const RunLock&) = delete;
    RunLock& operator=(const RunLock&) = delete;

private:
    int fd_ = -1;
};

class CsvLog {
public:
    CsvLog() = default;
    CsvLog(const std::string& path, const std::vector<std::string>& columns);
    /// Continues an existing log: keeps its header and first `keep_rows` rows, drops the
    /// rest (rows written after the checkpoint a run resumes from), and appends from there.
    /// Throws DataError when the file is missing, its header differs from `columns` or it has
    /// fewer rows than `keep_rows`.
    static CsvLog resume(const std::string& path, const std::vector<std::string>& columns,
                         long long keep_rows);
    /// Appends a row; throws DataError naming the file (and a full disk) when it cannot.
    void row(const std::vector<double>& values);

private:
    std::ofstream out_;
    std::string path_;
};

}  // namespace wb
