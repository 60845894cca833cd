#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

namespace parley::net {

// The optional "title" of a request that creates a chat room (seed 001) or
// a conversation (seed 000): absent or null leaves `title` as it is.
// Returns the text of the 400 answer, or nullptr when the field is fine.
const char* read_title(const nlohmann::json& body, std::string& title);

} // namespace parley::net
