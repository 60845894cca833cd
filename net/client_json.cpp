#include "net/client_json.hpp"

#include <nlohmann/json.hpp>

namespace parley::net {

bool json_too_deep(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i; // the escaped character cannot end the string
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_json_depth)
        return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

nlohmann::json parse_client_json(std::string_view text) {
  if (json_too_deep(text))
    return nlohmann::json::value_t::discarded;
  return nlohmann::json::parse(text, nullptr, false);
}

} // namespace parley::net
