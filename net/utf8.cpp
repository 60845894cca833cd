#include "net/utf8.hpp"

namespace parley::net {

char32_t utf8_next(std::string_view s, std::size_t& i) {
  auto len = utf8_sequence_length(s.substr(i));
  auto b = [&](std::size_t k) {
    return static_cast<char32_t>(static_cast<unsigned char>(s[i + k]));
  };
  char32_t cp;
  switch (len) {
    case 1:
      cp = b(0);
      break;
    case 2:
      cp = ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
      break;
    case 3:
      cp = ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
      break;
    case 4:
      cp = ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6)
           | (b(3) & 0x3F);
      break;
    default:
      i += 1;
      return U'\uFFFD';
  }
  i += len;
  return cp;
}

bool is_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    auto n = utf8_sequence_length(s.substr(i));
    if (n == 0)
      return false;
    i += n;
  }
  return true;
}

} // namespace parley::net
