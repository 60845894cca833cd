#include "net/query.hpp"

namespace parley::net {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

target_parts split_target(std::string_view target) {
  target_parts parts;
  auto hash = target.find('#');
  if (hash != std::string_view::npos)
    target = target.substr(0, hash);
  auto q = target.find('?');
  parts.path = target.substr(0, q);
  if (q != std::string_view::npos)
    parts.query = target.substr(q + 1);
  return parts;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0
               && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> query_param(std::string_view query,
                                       std::string_view key) {
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{}
                                          : query.substr(amp + 1);
    auto eq = pair.find('=');
    auto name = pair.substr(0, eq);
    // Names are compared decoded, values returned decoded.
    if (name == key || percent_decode(name) == key)
      return eq == std::string_view::npos ? std::string{}
                                          : percent_decode(pair.substr(eq + 1));
  }
  return std::nullopt;
}

} // namespace parley::net
