#pragma once

// The one object every signed-in dialect asks "who is this?". Built from
// settings at start-up, shared by all io threads.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "auth/jwks.hpp"
#include "auth/jwt.hpp"
#include "config/settings.hpp"

namespace parley::auth {

// What verify() answers, and start-up prints, when neither key is set.
constexpr const char* not_configured_text
    = "authentication is not configured (set PARLEY_JWT_SECRET or "
      "PARLEY_JWKS_URL)";

class authenticator {
public:
  struct config {
    std::string jwt_secret; // PARLEY_JWT_SECRET; empty: no HS256
    std::string jwks_url;   // PARLEY_JWKS_URL; empty: no RS256 / ES256
    claim_rules rules;      // PARLEY_JWT_ISSUER, PARLEY_JWT_AUDIENCE
    jwks_cache::options jwks;
  };

  using callback = std::function<void(verify_result)>;

  explicit authenticator(const settings& cfg);

  explicit authenticator(config cfg);

  authenticator(const authenticator&) = delete;

  authenticator& operator=(const authenticator&) = delete;

  ~authenticator();

  // Whether any key is configured; without one every verify() fails.
  bool configured() const noexcept;

  // One line for the start-up log: which algorithms are accepted and the
  // checked claims, or not_configured_text. Never shows the secret.
  std::string summary() const;

  // BLOCKING first JWKS load (file read or HTTP request). Call it once at
  // start-up, before serving; returns "" on success or without a JWKS URL.
  // On failure verification still works for HS256, and the JWKS is fetched
  // again (rate limited) as RS256 / ES256 tokens arrive.
  std::string preload();

  // Verifies a token now. Never blocks on the network, so io threads may
  // call it: a kid the cached JWKS lacks answers unknown_key at once and
  // starts a background refresh (rate limited) for the next attempt.
  verify_result verify(std::string_view token) const;

  // The same at a given time (tests).
  verify_result verify(std::string_view token,
                       std::chrono::system_clock::time_point now) const;

  // Like verify(), but a token with a kid the cache lacks waits for a JWKS
  // refresh (when one is allowed or under way) and is checked again after
  // it; `done` then runs on the JWKS worker thread. In every other case
  // `done` runs right here, before verify_async returns. Callers on an io
  // thread or in an actor must hand the result back to their own strand /
  // actor, not act on it in `done`.
  void verify_async(std::string token, callback done) const;

  // The JWKS cache, or nullptr without PARLEY_JWKS_URL.
  jwks_cache* jwks() const noexcept {
    return jwks_.get();
  }

private:
  // verify() without the background refresh.
  verify_result check(std::string_view token,
                      std::chrono::system_clock::time_point now) const;

  const std::string secret_;
  const claim_rules rules_;
  // Declared last so that it is destroyed first: its worker thread may
  // still run verify_async callbacks that read the members above.
  std::unique_ptr<jwks_cache> jwks_;
};

// The token of a request: the `Authorization: Bearer <token>` header (the
// scheme is case-insensitive) when there is one, else the `?token=` query
// value (already percent-decoded). Empty when neither holds a token.
std::string token_from(std::string_view authorization,
                       std::string_view query_token);

} // namespace parley::auth
