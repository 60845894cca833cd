#pragma once

#include <string>

namespace parley {

// A random (version 4) UUID in its 36-character text form.
std::string make_uuid();

// A time-ordered (version 7, RFC 9562) UUID: the Unix time in milliseconds,
// then 74 random bits. For message ids: rows stored one after another then
// append to the id index instead of dirtying a random page each, which was
// most of what a batch of SQLite inserts wrote. Session and visitor ids stay
// version 4: they are the only key to a visitor's session.
std::string make_ordered_uuid();

} // namespace parley
