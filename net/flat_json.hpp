#pragma once

// The quick read of the JSON that chat clients send most: one object whose
// members are all plain strings, such as
//   {"type":"chat_message","message":"hi","session_id":"…","visitor_id":"…"}
// nlohmann's parser spends about 85 instructions per character on a frame
// like that (some 5 % of a one-word visitor reply's instructions, by
// callgrind); this reads it in a few. Anything else, valid JSON or not, is
// left to the full parser: the caller asks it whenever this returns false.

#include <string_view>

#include "net/utf8.hpp"

namespace parley::net {

namespace detail {

inline bool json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// A string without escapes or control characters, in well-formed UTF-8,
// from the quote at `p`; `p` ends past its closing quote.
inline bool plain_json_string(const char*& p, const char* end,
                              std::string_view& out) {
  if (p == end || *p != '"')
    return false;
  const char* start = ++p;
  bool ascii = true;
  for (; p != end && *p != '"'; ++p) {
    auto c = static_cast<unsigned char>(*p);
    if (c < 0x20 || c == '\\')
      return false;
    ascii = ascii && c < 0x80;
  }
  if (p == end)
    return false;
  out = std::string_view(start, static_cast<std::size_t>(p - start));
  ++p;
  // The rules nlohmann applies: RFC 3629, no overlong forms or surrogates.
  return ascii || is_utf8(out);
}

} // namespace detail

// True if `text` is exactly one JSON object (whitespace around it and its
// tokens allowed) whose values are all strings without escapes; then
// `member(key, value)` has been called for each member in order. On false,
// calls made so far describe nothing and must be discarded.
template <class OnMember>
bool scan_flat_object(std::string_view text, OnMember&& member) {
  const char* p = text.data();
  const char* end = p + text.size();
  auto skip_space = [&] {
    while (p != end && detail::json_space(*p))
      ++p;
  };
  auto next_is = [&](char c) {
    skip_space();
    if (p == end || *p != c)
      return false;
    ++p;
    skip_space();
    return true;
  };
  if (!next_is('{'))
    return false;
  if (p != end && *p == '}') {
    ++p;
  } else {
    for (;;) {
      std::string_view key;
      std::string_view value;
      if (!detail::plain_json_string(p, end, key) || !next_is(':')
          || !detail::plain_json_string(p, end, value))
        return false;
      member(key, value);
      skip_space();
      if (p == end)
        return false;
      if (*p == '}') {
        ++p;
        break;
      }
      if (!next_is(','))
        return false;
    }
  }
  skip_space();
  return p == end;
}

} // namespace parley::net
