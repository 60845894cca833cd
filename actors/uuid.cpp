#include "actors/uuid.hpp"

#include <array>
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

} // namespace

std::string make_uuid() {
  std::array<std::uint8_t, 16> b;
  random_bytes(b.data(), b.size());
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x40); // version 4
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80); // variant 1
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

} // namespace parley
