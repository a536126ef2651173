#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "engine/video_io.h"

namespace wb {

/// Decoded videos kept for later epochs: in memory up to `memory_bytes`, then as raw files in a
/// folder of its own (created on first use in `disk_parent`, or the system's temporary folder
/// when empty) up to `disk_bytes`, which the destructor removes. Once a video fits neither,
/// it is decoded again each time it is asked for. Thread safe.
class ClipCache {
public:
    using Decode = std::function<DecodedVideo(std::string* error)>;

    ClipCache(std::size_t memory_bytes, std::string disk_parent, std::size_t disk_bytes);
    ~ClipCache();
    ClipCache(const ClipCache&) = delete;
    ClipCache& operator=(const ClipCache&) = delete;

    /// The video cached under `key`, else `decode()`'s result, which is then cached. Returns
    /// null and sets `error` when decoding fails (failures are not cached).
    std::shared_ptr<const DecodedVideo> get(const std::string& key, const Decode& decode,
                                            std::string* error);

    std::size_t memory_bytes_used() const { return memory_used_; }
    std::size_t disk_bytes_used() const { return disk_used_; }
    std::size_t decoded() const { return decoded_; }        ///< calls to decode()
    std::size_t disk_reads() const { return disk_reads_; }  ///< videos read back from disk
    /// The cache's folder; empty until a video was written there.
    std::string disk_folder() const;

private:
    std::shared_ptr<const DecodedVideo> read_disk(const std::string& file) const;
    void write_disk(const std::string& key, const DecodedVideo& video);

    const std::size_t memory_bytes_;
    const std::string disk_parent_;
    const std::size_t disk_bytes_;

    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<const DecodedVideo>> memory_;  // guarded by mutex_
    std::map<std::string, std::string> disk_;  // guarded by mutex_: key -> file
    std::string folder_;                       // guarded by mutex_
    bool disk_failed_ = false;                 // guarded by mutex_: stop writing after an error
    std::atomic<std::size_t> memory_used_{0};
    std::atomic<std::size_t> disk_used_{0};
    std::atomic<std::size_t> decoded_{0};
    mutable std::atomic<std::size_t> disk_reads_{0};
};

}  // namespace wb
