#pragma once

#include <string>

namespace parley {

// A random (version 4) UUID in its 36-character text form.
std::string make_uuid();

} // namespace parley
