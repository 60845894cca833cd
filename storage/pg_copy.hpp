#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace parley::storage {

// Rows in COPY's text format: fields separated by tabs, rows by newlines.
// Escaping is ours, not libpqxx's: 6.4's stream_to mangles every byte above
// 0x7F (it writes them as broken octal escapes), so UTF-8 would not survive.

// Appends one field: backslash, tab, newline and carriage return escaped;
// every other byte, UTF-8 included, goes as it is. A field can never form
// the "\." end-of-data line, since a lone backslash is always doubled.
void append_copy_field(std::string& out, std::string_view x);
void append_copy_field(std::string& out, std::int64_t x);

} // namespace parley::storage
