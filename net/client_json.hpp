#pragma once

// JSON from clients. nlohmann parses without recursion, but writing a
// document back (dump) and copying it recurse once per level: a body of a
// few kilobytes nested thousands of levels deep would overflow a thread's
// stack. Documents deeper than any chat client sends are refused at the
// door.

#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace parley::net {

inline constexpr int max_json_depth = 64;

// The error text for a document nested deeper than max_json_depth.
inline constexpr const char* json_too_deep_text
    = "JSON is nested more than 64 levels deep";

// Whether `text` opens more than max_json_depth arrays and objects inside
// each other (brackets inside strings do not count).
bool json_too_deep(std::string_view text);

// nlohmann::json::parse without exceptions: a discarded value when `text`
// is not JSON or is nested too deeply.
nlohmann::json parse_client_json(std::string_view text);

} // namespace parley::net
