#include "storage/pg_copy.hpp"

namespace parley::storage {

void append_copy_field(std::string& out, std::string_view x) {
  out.reserve(out.size() + x.size());
  for (auto c : x) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
}

void append_copy_field(std::string& out, std::int64_t x) {
  out += std::to_string(x);
}

} // namespace parley::storage
