// The decoded-video cache. A disk file is a 20-byte header (magic "WBCLIP1\0", then frames, rows
// and cols as 32-bit little-endian integers on the machines this runs on) and the BGR pixels.
// Files are written under a temporary name and renamed, so a reader never sees half a file.
//
// Limitation: a video is decoded and kept whole (every frame at the resize side), since a
// random clip may start anywhere in it; an hour of video at 128 x 170 pixels is 5.6 GB at 30
// frames a second. Cut long videos into shorter files (or frame folders) for training.

#include "engine/clip_cache.h"

#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace wb {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'W', 'B', 'C', 'L', 'I', 'P', '1', '\0'};
constexpr std::size_t kHeaderBytes = sizeof kMagic + 3 * sizeof(std::int32_t);

std::atomic<int> g_cache_count{0};

}  // namespace

ClipCache::ClipCache(std::size_t memory_bytes, std::string disk_parent, std::size_t disk_bytes)
    : memory_bytes_(memory_bytes), disk_parent_(std::move(disk_parent)), disk_bytes_(disk_bytes) {}

ClipCache::~ClipCache() {
    if (!folder_.empty()) {
        std::error_code ec;
        fs::remove_all(folder_, ec);
    }
}

std::string ClipCache::disk_folder() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return folder_;
}

std::shared_ptr<const DecodedVideo> ClipCache::read_disk(const std::string& file) const {
    std::ifstream in(file, std::ios::binary);
    char magic[8];
    std::int32_t dims[3];
    if (!in.read(magic, 8) || std::memcmp(magic, kMagic, 8) != 0 ||
        !in.read(reinterpret_cast<char*>(dims), sizeof dims) || dims[0] <= 0 || dims[1] <= 0 ||
        dims[2] <= 0) {
        return nullptr;
    }
    auto video = std::make_shared<DecodedVideo>();
    video->frames = dims[0];
    video->rows = dims[1];
    video->cols = dims[2];
    video->pixels.resize(std::size_t(video->frames) * video->frame_bytes());
    if (!in.read(reinterpret_cast<char*>(video->pixels.data()),
                 static_cast<std::streamsize>(video->pixels.size()))) {
        return nullptr;
    }
    ++disk_reads_;
    return video;
}

void ClipCache::write_disk(const std::string& key, const DecodedVideo& video) {
    std::string file;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (disk_failed_ || disk_.count(key)) {
            return;
        }
        if (folder_.empty()) {
            const fs::path parent =
                disk_parent_.empty() ? fs::temp_directory_path() : fs::path(disk_parent_);
            const fs::path folder = parent / ("workbench-clips-" + std::to_string(::getpid()) +
                                              "-" + std::to_string(g_cache_count++));
            std::error_code ec;
            fs::create_directories(folder, ec);
            if (ec) {
                disk_failed_ = true;
                return;
            }
            folder_ = folder.string();
        }
        file = (fs::path(folder_) / (std::to_string(disk_.size()) + ".clip")).string();
        disk_[key] = "";  // claimed; the file name is set once it is complete
    }
    const std::string temporary = file + ".tmp";
    bool ok = false;
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        const std::int32_t dims[3] = {video.frames, video.rows, video.cols};
        out.write(kMagic, 8);
        out.write(reinterpret_cast<const char*>(dims), sizeof dims);
        out.write(reinterpret_cast<const char*>(video.pixels.data()),
                  static_cast<std::streamsize>(video.pixels.size()));
        out.close();
        ok = static_cast<bool>(out);
    }
    std::error_code ec;
    if (ok) {
        fs::rename(temporary, file, ec);
        ok = !ec;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (ok) {
        disk_[key] = file;
        disk_used_ += video.pixels.size() + kHeaderBytes;
    } else {
        // A full disk or a folder that went away: the cache stays in memory only.
        fs::remove(temporary, ec);
        disk_.erase(key);
        disk_failed_ = true;
    }
}

std::shared_ptr<const DecodedVideo> ClipCache::get(const std::string& key, const Decode& decode,
                                                   std::string* error) {
    std::string file;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (auto it = memory_.find(key); it != memory_.end()) {
            return it->second;
        }
        if (auto it = disk_.find(key); it != disk_.end()) {
            file = it->second;
        }
    }
    if (!file.empty()) {
        if (auto video = read_disk(file)) {
            return video;
        }
    }
    std::string reason;
    auto video = std::make_shared<DecodedVideo>(decode(&reason));
    ++decoded_;
    if (video->empty()) {
        if (error) {
            *error = reason;
        }
        return nullptr;
    }
    const std::size_t bytes = video->pixels.size();
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (memory_.count(key)) {
            return memory_[key];
        }
        if (memory_used_ + bytes <= memory_bytes_) {
            memory_[key] = video;
            memory_used_ += bytes;
            return video;
        }
    }
    if (disk_used_ + bytes + kHeaderBytes <= disk_bytes_) {
        write_disk(key, *video);
    }
    return video;
}

}  // namespace wb
