#define CAF_SUITE image_data
#include <caf/test/unit_test.hpp>

#include <random>
#include <string>

#include "net/image_data.hpp"
#include "storage/records.hpp"

using parley::net::check_image;
using parley::storage::split_data_url;

namespace {

// Base64 of `bytes` (the standard alphabet, with padding).
std::string b64(const std::string& bytes) {
  static const char* abc
      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    auto n = (unsigned char)bytes[i] << 16 | (unsigned char)bytes[i + 1] << 8
             | (unsigned char)bytes[i + 2];
    for (int s = 18; s >= 0; s -= 6)
      out += abc[(n >> s) & 63];
  }
  if (auto rest = bytes.size() - i; rest > 0) {
    auto n = (unsigned char)bytes[i] << 16
             | (rest == 2 ? (unsigned char)bytes[i + 1] << 8 : 0);
    out += abc[(n >> 18) & 63];
    out += abc[(n >> 12) & 63];
    out += rest == 2 ? abc[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + "rest of it";
const std::string jpeg = std::string("\xff\xd8\xff\xe0", 4) + "JFIF";
const std::string gif = "GIF89a....";
const std::string webp{"RIFF\x10\0\0\0WEBPVP8 ", 16};

} // namespace

CAF_TEST(the type comes from the magic bytes) {
  for (auto [bytes, type] :
       {std::pair{png, "image/png"}, std::pair{jpeg, "image/jpeg"},
        std::pair{gif, "image/gif"}, std::pair{webp, "image/webp"}}) {
    auto x = check_image(b64(bytes), 1000);
    CAF_CHECK_EQUAL(x.status, 0u);
    CAF_CHECK_EQUAL(x.data_url,
                    "data:" + std::string{type} + ";base64," + b64(bytes));
    auto parts = split_data_url(x.data_url);
    CAF_CHECK_EQUAL(parts.media_type, type);
    CAF_CHECK_EQUAL(parts.base64, b64(bytes));
  }
  // A prefix's claimed type yields to the bytes; its case does not matter.
  auto x = check_image("DATA:image/gif;BASE64," + b64(png), 1000);
  CAF_CHECK_EQUAL(x.data_url, "data:image/png;base64," + b64(png));
  // Padding may be left out.
  auto bare = b64(png);
  while (bare.back() == '=')
    bare.pop_back();
  CAF_CHECK_EQUAL(check_image(bare, 1000).status, 0u);
}

CAF_TEST(anything else is refused with 400 or 413) {
  CAF_CHECK_EQUAL(check_image(b64("<svg onload=alert(1)>"), 1000).status, 400u);
  CAF_CHECK_EQUAL(check_image(b64("%PDF-1.7"), 1000).status, 400u);
  CAF_CHECK_EQUAL(check_image("", 1000).status, 400u);
  CAF_CHECK_EQUAL(check_image("====", 1000).status, 400u);
  // Padding in the middle.
  CAF_CHECK_EQUAL(check_image(b64(jpeg) + "AAAA", 1000).status, 400u);
  CAF_CHECK_EQUAL(check_image(b64(png).substr(0, 5), 1000).status, 400u);
  CAF_CHECK_EQUAL(check_image("iVBO\nRw0K", 1000).status, 400u);
  CAF_CHECK_EQUAL(check_image("data:image/png," + b64(png), 1000).status, 400u);
  CAF_CHECK_EQUAL(check_image("data:image/png;base64" + b64(png), 1000).status,
                  400u);
  // Decoded size: 18 bytes pass a limit of 18 and not of 17.
  CAF_REQUIRE_EQUAL(png.size(), 18u);
  CAF_CHECK_EQUAL(check_image(b64(png), 18).status, 0u);
  auto big = check_image(b64(png), 17);
  CAF_CHECK_EQUAL(big.status, 413u);
  CAF_CHECK_EQUAL(big.error, "base64_image is larger than 17 bytes");
  CAF_CHECK(split_data_url("https://example.com/a.png").base64.empty());
}

CAF_TEST(random bytes never crash and pass only as an image) {
  std::mt19937 gen{7};
  std::uniform_int_distribution<int> byte{0, 255};
  for (int i = 0; i < 2000; ++i) {
    std::string s(static_cast<std::size_t>(byte(gen) % 40), '\0');
    for (auto& c : s)
      c = static_cast<char>(byte(gen));
    // As raw text and as base64 of the bytes.
    CAF_CHECK_NOT_EQUAL(check_image(s, 1000).status, 0u);
    auto x = check_image(b64(s), 1000);
    if (x.status == 0)
      CAF_CHECK(s.rfind("GIF8", 0) == 0 || s.rfind("\xff\xd8\xff", 0) == 0
                || s.rfind("\x89PNG", 0) == 0 || s.rfind("RIFF", 0) == 0);
  }
}
