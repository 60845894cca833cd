#define CAF_SUITE jwt
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "auth/base64url.hpp"
#include "auth/jwt.hpp"
#include "tools/jwt_test_keys.hpp"

using nlohmann::json;
using parley::auth::base64url_decode;
using parley::auth::base64url_encode;
using parley::auth::claim_rules;
using parley::auth::jwt_error;
using parley::auth::key_ring;
using parley::auth::mint_hs256;
using parley::auth::verify_jwt;
using parley::auth::verify_result;
using parley::test::b64;
using parley::test::hs256_token;

namespace {

const std::string secret = "test-secret-with-32-bytes-or-more!!";
constexpr std::int64_t t0 = 1700000000; // "now" in every test below
const auto now
    = std::chrono::system_clock::time_point{std::chrono::seconds{t0}};
const json hs_header = {{"alg", "HS256"}, {"typ", "JWT"}};

json alice(std::int64_t exp = t0 + 3600) {
  return {{"sub", "alice"},
          {"name", "Alice"},
          {"email", "alice@example.com"},
          {"iat", t0},
          {"exp", exp}};
}

verify_result check(const std::string& token, const claim_rules& rules = {},
                    std::string_view key = secret) {
  return verify_jwt(token, key_ring{key, nullptr}, rules, now);
}

// "ok" or the error's name, so that a failing check prints both sides.
std::string code(const verify_result& x) {
  return x ? "ok" : to_string(x.error());
}

std::string token(const json& payload, const json& header = hs_header) {
  return hs256_token(secret, header, payload);
}

// `t` with its part `index` (0, 1, 2) replaced.
std::string with_part(const std::string& t, int index, const std::string& x) {
  auto d1 = t.find('.');
  auto d2 = t.find('.', d1 + 1);
  std::string parts[]
      = {t.substr(0, d1), t.substr(d1 + 1, d2 - d1 - 1), t.substr(d2 + 1)};
  parts[index] = x;
  return parts[0] + "." + parts[1] + "." + parts[2];
}

// An HS256 token over arbitrary (not necessarily JSON) header bytes,
// correctly signed, so that only the header's form can make it fail.
std::string raw_header_token(const std::string& header_bytes) {
  auto input = base64url_encode(header_bytes) + "." + b64(alice());
  return input + "."
         + base64url_encode(parley::test::sign_hs256(secret, input));
}

} // namespace

// -- base64url ----------------------------------------------------------------

CAF_TEST(base64url round trips every length and byte) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    auto encoded = base64url_encode(bytes);
    CAF_CHECK_EQUAL(encoded.find_first_of("+/="), std::string::npos);
    auto decoded = base64url_decode(encoded);
    CAF_REQUIRE(decoded);
    CAF_CHECK_EQUAL(*decoded, bytes);
    bytes += static_cast<char>(i * 7);
  }
}

CAF_TEST(base64url matches RFC 4648 vectors) {
  CAF_CHECK_EQUAL(base64url_encode(""), "");
  CAF_CHECK_EQUAL(base64url_encode("f"), "Zg");
  CAF_CHECK_EQUAL(base64url_encode("fo"), "Zm8");
  CAF_CHECK_EQUAL(base64url_encode("foo"), "Zm9v");
  CAF_CHECK_EQUAL(base64url_encode("foobar"), "Zm9vYmFy");
  CAF_CHECK_EQUAL(base64url_encode("\xfb\xff"), "-_8");
  CAF_CHECK_EQUAL(base64url_decode("-_8").value_or("?"), "\xfb\xff");
}

CAF_TEST(base64url rejects padding foreign characters and bad lengths) {
  for (auto bad : {"Zg==", "Zg=", "Zm8=", "+_8", "/_8", "Zm 9v", "Zm9v\n", "Z",
                   "A", "Zm9vY", "Zm9vA", "Zm.v", "Zm9v%"})
    CAF_CHECK(!base64url_decode(bad));
}

CAF_TEST(base64url rejects non zero trailing bits) {
  // "Zg" is "f"; "Zh" carries the same byte plus stray bits.
  CAF_CHECK(base64url_decode("Zg"));
  CAF_CHECK(!base64url_decode("Zh"));
  CAF_CHECK(base64url_decode("Zm8"));
  CAF_CHECK(!base64url_decode("Zm9"));
}

// -- HS256 --------------------------------------------------------------------

CAF_TEST(a valid HS256 token yields its claims) {
  auto result = check(token(alice()));
  CAF_REQUIRE_EQUAL(code(result), "ok");
  CAF_CHECK_EQUAL(result.value().sub, "alice");
  CAF_CHECK_EQUAL(result.value().name, "Alice");
  CAF_CHECK_EQUAL(result.value().email, "alice@example.com");
  CAF_CHECK_EQUAL(result.value().raw.at("iat").get<std::int64_t>(), t0);
}

CAF_TEST(mint_hs256 produces a standard token) {
  auto t = mint_hs256(secret, alice());
  auto result = check(t);
  CAF_REQUIRE_EQUAL(code(result), "ok");
  CAF_CHECK_EQUAL(result.value().sub, "alice");
  // Same bytes as an independent HMAC over the same header and payload.
  auto header = json::parse(*base64url_decode(t.substr(0, t.find('.'))));
  CAF_CHECK_EQUAL(header.at("alg"), "HS256");
  CAF_CHECK_EQUAL(t, hs256_token(secret, header, alice()));
}

CAF_TEST(the RFC 7515 A .1 example verifies) {
  // Appendix A.1: its payload has no sub, so a good signature gets as far
  // as the claims and fails there, while a bad one stops at the signature.
  auto key = *base64url_decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-"
                               "1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow");
  std::string t = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
                  "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9"
                  "leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
                  "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  auto then = std::chrono::system_clock::time_point{
      std::chrono::seconds{1300819380 - 60}};
  auto result = verify_jwt(t, key_ring{key, nullptr}, {}, then);
  CAF_CHECK_EQUAL(code(result), "malformed");
  CAF_CHECK_EQUAL(result.text(), "token has no sub");
  auto tampered = with_part(t, 2, "e" + t.substr(t.rfind('.') + 2));
  CAF_CHECK_EQUAL(code(verify_jwt(tampered, key_ring{key, nullptr}, {}, then)),
                  "bad_signature");
}

CAF_TEST(a token signed with another secret is rejected) {
  auto t
      = hs256_token("another-secret-with-32-bytes-or-more", hs_header, alice());
  CAF_CHECK_EQUAL(code(check(t)), "bad_signature");
}

CAF_TEST(a flipped payload byte breaks the signature) {
  auto t = token(alice());
  auto payload = alice();
  payload["sub"] = "mallory";
  CAF_CHECK_EQUAL(code(check(with_part(t, 1, b64(payload)))), "bad_signature");
  // One bit of the encoded payload: still base64url, still JSON.
  auto d1 = t.find('.');
  auto bytes
      = *base64url_decode(t.substr(d1 + 1, t.find('.', d1 + 1) - d1 - 1));
  auto at = bytes.find("alice");
  CAF_REQUIRE(at != std::string::npos);
  bytes[at] ^= 0x02; // 'a' -> 'c'
  CAF_CHECK_EQUAL(code(check(with_part(t, 1, base64url_encode(bytes)))),
                  "bad_signature");
}

CAF_TEST(a changed signature is rejected) {
  auto t = token(alice());
  auto sig = *base64url_decode(t.substr(t.rfind('.') + 1));
  sig[0] ^= 1;
  CAF_CHECK_EQUAL(code(check(with_part(t, 2, base64url_encode(sig)))),
                  "bad_signature");
  sig.pop_back();
  CAF_CHECK_EQUAL(code(check(with_part(t, 2, base64url_encode(sig)))),
                  "bad_signature");
  CAF_CHECK_EQUAL(code(check(with_part(t, 2, ""))), "bad_signature");
}

CAF_TEST(alg none is rejected in any spelling) {
  for (auto alg : {"none", "None", "NONE", "nOnE"}) {
    json header = {{"alg", alg}, {"typ", "JWT"}};
    auto unsigned_token = b64(header) + "." + b64(alice()) + ".";
    auto result = check(unsigned_token);
    CAF_CHECK_EQUAL(code(result), "unsupported_alg");
    // Even with a valid HMAC appended.
    CAF_CHECK_EQUAL(code(check(token(alice(), header))), "unsupported_alg");
  }
}

CAF_TEST(algorithms outside the allow list are rejected) {
  for (auto alg : {"HS384", "HS512", "RS384", "PS256", "ES512", "EdDSA", ""})
    CAF_CHECK_EQUAL(code(check(token(alice(), {{"alg", alg}}))),
                    "unsupported_alg");
}

CAF_TEST(HS256 is refused without a secret) {
  auto result = check(token(alice()), {}, "");
  CAF_CHECK_EQUAL(code(result), "unsupported_alg");
  CAF_CHECK_EQUAL(result.text(),
                  "HS256 tokens need PARLEY_JWT_SECRET, which is not set");
}

CAF_TEST(RS256 and ES256 are refused without a JWKS) {
  for (auto alg : {"RS256", "ES256"})
    CAF_CHECK_EQUAL(code(check(token(alice(), {{"alg", alg}, {"kid", "k"}}))),
                    "unsupported_alg");
}

// -- form
// -----------------------------------------------------------------------

CAF_TEST(tokens that are not three parts are malformed) {
  auto t = token(alice());
  for (auto bad : {std::string{}, std::string{"abc"}, t.substr(0, t.rfind('.')),
                   t + ".", t + ".x", "." + t, std::string{".."}})
    CAF_CHECK_EQUAL(code(check(bad)), "malformed");
  CAF_CHECK_EQUAL(check(t + ".x").text(),
                  "token is not three dot-separated parts");
  CAF_CHECK_EQUAL(check("").text(),
                  "no token (send Authorization: Bearer <token> or ?token=)");
}

CAF_TEST(malformed base64 in any part is rejected) {
  auto t = token(alice());
  auto header = t.substr(0, t.find('.'));
  CAF_CHECK_EQUAL(code(check(with_part(t, 0, header + "=="))), "malformed");
  CAF_CHECK_EQUAL(code(check(with_part(t, 0, "*" + header))), "malformed");
  CAF_CHECK_EQUAL(code(check(with_part(t, 1, "eyJ+"))), "malformed");
  CAF_CHECK_EQUAL(code(check(with_part(t, 2, "ab=c"))), "malformed");
  CAF_CHECK_EQUAL(check(with_part(t, 2, "ab=c")).text(),
                  "signature is not valid base64url");
  // Standard base64 ('+' and '/') instead of the URL alphabet.
  auto sig = t.substr(t.rfind('.') + 1);
  for (auto& c : sig)
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  if (sig != t.substr(t.rfind('.') + 1))
    CAF_CHECK_EQUAL(code(check(with_part(t, 2, sig))), "malformed");
}

CAF_TEST(a header that is not JSON is rejected) {
  auto result = check(raw_header_token("{\"alg\":\"HS256\""));
  CAF_CHECK_EQUAL(code(result), "malformed");
  CAF_CHECK_EQUAL(result.text(), "header is not JSON");
  CAF_CHECK_EQUAL(code(check(raw_header_token("alg=HS256"))), "malformed");
  // Invalid UTF-8 inside a JSON string.
  CAF_CHECK_EQUAL(code(check(raw_header_token("{\"alg\":\"HS256\xff\"}"))),
                  "malformed");
}

CAF_TEST(a header that is not an object is rejected) {
  for (auto bad : {"[\"HS256\"]", "\"HS256\"", "42", "null", "true"}) {
    auto result = check(raw_header_token(bad));
    CAF_CHECK_EQUAL(code(result), "malformed");
    CAF_CHECK_EQUAL(result.text(), "header is not a JSON object");
  }
  CAF_CHECK_EQUAL(code(check(raw_header_token(hs_header.dump()))), "ok");
}

CAF_TEST(a payload that is not an object is rejected) {
  auto t = token(alice());
  for (auto bad : {"[1]", "\"alice\"", "7"}) {
    auto input = t.substr(0, t.find('.')) + "." + base64url_encode(bad);
    auto forged = input + "."
                  + base64url_encode(parley::test::sign_hs256(secret, input));
    CAF_CHECK_EQUAL(check(forged).text(), "payload is not a JSON object");
  }
}

CAF_TEST(header fields must be well formed) {
  CAF_CHECK_EQUAL(check(token(alice(), {{"typ", "JWT"}})).text(),
                  "header has no alg");
  CAF_CHECK_EQUAL(code(check(token(alice(), {{"alg", 256}}))), "malformed");
  CAF_CHECK_EQUAL(code(check(token(alice(), {{"alg", "HS256"}, {"kid", 7}}))),
                  "malformed");
  CAF_CHECK_EQUAL(code(check(token(alice(), {{"alg", "HS256"}, {"kid", ""}}))),
                  "malformed");
  json crit = {{"alg", "HS256"}, {"b64", false}, {"crit", {"b64"}}};
  CAF_CHECK_EQUAL(code(check(token(alice(), crit))), "malformed");
  // A kid on an HS256 token is harmless: the secret is the only HMAC key.
  CAF_CHECK_EQUAL(code(check(token(alice(), {{"alg", "HS256"}, {"kid", "x"}}))),
                  "ok");
}

CAF_TEST(oversized tokens are rejected before any work) {
  auto payload = alice();
  payload["pad"] = std::string(parley::auth::max_token_size, 'x');
  auto result = check(token(payload));
  CAF_CHECK_EQUAL(code(result), "malformed");
  CAF_CHECK_EQUAL(result.text(), "token is too long");
}

// -- claims -------------------------------------------------------------------

CAF_TEST(expired tokens are rejected after the leeway) {
  CAF_CHECK_EQUAL(code(check(token(alice(t0 - 31)))), "expired");
  CAF_CHECK_EQUAL(code(check(token(alice(t0 - 30)))), "expired");
  CAF_CHECK_EQUAL(code(check(token(alice(t0 - 29)))), "ok");
  CAF_CHECK_EQUAL(code(check(token(alice(t0 - 3600)))), "expired");
  claim_rules strict;
  strict.leeway = std::chrono::seconds{0};
  CAF_CHECK_EQUAL(code(check(token(alice(t0)), strict)), "expired");
  CAF_CHECK_EQUAL(code(check(token(alice(t0 + 1)), strict)), "ok");
}

CAF_TEST(an absurd date is refused with a readable text) {
  auto payload = alice();
  payload["exp"] = -1e308;
  auto result = check(token(payload));
  CAF_CHECK_EQUAL(code(result), "expired");
  CAF_CHECK_EQUAL(result.text(), "token expired more than 1e15 s ago");
}

CAF_TEST(expiry is checked after the signature) {
  auto forged = hs256_token("not-the-secret", hs_header, alice(t0 - 3600));
  CAF_CHECK_EQUAL(code(check(forged)), "bad_signature");
}

CAF_TEST(nbf in the future is rejected beyond the leeway) {
  auto at = [](std::int64_t nbf) {
    auto x = alice();
    x["nbf"] = nbf;
    return token(x);
  };
  CAF_CHECK_EQUAL(code(check(at(t0 + 600))), "not_yet_valid");
  CAF_CHECK_EQUAL(code(check(at(t0 + 31))), "not_yet_valid");
  CAF_CHECK_EQUAL(code(check(at(t0 + 30))), "ok");
  CAF_CHECK_EQUAL(code(check(at(t0 + 10))), "ok");
  CAF_CHECK_EQUAL(code(check(at(t0 - 10))), "ok");
}

CAF_TEST(times must be numbers) {
  auto x = alice();
  x["exp"] = std::to_string(t0 + 3600);
  CAF_CHECK_EQUAL(code(check(token(x))), "malformed");
  x = alice();
  x["nbf"] = true;
  CAF_CHECK_EQUAL(code(check(token(x))), "malformed");
  x = alice();
  x["exp"] = static_cast<double>(t0) + 0.5; // fractional is allowed
  CAF_CHECK_EQUAL(code(check(token(x))), "ok");
}

CAF_TEST(exp is required unless the rules say otherwise) {
  auto x = alice();
  x.erase("exp");
  CAF_CHECK_EQUAL(check(token(x)).text(), "token has no exp");
  claim_rules lax;
  lax.require_exp = false;
  CAF_CHECK_EQUAL(code(check(token(x), lax)), "ok");
}

CAF_TEST(sub is required) {
  auto x = alice();
  x.erase("sub");
  CAF_CHECK_EQUAL(check(token(x)).text(), "token has no sub");
  x["sub"] = "";
  CAF_CHECK_EQUAL(code(check(token(x))), "malformed");
  x["sub"] = 42;
  CAF_CHECK_EQUAL(code(check(token(x))), "malformed");
}

CAF_TEST(name and email are optional) {
  auto x = alice();
  x.erase("name");
  x["email"] = 5;
  auto result = check(token(x));
  CAF_REQUIRE_EQUAL(code(result), "ok");
  CAF_CHECK_EQUAL(result.value().name, "");
  CAF_CHECK_EQUAL(result.value().email, "");
}

CAF_TEST(iss is checked when configured) {
  claim_rules rules;
  rules.issuer = "https://issuer.example";
  auto x = alice();
  CAF_CHECK_EQUAL(code(check(token(x), rules)), "wrong_issuer");
  x["iss"] = "https://evil.example";
  CAF_CHECK_EQUAL(code(check(token(x), rules)), "wrong_issuer");
  x["iss"] = {"https://issuer.example"};
  CAF_CHECK_EQUAL(code(check(token(x), rules)), "wrong_issuer");
  x["iss"] = "https://issuer.example";
  CAF_CHECK_EQUAL(code(check(token(x), rules)), "ok");
  // Not configured: any iss passes.
  x["iss"] = "https://evil.example";
  CAF_CHECK_EQUAL(code(check(token(x))), "ok");
}

CAF_TEST(aud is checked when configured as string or array) {
  claim_rules rules;
  rules.audience = "parley";
  auto x = alice();
  CAF_CHECK_EQUAL(code(check(token(x), rules)), "wrong_audience");
  x["aud"] = "other";
  CAF_CHECK_EQUAL(code(check(token(x), rules)), "wrong_audience");
  x["aud"] = {"other", "another"};
  CAF_CHECK_EQUAL(code(check(token(x), rules)), "wrong_audience");
  x["aud"] = json::array();
  CAF_CHECK_EQUAL(code(check(token(x), rules)), "wrong_audience");
  x["aud"] = 7;
  CAF_CHECK_EQUAL(code(check(token(x), rules)), "wrong_audience");
  x["aud"] = "parley";
  CAF_CHECK_EQUAL(code(check(token(x), rules)), "ok");
  x["aud"] = {"other", "parley"};
  CAF_CHECK_EQUAL(code(check(token(x), rules)), "ok");
  x["aud"] = "other";
  CAF_CHECK_EQUAL(code(check(token(x))), "ok");
}

CAF_TEST(error texts quote token supplied text safely) {
  auto result = check(token(alice(), {{"alg", "x\ny\u0001"}}));
  CAF_CHECK_EQUAL(code(result), "unsupported_alg");
  CAF_CHECK_EQUAL(result.text().find_first_of("\n\x01"), std::string::npos);
}

CAF_TEST(every error has a stable name) {
  CAF_CHECK_EQUAL(to_string(jwt_error::malformed), "malformed");
  CAF_CHECK_EQUAL(to_string(jwt_error::bad_signature), "bad_signature");
  CAF_CHECK_EQUAL(to_string(jwt_error::expired), "expired");
  CAF_CHECK_EQUAL(to_string(jwt_error::not_yet_valid), "not_yet_valid");
  CAF_CHECK_EQUAL(to_string(jwt_error::wrong_issuer), "wrong_issuer");
  CAF_CHECK_EQUAL(to_string(jwt_error::wrong_audience), "wrong_audience");
  CAF_CHECK_EQUAL(to_string(jwt_error::unknown_key), "unknown_key");
  CAF_CHECK_EQUAL(to_string(jwt_error::unsupported_alg), "unsupported_alg");
  CAF_CHECK_EQUAL(to_string(jwt_error::not_configured), "not_configured");
}
