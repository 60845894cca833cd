#pragma once

// Identifier checks shared by the REST routes and the visitor dialect.

#include <string>
#include <string_view>

namespace parley::net {

// True for a UUID in its canonical 8-4-4-4-12 hex form, in either case.
bool is_uuid(std::string_view s);

// The lowercase form of a UUID, so that "ABC..." finds the session stored as
// "abc..."; an empty string when `s` is not a UUID.
std::string canonical_uuid(std::string_view s);

} // namespace parley::net
