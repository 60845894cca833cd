#pragma once

// Public keys from a JSON Web Key Set (RFC 7517), turned into OpenSSL keys.
// Only what RS256 and ES256 need: RSA (n, e) and EC P-256 (x, y).

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

// OpenSSL's EVP_PKEY, declared here so that this header does not pull in
// OpenSSL for every dialect that includes the authenticator.
struct evp_pkey_st;

namespace parley::auth {

enum class key_type {
  rsa,     // verifies RS256 only
  ec_p256, // verifies ES256 only
};

// One verification key. Immutable once built; shared between threads.
struct jwk {
  std::string kid; // empty when the JWKS entry has none
  key_type type = key_type::rsa;
  std::shared_ptr<evp_pkey_st> pkey;
};

// RSA keys below this size are refused: they no longer protect anything.
constexpr int min_rsa_bits = 2048;

// Builds a key from one JWKS entry. On failure returns nullptr and sets
// `why`. Entries meant for something else (use "enc", an alg other than
// RS256 / ES256, another kty or curve) fail too: a key is only ever accepted
// for the one algorithm it was published for.
std::shared_ptr<const jwk> jwk_from_json(const nlohmann::json& entry,
                                         std::string& why);

// The keys of one JWKS document. Immutable: a refresh builds a new set.
class jwk_set {
public:
  jwk_set() = default;

  explicit jwk_set(std::vector<std::shared_ptr<const jwk>> keys);

  // The key with this kid, or nullptr.
  const jwk* find(std::string_view kid) const;

  // The only key of the set, or nullptr when there are none or several.
  // Used for tokens without kid: guessing among several keys is refused.
  const jwk* only() const;

  std::size_t size() const noexcept {
    return keys_.size();
  }

  const std::vector<std::shared_ptr<const jwk>>& keys() const noexcept {
    return keys_;
  }

private:
  std::vector<std::shared_ptr<const jwk>> keys_;
};

struct jwks_parse_result {
  std::shared_ptr<const jwk_set> keys; // nullptr when `error` is set
  std::string error;                   // the document as a whole is unusable
  std::vector<std::string> skipped;    // one line per entry left out
};

// Parses a JWKS document ({"keys":[...]}). Entries that cannot be used are
// skipped (and listed) rather than failing the whole set, as issuers publish
// encryption keys and newer key types next to their signing keys. A repeated
// kid keeps its first entry: a later duplicate could otherwise shadow it.
jwks_parse_result parse_jwks(std::string_view text);

} // namespace parley::auth
