#include "auth/jwt.hpp"

#include <cmath>

#include "auth/base64url.hpp"
#include "auth/jwk.hpp"
#include "auth/signature.hpp"

namespace parley::auth {

namespace {

using json = nlohmann::json;

jwt_failure fail(jwt_error code, std::string text) {
  return {code, std::move(text)};
}

// `x` as a JSON string: token-supplied text in an error line can then hold
// no control characters or broken UTF-8.
std::string quoted(const std::string& x) {
  return json(x).dump(-1, ' ', false, json::error_handler_t::replace);
}

// A token split and decoded; the signature is not checked yet.
struct parsed_token {
  json header;
  json payload;
  std::string_view signing_input; // "header.payload" exactly as sent
  std::string signature;          // decoded bytes
  std::string alg;
  std::string kid; // empty when the header has none
  bool has_kid = false;
};

// Decodes one part into a JSON object.
std::optional<json> decode_object(std::string_view part, const char* what,
                                  std::optional<jwt_failure>& error) {
  auto text = base64url_decode(part);
  if (!text) {
    error = fail(jwt_error::malformed,
                 std::string{what} + " is not valid base64url");
    return std::nullopt;
  }
  auto x = json::parse(*text, nullptr, false);
  if (x.is_discarded()) {
    error = fail(jwt_error::malformed, std::string{what} + " is not JSON");
    return std::nullopt;
  }
  if (!x.is_object()) {
    error = fail(jwt_error::malformed,
                 std::string{what} + " is not a JSON object");
    return std::nullopt;
  }
  return x;
}

std::optional<jwt_failure> parse(std::string_view token, parsed_token& out) {
  if (token.empty())
    return fail(jwt_error::malformed,
                "no token (send Authorization: Bearer <token> or ?token=)");
  if (token.size() > max_token_size)
    return fail(jwt_error::malformed, "token is too long");
  auto dot1 = token.find('.');
  auto dot2 = dot1 == token.npos ? token.npos : token.find('.', dot1 + 1);
  if (dot2 == token.npos || token.find('.', dot2 + 1) != token.npos)
    return fail(jwt_error::malformed, "token is not three dot-separated parts");
  std::optional<jwt_failure> error;
  auto header = decode_object(token.substr(0, dot1), "header", error);
  if (!header)
    return error;
  auto payload = decode_object(token.substr(dot1 + 1, dot2 - dot1 - 1),
                               "payload", error);
  if (!payload)
    return error;
  auto signature = base64url_decode(token.substr(dot2 + 1));
  if (!signature)
    return fail(jwt_error::malformed, "signature is not valid base64url");
  out.header = std::move(*header);
  out.payload = std::move(*payload);
  out.signing_input = token.substr(0, dot2);
  out.signature = std::move(*signature);
  auto alg = out.header.find("alg");
  if (alg == out.header.end() || !alg->is_string())
    return fail(jwt_error::malformed, "header has no alg");
  out.alg = alg->get<std::string>();
  if (auto kid = out.header.find("kid"); kid != out.header.end()) {
    if (!kid->is_string() || kid->get_ref<const std::string&>().empty())
      return fail(jwt_error::malformed, "kid is not a non-empty string");
    out.kid = kid->get<std::string>();
    out.has_kid = true;
  }
  // RFC 7515 4.1.11: extensions listed in crit must be understood, and we
  // understand none (e.g. "b64":false would change what is signed).
  if (out.header.contains("crit"))
    return fail(jwt_error::malformed, "crit header parameters are unsupported");
  return std::nullopt;
}

// Finds the JWKS key for the token, of the type its alg needs.
std::optional<jwt_failure> find_jwks_key(const parsed_token& t,
                                         const jwk_set* keys, key_type wanted,
                                         const jwk*& out) {
  if (keys == nullptr)
    return fail(jwt_error::unsupported_alg,
                t.alg + " tokens need PARLEY_JWKS_URL, which is not set");
  if (t.has_kid) {
    out = keys->find(t.kid);
    if (out == nullptr)
      return fail(jwt_error::unknown_key,
                  "no JWKS key with kid " + quoted(t.kid));
  } else {
    out = keys->only();
    if (out == nullptr)
      return fail(jwt_error::unknown_key, "token has no kid and the JWKS holds "
                                              + std::to_string(keys->size())
                                              + " keys");
  }
  // A key serves the one algorithm it was published for.
  if (out->type != wanted)
    return fail(jwt_error::unsupported_alg,
                t.alg + " does not match the type of the JWKS key "
                    + quoted(out->kid));
  return std::nullopt;
}

std::optional<jwt_failure> check_signature(const parsed_token& t,
                                           const key_ring& keys) {
  bool valid = false;
  if (t.alg == "HS256") {
    if (keys.hs256_secret.empty())
      return fail(jwt_error::unsupported_alg,
                  "HS256 tokens need PARLEY_JWT_SECRET, which is not set");
    valid = verify_hs256(keys.hs256_secret, t.signing_input, t.signature);
  } else if (t.alg == "RS256" || t.alg == "ES256") {
    auto wanted = t.alg == "RS256" ? key_type::rsa : key_type::ec_p256;
    const jwk* key = nullptr;
    if (auto error = find_jwks_key(t, keys.jwks, wanted, key))
      return error;
    valid = wanted == key_type::rsa
                ? verify_rs256(key->pkey.get(), t.signing_input, t.signature)
                : verify_es256(key->pkey.get(), t.signing_input, t.signature);
  } else {
    // Everything else, "none" included, is refused by name.
    return fail(jwt_error::unsupported_alg,
                "alg " + quoted(t.alg) + " is not accepted");
  }
  if (!valid)
    return fail(jwt_error::bad_signature, "signature does not match");
  return std::nullopt;
}

// Reads a NumericDate claim (seconds since the epoch, maybe fractional).
std::optional<jwt_failure> numeric_date(const json& payload, const char* name,
                                        std::optional<double>& out) {
  auto i = payload.find(name);
  if (i == payload.end())
    return std::nullopt;
  if (!i->is_number())
    return fail(jwt_error::malformed, std::string{name} + " is not a number");
  out = i->get<double>();
  return std::nullopt;
}

std::string seconds_text(double x) {
  // A date like 1e308 is a valid number; its distance in seconds is not a
  // long long (casting it would be undefined).
  constexpr double most = 1e15; // some 30 million years
  if (!(std::abs(x) < most))
    return "more than 1e15 s";
  return std::to_string(static_cast<long long>(std::ceil(x))) + " s";
}

std::optional<jwt_failure>
check_times(const json& payload, const claim_rules& rules,
            std::chrono::system_clock::time_point now) {
  std::optional<double> exp;
  std::optional<double> nbf;
  if (auto error = numeric_date(payload, "exp", exp))
    return error;
  if (auto error = numeric_date(payload, "nbf", nbf))
    return error;
  using seconds = std::chrono::duration<double>;
  auto t = std::chrono::duration_cast<seconds>(now.time_since_epoch()).count();
  auto leeway = static_cast<double>(rules.leeway.count());
  if (!exp && rules.require_exp)
    return fail(jwt_error::malformed, "token has no exp");
  // RFC 7519 4.1.4: the token must not be accepted on or after exp.
  if (exp && t >= *exp + leeway)
    return fail(jwt_error::expired,
                "token expired " + seconds_text(t - *exp) + " ago");
  if (nbf && t + leeway < *nbf)
    return fail(jwt_error::not_yet_valid,
                "token is not valid for another " + seconds_text(*nbf - t));
  return std::nullopt;
}

std::optional<jwt_failure> check_parties(const json& payload,
                                         const claim_rules& rules) {
  if (!rules.issuer.empty()) {
    auto iss = payload.find("iss");
    if (iss == payload.end() || !iss->is_string()
        || iss->get_ref<const std::string&>() != rules.issuer)
      return fail(jwt_error::wrong_issuer,
                  "token is not from the issuer " + quoted(rules.issuer));
  }
  if (!rules.audience.empty()) {
    // RFC 7519 4.1.3: aud is one string or an array of them.
    bool found = false;
    if (auto aud = payload.find("aud"); aud != payload.end()) {
      if (aud->is_string())
        found = aud->get_ref<const std::string&>() == rules.audience;
      else if (aud->is_array())
        for (auto& x : *aud)
          found = found
                  || (x.is_string()
                      && x.get_ref<const std::string&>() == rules.audience);
    }
    if (!found)
      return fail(jwt_error::wrong_audience,
                  "token is not meant for " + quoted(rules.audience));
  }
  return std::nullopt;
}

std::string text_claim(const json& payload, const char* name) {
  auto i = payload.find(name);
  return i != payload.end() && i->is_string() ? i->get<std::string>() : "";
}

} // namespace

std::string to_string(jwt_error x) {
  switch (x) {
  case jwt_error::malformed:
    return "malformed";
  case jwt_error::bad_signature:
    return "bad_signature";
  case jwt_error::expired:
    return "expired";
  case jwt_error::not_yet_valid:
    return "not_yet_valid";
  case jwt_error::wrong_issuer:
    return "wrong_issuer";
  case jwt_error::wrong_audience:
    return "wrong_audience";
  case jwt_error::unknown_key:
    return "unknown_key";
  case jwt_error::unsupported_alg:
    return "unsupported_alg";
  case jwt_error::not_configured:
    return "not_configured";
  }
  return "unknown";
}

verify_result verify_jwt(std::string_view token, const key_ring& keys,
                         const claim_rules& rules,
                         std::chrono::system_clock::time_point now) {
  parsed_token t;
  if (auto error = parse(token, t))
    return *error;
  if (auto error = check_signature(t, keys))
    return *error;
  if (auto error = check_times(t.payload, rules, now))
    return *error;
  if (auto error = check_parties(t.payload, rules))
    return *error;
  claims result;
  result.sub = text_claim(t.payload, "sub");
  if (result.sub.empty())
    return jwt_failure{jwt_error::malformed, "token has no sub"};
  result.name = text_claim(t.payload, "name");
  result.email = text_claim(t.payload, "email");
  result.raw = std::move(t.payload);
  return result;
}

std::string mint_hs256(std::string_view secret, const nlohmann::json& claims) {
  static const std::string header
      = base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
  auto input = header + "." + base64url_encode(claims.dump());
  return input + "." + base64url_encode(hmac_sha256(secret, input));
}

} // namespace parley::auth
