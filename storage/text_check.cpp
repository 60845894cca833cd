#include "storage/text_check.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <utility>

#include "storage/errors.hpp"

namespace parley::storage {

namespace {

constexpr std::size_t valid = std::string_view::npos;

bool continuation(std::string_view x, std::size_t i) {
  return i < x.size() && (static_cast<unsigned char>(x[i]) & 0xC0) == 0x80;
}

// Length of the well-formed sequence at x[i], or 0 when ill-formed.
std::size_t sequence_length(std::string_view x, std::size_t i) {
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(x[k]); };
  unsigned c = at(i);
  if (c < 0x80)
    return 1;
  if (c < 0xC2 || c > 0xF4)
    return 0; // stray continuation, overlong 2-byte form, beyond U+10FFFF
  std::size_t n = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  for (std::size_t k = 1; k < n; ++k)
    if (!continuation(x, i + k))
      return 0;
  if (n == 3
      && ((c == 0xE0 && at(i + 1) < 0xA0)       // overlong
          || (c == 0xED && at(i + 1) >= 0xA0))) // surrogate
    return 0;
  if (n == 4
      && ((c == 0xF0 && at(i + 1) < 0x90)       // overlong
          || (c == 0xF4 && at(i + 1) >= 0x90))) // beyond U+10FFFF
    return 0;
  return n;
}

// Whether the 8 bytes at `p` are ASCII without NUL: the common case, 8
// bytes per step.
bool plain_ascii8(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  constexpr std::uint64_t ones = 0x0101010101010101;
  constexpr std::uint64_t highs = 0x8080808080808080;
  auto has_zero = (w - ones) & ~w & highs;
  return ((w & highs) | has_zero) == 0;
}

// The offset of the first byte that makes `x` unstorable, or `valid`.
std::size_t first_bad_byte(std::string_view x) {
  for (std::size_t i = 0; i < x.size();) {
    if (i + 8 <= x.size() && plain_ascii8(x.data() + i)) {
      i += 8;
      continue;
    }
    if (x[i] == '\0')
      return i;
    auto n = sequence_length(x, i);
    if (n == 0)
      return i;
    i += n;
  }
  return valid;
}

using field = std::pair<const char*, const std::string*>;

void check_fields(const char* record, std::initializer_list<field> fields) {
  for (auto [name, value] : fields) {
    auto bad = first_bad_byte(*value);
    if (bad == valid)
      continue;
    auto problem = (*value)[bad] == '\0' ? "contains a NUL character"
                                         : "is not valid UTF-8";
    throw invalid_input("invalid " + std::string{record} + ": " + name + " "
                        + problem + " (byte " + std::to_string(bad) + ")");
  }
}

} // namespace

bool storable_text(std::string_view x) {
  return first_bad_byte(x) == valid;
}

void check_text(const session_record& x) {
  check_fields("session", {{"id", &x.id},
                           {"visitor_id", &x.visitor_id},
                           {"status", &x.status},
                           {"conversation_data", &x.conversation_data},
                           {"kind", &x.kind},
                           {"owner_id", &x.owner_id},
                           {"title", &x.title}});
}

void check_text(const message_record& x) {
  check_fields("message", {{"id", &x.id},
                           {"session_id", &x.session_id},
                           {"role", &x.role},
                           {"kind", &x.kind},
                           {"content", &x.content},
                           {"state", &x.state},
                           {"tool_call_id", &x.tool_call_id},
                           {"tool_calls", &x.tool_calls},
                           {"image", &x.image},
                           {"html", &x.html}});
  for (auto& k : x.sources)
    check_fields("source", {{"id", &k.id},
                            {"title", &k.title},
                            {"content", &k.content}});
}

} // namespace parley::storage
