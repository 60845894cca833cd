#pragma once

// Verification of compact JWS tokens (RFC 7515 / 7519) for parley's users.
//
// The algorithm follows from the key that is configured, never from the
// token alone: HS256 needs the shared secret, RS256 an RSA key and ES256 an
// EC P-256 key from the JWKS, each found by the token's kid. So "alg":"none"
// and the classic confusion (an HS256 token whose HMAC key is the issuer's
// public key) have nothing to verify against and fail.

#include <chrono>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace parley::auth {

class jwk_set;

enum class jwt_error {
  malformed,       // not three base64url parts of JSON objects, bad claims
  bad_signature,   // the signature does not match
  expired,         // exp is past (beyond the leeway)
  not_yet_valid,   // nbf is ahead (beyond the leeway)
  wrong_issuer,    // iss differs from PARLEY_JWT_ISSUER
  wrong_audience,  // aud does not name PARLEY_JWT_AUDIENCE
  unknown_key,     // no JWKS key for this kid (or no kid and several keys)
  unsupported_alg, // alg not allowed, or no key of that kind configured
  not_configured,  // neither PARLEY_JWT_SECRET nor PARLEY_JWKS_URL is set
};

// "malformed", "bad_signature", ...: stable names for logs and tests.
std::string to_string(jwt_error x);

// What the dialects need to know about the caller.
struct claims {
  std::string sub;    // the user id; always non-empty
  std::string name;   // empty when absent
  std::string email;  // empty when absent
  nlohmann::json raw; // the whole payload, for anything else
};

struct jwt_failure {
  jwt_error code;
  std::string text; // one line for logs and 401 bodies; never holds secrets
};

// The claims of a valid token or why it was refused.
class verify_result {
public:
  verify_result(claims x) : value_(std::move(x)) {
    // nop
  }

  verify_result(jwt_failure x) : value_(std::move(x)) {
    // nop
  }

  verify_result(jwt_error code, std::string text)
      : value_(jwt_failure{code, std::move(text)}) {
    // nop
  }

  bool ok() const noexcept {
    return value_.index() == 0;
  }

  explicit operator bool() const noexcept {
    return ok();
  }

  // Precondition: ok().
  const claims& value() const& {
    return std::get<claims>(value_);
  }

  // Precondition: ok(). Moves out of a temporary instead of dangling.
  claims value() && {
    return std::get<claims>(std::move(value_));
  }

  // Precondition: !ok().
  jwt_error error() const {
    return std::get<jwt_failure>(value_).code;
  }

  // Precondition: !ok().
  const std::string& text() const& {
    return std::get<jwt_failure>(value_).text;
  }

  // Precondition: !ok().
  std::string text() && {
    return std::get<jwt_failure>(std::move(value_)).text;
  }

private:
  std::variant<claims, jwt_failure> value_;
};

// The keys a token may be verified with. Either may be absent.
struct key_ring {
  std::string_view hs256_secret; // empty: HS256 tokens are refused
  const jwk_set* jwks = nullptr; // nullptr: RS256 / ES256 are refused
};

// Which claims must hold besides the signature.
struct claim_rules {
  std::string issuer;   // empty: iss is not checked
  std::string audience; // empty: aud is not checked
  // Tolerated clock skew between the issuer and us, for exp and nbf.
  std::chrono::seconds leeway{30};
  // A token without exp would be valid forever; refuse it unless told not to.
  bool require_exp = true;
};

// Longest token accepted: far above real ones, it bounds the work an
// unauthenticated client can ask for.
constexpr std::size_t max_token_size = 16 * 1024;

// Verifies `token` at time `now`. Pure: no I/O, no locks, safe from any
// thread. Checks, in order: form, alg, key, signature, then exp, nbf, iss,
// aud and sub; so a forged token is reported as such even when also expired.
verify_result verify_jwt(std::string_view token, const key_ring& keys,
                         const claim_rules& rules,
                         std::chrono::system_clock::time_point now);

// Signs `claims` (a JSON object) as an HS256 token. For `parley token` and
// tests; production tokens come from the issuer. Throws
// nlohmann::json::type_error when a claim holds invalid UTF-8.
std::string mint_hs256(std::string_view secret, const nlohmann::json& claims);

} // namespace parley::auth
