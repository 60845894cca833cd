#include "storage/pg_array.hpp"

namespace parley::storage {

void append_array_element(std::string& out, std::string_view x) {
  out.reserve(out.size() + x.size() + 2);
  out += '"';
  for (auto c : x) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  out += '"';
}

void append_array_element(std::string& out, std::int64_t x) {
  out += std::to_string(x);
}

void append_array_element(std::string& out, bool x) {
  out += x ? 't' : 'f';
}

} // namespace parley::storage
