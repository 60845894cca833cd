#pragma once

// Writing JSON text by hand, for frames on the hot path (one per chunk per
// dialect): no DOM, and the output is sized exactly before it is written.

#include <cstddef>
#include <string>
#include <string_view>

namespace parley::net {

// Size of `s` written as a JSON string literal, quotes included.
std::size_t json_string_size(std::string_view s);

// Appends `s` as a JSON string literal, quotes included. The result is valid
// JSON and valid UTF-8 for any input: quotes, backslashes and control
// characters are escaped, U+2028 and U+2029 too (they end a line in older
// JavaScript), and each byte of an ill-formed UTF-8 sequence becomes U+FFFD
// (a browser fails the whole WebSocket on one bad text frame).
void append_json_string(std::string& out, std::string_view s);

// The most bytes a JSON string literal of `n` input bytes can take: a
// control character becomes six (\u001f), and so on.
constexpr std::size_t json_string_bound(std::size_t n) {
  return 6 * n + 2;
}

// Writes `s` as append_json_string does, at `out`, which has room for
// json_string_bound(s.size()) bytes; returns the end of what it wrote.
char* write_json_string(char* out, std::string_view s);

} // namespace parley::net
