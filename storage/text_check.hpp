#pragma once

#include <string_view>

#include "storage/records.hpp"

namespace parley::storage {

// Whether `x` can be stored as text by every backend: well-formed UTF-8
// (RFC 3629: no overlong forms, surrogates or code points past U+10FFFF)
// without NUL characters, which PostgreSQL's text type cannot hold.
bool storable_text(std::string_view x);

// Throw invalid_input naming the record, field and offending byte offset,
// e.g. "invalid message: content is not valid UTF-8 (byte 7)".
void check_text(const session_record& x);
void check_text(const message_record& x);

} // namespace parley::storage
