#include "net/title_field.hpp"

#include <cstddef>

#include <nlohmann/json.hpp>

#include "storage/text_check.hpp"

namespace parley::net {

namespace {

// Bytes of UTF-8; a title is a label, not a document.
constexpr std::size_t max_title = 200;

} // namespace

const char* read_title(const nlohmann::json& body, std::string& title) {
  if (!body.is_object())
    return nullptr;
  auto it = body.find("title");
  if (it == body.end() || it->is_null())
    return nullptr;
  if (!it->is_string())
    return "title must be a string";
  title = it->get<std::string>();
  if (title.size() > max_title)
    return "title is too long";
  if (!storage::storable_text(title))
    return "title must not contain NUL characters";
  return nullptr;
}

} // namespace parley::net
