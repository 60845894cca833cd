#pragma once

// base64url without padding (RFC 7515 section 2), the encoding of every part
// of a compact JWS and of the numbers in a JWK.

#include <optional>
#include <string>
#include <string_view>

namespace parley::auth {

// The 6-bit value of `c` in the URL-safe alphabet ('-', '_'), or with
// `url` false in the standard one ('+', '/'); -1 for any other character.
int base64_sextet(char c, bool url = true);

// Encodes `bytes` with the URL-safe alphabet and no '=' padding.
std::string base64url_encode(std::string_view bytes);

// Decodes `text` strictly: only A-Z a-z 0-9 '-' '_', no padding, no
// whitespace, no impossible length, and unused trailing bits must be zero.
// Strictness gives every byte string exactly one accepted spelling, so a
// token cannot be altered in its encoding without changing what is signed.
// Returns nullopt on any violation.
std::optional<std::string> base64url_decode(std::string_view text);

} // namespace parley::auth
