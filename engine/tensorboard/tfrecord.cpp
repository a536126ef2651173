#include "engine/tensorboard/tfrecord.h"

#include <boost/crc.hpp>

namespace wb::tb {

namespace {

void append_le(std::string& out, std::uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) {
        out += static_cast<char>((value >> (8 * i)) & 0xFF);
    }
}

}  // namespace

std::uint32_t crc32c(std::string_view data) {
    boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
    crc.process_bytes(data.data(), data.size());
    return crc.checksum();
}

std::uint32_t mask_crc(std::uint32_t crc) {
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

std::uint32_t unmask_crc(std::uint32_t masked) {
    const std::uint32_t rotated = masked - 0xa282ead8u;
    return (rotated << 15) | (rotated >> 17);
}

void append_record(std::string& out, std::string_view data) {
    const std::size_t header_at = out.size();
    out.reserve(out.size() + kRecordHeaderBytes + data.size() + kRecordFooterBytes);
    append_le(out, data.size(), 8);
    append_le(out, mask_crc(crc32c(std::string_view(out).substr(header_at, 8))), 4);
    out.append(data);
    append_le(out, mask_crc(crc32c(data)), 4);
}

}  // namespace wb::tb
