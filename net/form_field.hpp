#pragma once

// One field of a request body, whichever way a browser or client sent it:
// multipart/form-data, application/x-www-form-urlencoded or a JSON object
// (seed 001's controller reads `message` with Hono's parseBody).

#include <optional>
#include <string>
#include <string_view>

namespace parley::net {

// The text value of field `name`; nullopt when the body has no such field
// (or it is not a string, in JSON), or when the body is malformed.
std::optional<std::string> form_field(std::string_view content_type,
                                      std::string_view body,
                                      std::string_view name);

} // namespace parley::net
