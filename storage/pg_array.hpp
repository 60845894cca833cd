#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace parley::storage {

// A batch goes to PostgreSQL as one array parameter per column, unpacked by
// unnest() in a single prepared statement: one round trip for any number of
// rows, and values never become part of the SQL text.

// Appends one element in array-literal syntax. Text is always quoted, with
// '"' and '\' escaped; nothing else needs escaping inside quotes.
void append_array_element(std::string& out, std::string_view x);
void append_array_element(std::string& out, std::int64_t x);
void append_array_element(std::string& out, bool x);

// The array literal of field(*row) for every row, e.g. {"a","b\"c"}.
template <class Row, class Field>
std::string pg_array(const std::vector<const Row*>& rows, Field field) {
  std::string out;
  out.reserve(2 + rows.size() * 8);
  out += '{';
  bool first = true;
  for (auto* row : rows) {
    if (!first)
      out += ',';
    first = false;
    append_array_element(out, field(*row));
  }
  out += '}';
  return out;
}

} // namespace parley::storage
