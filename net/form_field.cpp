#include "net/form_field.hpp"

#include <nlohmann/json.hpp>

#include "net/ascii.hpp"
#include "net/client_json.hpp"
#include "net/query.hpp"

namespace parley::net {

namespace {

// The media type ("multipart/form-data") and one parameter's value of a
// header such as Content-Type or Content-Disposition.
std::string_view media_type(std::string_view header) {
  return trim(header.substr(0, header.find(';')));
}

std::optional<std::string> header_param(std::string_view header,
                                        std::string_view key) {
  auto pos = header.find(';');
  while (pos != std::string_view::npos) {
    auto next = header.find(';', pos + 1);
    auto part = trim(header.substr(pos + 1, next == std::string_view::npos
                                                ? std::string_view::npos
                                                : next - pos - 1));
    auto eq = part.find('=');
    if (eq != std::string_view::npos
        && iequals(trim(part.substr(0, eq)), key)) {
      auto value = trim(part.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      return std::string{value};
    }
    pos = next;
  }
  return std::nullopt;
}

std::optional<std::string> multipart_field(std::string_view content_type,
                                           std::string_view body,
                                           std::string_view name) {
  auto boundary = header_param(content_type, "boundary");
  if (!boundary || boundary->empty() || boundary->size() > 200)
    return std::nullopt;
  std::string delim = "--" + *boundary;
  auto pos = body.find(delim);
  while (pos != std::string_view::npos) {
    pos += delim.size();
    if (body.substr(pos, 2) == "--")
      return std::nullopt; // the closing delimiter
    auto headers_start = body.find("\r\n", pos);
    if (headers_start == std::string_view::npos)
      return std::nullopt;
    headers_start += 2;
    auto headers_end = body.find("\r\n\r\n", headers_start);
    if (headers_end == std::string_view::npos)
      return std::nullopt;
    auto data_start = headers_end + 4;
    auto next = body.find("\r\n" + delim, data_start);
    if (next == std::string_view::npos)
      return std::nullopt;
    auto headers = body.substr(headers_start, headers_end - headers_start);
    // Content-Disposition: form-data; name="message" (files are skipped).
    std::size_t line_start = 0;
    while (line_start <= headers.size()) {
      auto line_end = headers.find("\r\n", line_start);
      auto line = headers.substr(line_start, line_end == std::string_view::npos
                                                 ? std::string_view::npos
                                                 : line_end - line_start);
      auto colon = line.find(':');
      if (colon != std::string_view::npos
          && iequals(trim(line.substr(0, colon)), "content-disposition")) {
        auto value = line.substr(colon + 1);
        if (header_param(value, "name") == std::string{name}
            && !header_param(value, "filename"))
          return std::string{body.substr(data_start, next - data_start)};
      }
      if (line_end == std::string_view::npos)
        break;
      line_start = line_end + 2;
    }
    pos = next + 2;
  }
  return std::nullopt;
}

} // namespace

std::optional<std::string> form_field(std::string_view content_type,
                                      std::string_view body,
                                      std::string_view name) {
  auto type = media_type(content_type);
  if (iequals(type, "multipart/form-data"))
    return multipart_field(content_type, body, name);
  if (iequals(type, "application/x-www-form-urlencoded"))
    return query_param(body, name);
  if (iequals(type, "application/json") || type.empty()) {
    auto doc = parse_client_json(body);
    if (!doc.is_object())
      return std::nullopt;
    auto it = doc.find(std::string{name});
    if (it == doc.end() || !it->is_string())
      return std::nullopt;
    return it->get<std::string>();
  }
  return std::nullopt;
}

} // namespace parley::net
