#include "actors/uuid.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <stdexcept>

#include <sys/random.h>

namespace parley {

namespace {

// Ids must be unguessable (they are the only key to a visitor's session), so
// they come from the kernel's CSPRNG, buffered to keep syscalls rare.
void random_bytes(std::uint8_t* out, std::size_t n) {
  thread_local std::array<std::uint8_t, 4096> buf;
  thread_local std::size_t pos = buf.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (pos == buf.size()) {
      std::size_t got = 0;
      while (got < buf.size()) {
        auto r = getrandom(buf.data() + got, buf.size() - got, 0);
        if (r < 0)
          throw std::runtime_error("getrandom failed");
        got += static_cast<std::size_t>(r);
      }
      pos = 0;
    }
    out[i] = buf[pos++];
  }
}

std::string to_text(const std::array<std::uint8_t, 16>& b) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out += '-';
    out += digits[b[i] >> 4];
    out += digits[b[i] & 0xF];
  }
  return out;
}

// Sets the version nibble and the RFC 4122 variant bits.
std::string with_version(std::array<std::uint8_t, 16>& b, std::uint8_t v) {
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | (v << 4));
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);
  return to_text(b);
}

} // namespace

std::string make_uuid() {
  std::array<std::uint8_t, 16> b;
  random_bytes(b.data(), b.size());
  return with_version(b, 4);
}

std::string make_ordered_uuid() {
  std::array<std::uint8_t, 16> b;
  random_bytes(b.data() + 6, b.size() - 6);
  auto ms = static_cast<std::uint64_t>(
    std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch())
      .count());
  for (int i = 5; i >= 0; --i, ms >>= 8)
    b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ms & 0xFF);
  return with_version(b, 7);
}

} // namespace parley
