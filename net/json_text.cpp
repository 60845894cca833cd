#include "net/json_text.hpp"

#include <array>
#include <cstdint>
#include <cstring>

#include "net/utf8.hpp"

namespace parley::net {

namespace {

// The bytes that cannot stand in a JSON string as they are, or that need a
// closer look (UTF-8): control characters, quote, backslash, and all from
// 0x80 on.
constexpr auto special = [] {
  std::array<bool, 256> table{};
  for (std::size_t c = 0; c < table.size(); ++c)
    table[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
  return table;
}();

// Whether any of the 8 bytes in `w` is special: below 0x20, a quote, a
// backslash, or 0x80 and up. Exact for "any" (the borrows of the zero-byte
// tests only spill past a byte that is a hit itself).
bool has_special(std::uint64_t w) {
  constexpr std::uint64_t ones = 0x0101010101010101;
  constexpr std::uint64_t highs = 0x8080808080808080;
  auto has_zero = [](std::uint64_t x) { return (x - ones) & ~x & highs; };
  auto below_space = (w - ones * 0x20) & ~w & highs;
  return ((w & highs) | below_space | has_zero(w ^ (ones * '"'))
          | has_zero(w ^ (ones * '\\')))
         != 0;
}

// How many bytes from the start need no escaping. Ids and most words are
// plain from end to end: then that is all the work there is, 8 bytes a step.
std::size_t plain_prefix(std::string_view s) {
  std::size_t i = 0;
  for (std::uint64_t w; i + sizeof w <= s.size(); i += sizeof w) {
    std::memcpy(&w, s.data() + i, sizeof w);
    if (has_special(w))
      break;
  }
  while (i < s.size() && !special[static_cast<unsigned char>(s[i])])
    ++i;
  return i;
}

// The escaping loop. `emit(data, size)` receives the output piece by piece;
// runs of bytes that need no escaping go out in one piece. The first
// `plain` bytes are known to need none.
template <class Emit>
void escape(std::string_view s, std::size_t plain, Emit&& emit) {
  static constexpr char hex[] = "0123456789abcdef";
  std::size_t run = 0; // start of the pending run of plain bytes
  std::size_t i = plain;
  auto flush = [&] {
    if (i > run)
      emit(s.data() + run, i - run);
  };
  emit("\"", 1);
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (!special[c]) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      auto len = utf8_sequence_length(s.substr(i));
      if (len == 0) {
        flush();
        emit("\xEF\xBF\xBD", 3);
        run = ++i;
      } else if (len == 3 && c == 0xE2 && s[i + 1] == '\x80'
                 && (s[i + 2] == '\xA8' || s[i + 2] == '\xA9')) {
        flush();
        emit(s[i + 2] == '\xA8' ? "\\u2028" : "\\u2029", 6);
        run = i += 3;
      } else {
        i += len;
      }
      continue;
    }
    flush();
    switch (c) {
      case '"':
        emit("\\\"", 2);
        break;
      case '\\':
        emit("\\\\", 2);
        break;
      case '\b':
        emit("\\b", 2);
        break;
      case '\f':
        emit("\\f", 2);
        break;
      case '\n':
        emit("\\n", 2);
        break;
      case '\r':
        emit("\\r", 2);
        break;
      case '\t':
        emit("\\t", 2);
        break;
      default: {
        char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
        emit(u, 6);
      }
    }
    run = ++i;
  }
  flush();
  emit("\"", 1);
}

} // namespace

char* write_json_string(char* out, std::string_view s) {
  auto plain = plain_prefix(s);
  if (plain == s.size()) {
    *out++ = '"';
    std::memcpy(out, s.data(), s.size());
    out += s.size();
    *out++ = '"';
    return out;
  }
  escape(s, plain, [&out](const char* p, std::size_t len) {
    std::memcpy(out, p, len);
    out += len;
  });
  return out;
}

} // namespace parley::net
