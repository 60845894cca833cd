#pragma once

// The three signature checks parley accepts, each a thin call into OpenSSL.
// Which one applies is decided by the caller from the configured key, never
// from the token alone (see jwt.cpp).

#include <string>
#include <string_view>

struct evp_pkey_st;

namespace parley::auth {

// HMAC-SHA256 of `data` under `key` (32 bytes).
std::string hmac_sha256(std::string_view key, std::string_view data);

// Whether `mac` is the HMAC-SHA256 of `data` under `key`. Compares in
// constant time (CRYPTO_memcmp) so that timing reveals nothing about how
// many leading bytes of a forged MAC were right.
bool verify_hs256(std::string_view key, std::string_view data,
                  std::string_view mac);

// RSASSA-PKCS1-v1_5 with SHA-256 under an RSA public key.
bool verify_rs256(evp_pkey_st* key, std::string_view data,
                  std::string_view signature);

// ECDSA P-256 with SHA-256. JWS carries the signature as raw r || s (64
// bytes, RFC 7518 3.4); OpenSSL wants DER, so it is converted first. Any
// other length is rejected.
bool verify_es256(evp_pkey_st* key, std::string_view data,
                  std::string_view signature);

} // namespace parley::auth
