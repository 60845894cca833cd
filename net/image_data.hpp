#pragma once

// Images that signed-in users attach to a message (seed 000's
// `base64_image`): base64 with or without a data: URL prefix. The type comes
// from the bytes, never from what the client claims.

#include <cstddef>
#include <string>
#include <string_view>

namespace parley::net {

struct image_data {
  unsigned status = 0;  // 0: accepted; else 400 or 413
  std::string error;    // why not
  std::string data_url; // accepted: "data:image/png;base64,..."
};

// Checks base64 image text: the standard alphabet, padding optional but only
// at the end, at most `max_bytes` once decoded, and a PNG, JPEG, GIF or
// WebP by its magic bytes. A data: prefix must say base64; the type it names
// is replaced by the one the bytes show.
image_data check_image(std::string_view text, std::size_t max_bytes);

} // namespace parley::net
