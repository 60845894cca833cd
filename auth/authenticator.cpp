#include "auth/authenticator.hpp"

#include <cctype>

namespace parley::auth {

namespace {

authenticator::config config_of(const settings& cfg) {
  authenticator::config result;
  result.jwt_secret = cfg.jwt_secret;
  result.jwks_url = cfg.jwks_url;
  result.rules.issuer = cfg.jwt_issuer;
  result.rules.audience = cfg.jwt_audience;
  return result;
}

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view x) {
  while (!x.empty() && is_space(x.front()))
    x.remove_prefix(1);
  while (!x.empty() && is_space(x.back()))
    x.remove_suffix(1);
  return x;
}

bool iequals(std::string_view x, std::string_view y) {
  if (x.size() != y.size())
    return false;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(x[i]))
        != std::tolower(static_cast<unsigned char>(y[i])))
      return false;
  return true;
}

} // namespace

authenticator::authenticator(const settings& cfg)
    : authenticator(config_of(cfg)) {
  // nop
}

authenticator::authenticator(config cfg)
    : secret_(std::move(cfg.jwt_secret)), rules_(std::move(cfg.rules)) {
  if (!cfg.jwks_url.empty())
    jwks_ = std::make_unique<jwks_cache>(std::move(cfg.jwks_url),
                                         std::move(cfg.jwks));
}

authenticator::~authenticator() {
  // Join the worker while every member is still alive (see jwks_).
  if (jwks_)
    jwks_->stop();
}

bool authenticator::configured() const noexcept {
  return !secret_.empty() || jwks_ != nullptr;
}

std::string authenticator::summary() const {
  if (!configured())
    return not_configured_text;
  std::string result = "JWT authentication:";
  if (!secret_.empty())
    result += " HS256 (PARLEY_JWT_SECRET)";
  if (jwks_)
    result += std::string{secret_.empty() ? "" : ","} + " RS256/ES256 (JWKS "
              + redact_url(jwks_->url()) + ")";
  if (!rules_.issuer.empty())
    result += "; issuer " + rules_.issuer;
  if (!rules_.audience.empty())
    result += "; audience " + rules_.audience;
  return result;
}

std::string authenticator::preload() {
  return jwks_ ? jwks_->refresh() : std::string{};
}

verify_result authenticator::verify(std::string_view token) const {
  return verify(token, std::chrono::system_clock::now());
}

verify_result
authenticator::verify(std::string_view token,
                      std::chrono::system_clock::time_point now) const {
  auto result = check(token, now);
  // The issuer may have rotated its keys: fetch them for the next attempt.
  if (!result && result.error() == jwt_error::unknown_key && jwks_)
    jwks_->refresh_async(nullptr);
  return result;
}

void authenticator::verify_async(std::string token, callback done) const {
  auto result = check(token, std::chrono::system_clock::now());
  if (!result && result.error() == jwt_error::unknown_key && jwks_) {
    auto retry = [this, token, done](const std::string&) {
      done(check(token, std::chrono::system_clock::now()));
    };
    if (jwks_->refresh_async(retry))
      return;
    // Refused as too soon, maybe because a refresh completed since our
    // snapshot: check against the keys as they are now.
    result = check(token, std::chrono::system_clock::now());
  }
  done(std::move(result));
}

verify_result
authenticator::check(std::string_view token,
                     std::chrono::system_clock::time_point now) const {
  if (!configured())
    return {jwt_error::not_configured, not_configured_text};
  // Hold the snapshot for the whole check: a refresh may swap keys meanwhile.
  auto keys = jwks_ ? jwks_->keys() : nullptr;
  return verify_jwt(token, key_ring{secret_, keys.get()}, rules_, now);
}

std::string token_from(std::string_view authorization,
                       std::string_view query_token) {
  auto header = trim(authorization);
  constexpr std::string_view scheme = "bearer";
  if (header.size() > scheme.size()
      && iequals(header.substr(0, scheme.size()), scheme)
      && is_space(header[scheme.size()])) {
    auto token = trim(header.substr(scheme.size()));
    if (!token.empty())
      return std::string{token};
  }
  return std::string{trim(query_token)};
}

} // namespace parley::auth
