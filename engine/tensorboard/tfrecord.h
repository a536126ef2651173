#pragma once

// TFRecord framing, the container of TensorBoard event files. Each record is
//   uint64 length (little-endian) | uint32 masked CRC-32C of those 8 bytes |
//   data[length]                  | uint32 masked CRC-32C of the data
// with both CRCs little-endian.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace wb::tb {

/// CRC-32C (Castagnoli, reflected, init and final XOR 0xFFFFFFFF): "123456789" -> 0xE3069283.
std::uint32_t crc32c(std::string_view data);

/// TensorFlow's masking of a CRC stored next to the data it covers:
/// ((crc >> 15) | (crc << 17)) + 0xa282ead8, modulo 2^32.
std::uint32_t mask_crc(std::uint32_t crc);

/// The inverse of mask_crc().
std::uint32_t unmask_crc(std::uint32_t masked);

/// Bytes of a framing header (length and its CRC) and trailer (the data's CRC).
inline constexpr std::size_t kRecordHeaderBytes = 12;
inline constexpr std::size_t kRecordFooterBytes = 4;

/// Appends one framed record holding `data` to `out`.
void append_record(std::string& out, std::string_view data);

}  // namespace wb::tb
