#include "net/image_data.hpp"

#include <array>
#include <cstdint>

#include "auth/base64url.hpp"
#include "net/ascii.hpp"

namespace parley::net {

namespace {

// The type the first bytes show, or "" for anything else.
std::string_view sniff(const unsigned char* p, std::size_t n) {
  auto starts = [&](std::string_view magic, std::size_t at = 0) {
    if (n < at + magic.size())
      return false;
    for (std::size_t i = 0; i < magic.size(); ++i)
      if (p[at + i] != static_cast<unsigned char>(magic[i]))
        return false;
    return true;
  };
  if (starts("\x89PNG\r\n\x1a\n"))
    return "image/png";
  if (starts("\xff\xd8\xff"))
    return "image/jpeg";
  if (starts("GIF87a") || starts("GIF89a"))
    return "image/gif";
  if (starts("RIFF") && starts("WEBP", 8))
    return "image/webp";
  return {};
}

image_data refuse(unsigned status, std::string error) {
  image_data x;
  x.status = status;
  x.error = std::move(error);
  return x;
}

} // namespace

image_data check_image(std::string_view text, std::size_t max_bytes) {
  constexpr std::string_view data = "data:";
  if (text.size() >= data.size() && iequals(text.substr(0, 5), data)) {
    auto comma = text.find(',');
    if (comma == std::string_view::npos)
      return refuse(400, "base64_image: a data: URL needs a comma");
    auto header = text.substr(0, comma);
    constexpr std::string_view b64 = ";base64";
    if (header.size() < b64.size()
        || !iequals(header.substr(header.size() - b64.size()), b64))
      return refuse(400, "base64_image: the data: URL must be base64");
    text.remove_prefix(comma + 1);
  }
  auto body = text;
  while (!body.empty() && body.back() == '=')
    body.remove_suffix(1);
  if (text.size() - body.size() > 2 || body.size() % 4 == 1
      || (body.size() != text.size() && text.size() % 4 != 0))
    return refuse(400, "base64_image is not valid base64");
  if (body.size() / 4 * 3 + (body.size() % 4 == 0 ? 0 : body.size() % 4 - 1)
      > max_bytes)
    return refuse(413, "base64_image is larger than "
                           + std::to_string(max_bytes) + " bytes");
  // Every character is checked; only the first bytes are decoded, to tell
  // the type.
  std::array<unsigned char, 12> head{};
  std::size_t decoded = 0;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : body) {
    auto v = auth::base64_sextet(c, false);
    if (v < 0)
      return refuse(400, "base64_image is not valid base64");
    if (decoded == head.size())
      continue;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      head[decoded++] = static_cast<unsigned char>((acc >> bits) & 0xff);
    }
  }
  auto type = sniff(head.data(), decoded);
  if (type.empty())
    return refuse(400, "base64_image must be a PNG, JPEG, GIF or WebP image");
  image_data x;
  x.data_url.reserve(type.size() + 13 + text.size());
  x.data_url.append("data:").append(type).append(";base64,").append(text);
  return x;
}

} // namespace parley::net
