#pragma once

// Minimal UTF-8 helpers (RFC 3629): what the JSON writer needs to stay valid
// whatever bytes it gets, and what the decoder needs to look at characters.

#include <cstddef>
#include <string_view>

namespace parley::net {

// Length of the well-formed UTF-8 sequence that starts `s` (1 to 4), or 0
// when `s` is empty or starts with an ill-formed one (stray continuation,
// overlong form, surrogate, beyond U+10FFFF, truncated).
inline std::size_t utf8_sequence_length(std::string_view s) {
  if (s.empty())
    return 0;
  auto at = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  auto cont = [&](std::size_t i) {
    return i < s.size() && (at(i) & 0xC0) == 0x80;
  };
  unsigned c = at(0);
  if (c < 0x80)
    return 1;
  if (c < 0xC2)
    return 0;
  if (c < 0xE0)
    return cont(1) ? 2 : 0;
  if (c < 0xF0) {
    if (!cont(1) || !cont(2))
      return 0;
    if ((c == 0xE0 && at(1) < 0xA0) || (c == 0xED && at(1) >= 0xA0))
      return 0;
    return 3;
  }
  if (c < 0xF5) {
    if (!cont(1) || !cont(2) || !cont(3))
      return 0;
    if ((c == 0xF0 && at(1) < 0x90) || (c == 0xF4 && at(1) >= 0x90))
      return 0;
    return 4;
  }
  return 0;
}

// Whether all of `s` is well-formed UTF-8 (NUL included).
bool is_utf8(std::string_view s);

// Decodes the code point at `s[i]` and moves `i` past it; an ill-formed
// byte decodes as U+FFFD and is skipped alone.
char32_t utf8_next(std::string_view s, std::size_t& i);

} // namespace parley::net
