#pragma once

// Cheap classification of visitor chat frames (seed 002). The generator sees
// hundreds of thousands of frames a second on the same cores as the server,
// so it reads only the "type" field instead of building a JSON DOM per frame
// (--verify does the full parse).

#include <algorithm>
#include <string>
#include <string_view>

namespace parley::bench {

enum class frame_kind {
  connected,
  chunk,
  complete,
  idle_warning,
  session_end,
  error,
  other,
};

inline const char* to_string(frame_kind k) {
  switch (k) {
  case frame_kind::connected:
    return "connected";
  case frame_kind::chunk:
    return "chunk";
  case frame_kind::complete:
    return "complete";
  case frame_kind::idle_warning:
    return "idle_warning";
  case frame_kind::session_end:
    return "session_end";
  case frame_kind::error:
    return "error";
  case frame_kind::other:
    break;
  }
  return "other";
}

namespace detail {

inline bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Position of the first character of the "type" string value, or npos.
inline std::size_t type_value_pos(std::string_view s) {
  // Both parley and the node peer write "type" first and compactly.
  constexpr std::string_view fast = "{\"type\":\"";
  if (s.substr(0, fast.size()) == fast)
    return fast.size();
  constexpr std::string_view key = "\"type\"";
  for (auto pos = s.find(key); pos != std::string_view::npos;
       pos = s.find(key, pos + 1)) {
    auto i = pos + key.size();
    while (i < s.size() && is_space(s[i]))
      ++i;
    if (i >= s.size() || s[i] != ':')
      continue; // "type" was a value, not a key
    ++i;
    while (i < s.size() && is_space(s[i]))
      ++i;
    if (i < s.size() && s[i] == '"')
      return i + 1;
  }
  return std::string_view::npos;
}

inline bool value_is(std::string_view rest, std::string_view word) {
  return rest.size() > word.size() && rest.substr(0, word.size()) == word
         && rest[word.size()] == '"';
}

} // namespace detail

inline frame_kind classify(std::string_view s) {
  auto pos = detail::type_value_pos(s);
  if (pos == std::string_view::npos)
    return frame_kind::other;
  auto rest = s.substr(pos);
  if (detail::value_is(rest, "chunk"))
    return frame_kind::chunk;
  if (detail::value_is(rest, "complete"))
    return frame_kind::complete;
  if (detail::value_is(rest, "connected"))
    return frame_kind::connected;
  if (detail::value_is(rest, "idle_warning"))
    return frame_kind::idle_warning;
  if (detail::value_is(rest, "session_end"))
    return frame_kind::session_end;
  if (detail::value_is(rest, "error"))
    return frame_kind::error;
  return frame_kind::other;
}

// The "error" text of an error frame, for reports; not unescaped (error
// texts are plain), cut to 80 characters.
inline std::string error_text(std::string_view s) {
  constexpr std::string_view key = "\"error\":\"";
  auto pos = s.find(key);
  if (pos == std::string_view::npos)
    return std::string(s.substr(0, 80));
  pos += key.size();
  auto end = s.find('"', pos);
  return std::string(s.substr(pos, std::min<std::size_t>(end - pos, 80)));
}

} // namespace parley::bench
