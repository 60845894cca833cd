#pragma once

// JSON string literals written by hand, for frames on the hot path (one per
// chunk per dialect; net/frame_writer.hpp): no DOM.

#include <cstddef>
#include <string_view>

namespace parley::net {

// The most bytes a JSON string literal of `n` input bytes can take: a
// control character becomes six (\u001f), and so on.
constexpr std::size_t json_string_bound(std::size_t n) {
  return 6 * n + 2;
}

// Writes `s` as a JSON string literal, quotes included, at `out`, which has
// room for json_string_bound(s.size()) bytes; returns the end of what it
// wrote. The result is valid JSON and valid UTF-8 for any input: quotes,
// backslashes and control characters are escaped, U+2028 and U+2029 too
// (they end a line in older JavaScript), and each byte of an ill-formed
// UTF-8 sequence becomes U+FFFD (a browser fails the whole WebSocket on one
// bad text frame).
char* write_json_string(char* out, std::string_view s);

} // namespace parley::net
