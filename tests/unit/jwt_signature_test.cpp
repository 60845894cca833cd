// RS256 and ES256: keys generated here with OpenSSL, tokens signed here, the
// public halves published as a JWKS file and loaded through file://.
#define CAF_SUITE jwt_signature
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "auth/base64url.hpp"
#include "auth/jwks.hpp"
#include "auth/jwt.hpp"
#include "auth/signature.hpp"
#include "tools/jwt_test_keys.hpp"

using nlohmann::json;
using parley::auth::base64url_decode;
using parley::auth::base64url_encode;
using parley::auth::jwk_set;
using parley::auth::jwks_cache;
using parley::auth::key_ring;
using parley::auth::verify_jwt;
using parley::auth::verify_result;
using parley::test::pkey_ptr;
using parley::test::public_jwk;
using parley::test::sign_token;

namespace {

constexpr std::int64_t t0 = 1700000000;
const auto now
    = std::chrono::system_clock::time_point{std::chrono::seconds{t0}};

json alice(std::int64_t exp = t0 + 3600) {
  return {{"sub", "alice"}, {"iat", t0}, {"exp", exp}};
}

std::string code(const verify_result& x) {
  return x ? "ok" : to_string(x.error());
}

// Keys are generated once per process: RSA key generation takes a while.
struct keys {
  pkey_ptr rsa = parley::test::rsa_key();
  pkey_ptr ec = parley::test::ec_key();
  pkey_ptr other_rsa = parley::test::rsa_key(); // never published
  pkey_ptr other_ec = parley::test::ec_key();   // never published

  static const keys& get() {
    static const keys instance;
    return instance;
  }
};

// The published key set: the RSA key as "rsa-1", the EC key as "ec-1".
json published() {
  auto& k = keys::get();
  return {{"keys",
           {public_jwk(k.rsa.get(), "rsa-1"), public_jwk(k.ec.get(), "ec-1")}}};
}

// Loads `doc` the way the server does: written to a file, read by file://.
struct fixture {
  parley::test::temp_file file{published().dump()};
  jwks_cache cache{file.url()};
  std::shared_ptr<const jwk_set> set;
  std::string secret; // empty: HS256 disabled, as with PARLEY_JWKS_URL only

  fixture() {
    auto error = cache.refresh();
    if (!error.empty())
      CAF_FAIL("cannot load the JWKS: " << error);
    set = cache.keys();
  }

  void publish(const json& doc) {
    file.write(doc.dump());
    auto error = cache.refresh();
    if (!error.empty())
      CAF_FAIL("cannot load the JWKS: " << error);
    set = cache.keys();
  }

  verify_result check(const std::string& token) {
    return verify_jwt(token, key_ring{secret, set.get()}, {}, now);
  }
};

json header(const char* alg, const char* kid) {
  json x = {{"alg", alg}, {"typ", "JWT"}};
  if (kid != nullptr)
    x["kid"] = kid;
  return x;
}

std::string rs256(const char* kid = "rsa-1", const json& payload = alice()) {
  return sign_token(keys::get().rsa.get(), header("RS256", kid), payload);
}

std::string es256(const char* kid = "ec-1", const json& payload = alice()) {
  return sign_token(keys::get().ec.get(), header("ES256", kid), payload);
}

std::string with_signature(const std::string& t, const std::string& sig) {
  return t.substr(0, t.rfind('.') + 1) + base64url_encode(sig);
}

std::string signature_of(const std::string& t) {
  return *base64url_decode(t.substr(t.rfind('.') + 1));
}

// An HS256 token whose HMAC key is `key`, with the header as given.
std::string hs256_with_key(const std::string& key, const json& hdr) {
  return parley::test::hs256_token(key, hdr, alice());
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(jwt_signature_tests, fixture)

CAF_TEST(the JWKS file holds both keys) {
  CAF_CHECK_EQUAL(set->size(), 2u);
  CAF_CHECK(set->find("rsa-1") != nullptr);
  CAF_CHECK(set->find("ec-1") != nullptr);
  CAF_CHECK(set->find("nope") == nullptr);
}

CAF_TEST(a valid RS256 token verifies) {
  auto result = check(rs256());
  CAF_REQUIRE_EQUAL(code(result), "ok");
  CAF_CHECK_EQUAL(result.value().sub, "alice");
}

CAF_TEST(a valid ES256 token verifies) {
  auto t = es256();
  CAF_CHECK_EQUAL(signature_of(t).size(), 64u); // raw r || s, not DER
  auto result = check(t);
  CAF_REQUIRE_EQUAL(code(result), "ok");
  CAF_CHECK_EQUAL(result.value().sub, "alice");
}

CAF_TEST(the RFC 7515 A .3 ES256 example verifies) {
  // Appendix A.3's key and token; its payload has no sub, so a good
  // signature ends in "token has no sub" and a bad one in bad_signature.
  json jwk = {{"kty", "EC"},
              {"crv", "P-256"},
              {"kid", "rfc"},
              {"x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"},
              {"y", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}};
  publish({{"keys", {jwk}}});
  std::string t = "eyJhbGciOiJFUzI1NiJ9."
                  "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9"
                  "leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
                  "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8"
                  "ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
  auto then = std::chrono::system_clock::time_point{
      std::chrono::seconds{1300819380 - 60}};
  auto result = verify_jwt(t, key_ring{"", set.get()}, {}, then);
  CAF_CHECK_EQUAL(result.text(), "token has no sub");
  auto sig = signature_of(t);
  sig[10] ^= 1;
  CAF_CHECK_EQUAL(code(verify_jwt(with_signature(t, sig),
                                  key_ring{"", set.get()}, {}, then)),
                  "bad_signature");
}

CAF_TEST(a flipped payload byte breaks RS256 and ES256) {
  for (auto t : {rs256(), es256()}) {
    auto d1 = t.find('.');
    auto d2 = t.find('.', d1 + 1);
    auto payload = *base64url_decode(t.substr(d1 + 1, d2 - d1 - 1));
    payload[payload.find("alice")] ^= 0x02;
    auto forged
        = t.substr(0, d1 + 1) + base64url_encode(payload) + t.substr(d2);
    CAF_CHECK_EQUAL(code(check(forged)), "bad_signature");
  }
}

CAF_TEST(wrong signatures are rejected) {
  for (auto t : {rs256(), es256()}) {
    auto sig = signature_of(t);
    auto flipped = sig;
    flipped[sig.size() / 2] ^= 0x40;
    CAF_CHECK_EQUAL(code(check(with_signature(t, flipped))), "bad_signature");
    CAF_CHECK_EQUAL(code(check(with_signature(t, ""))), "bad_signature");
    // The genuine signature with a byte too few or too many.
    CAF_CHECK_EQUAL(code(check(with_signature(t, sig.substr(1)))),
                    "bad_signature");
    CAF_CHECK_EQUAL(code(check(with_signature(t, sig + "x"))), "bad_signature");
    CAF_CHECK_EQUAL(code(check(with_signature(t, sig))), "ok");
  }
}

CAF_TEST(ES256 wants raw r and s not DER) {
  auto& k = keys::get();
  auto input = parley::test::signing_input(header("ES256", "ec-1"), alice());
  auto der = parley::test::digest_sign(k.ec.get(), input);
  auto t = input + "." + base64url_encode(der);
  CAF_CHECK_EQUAL(code(check(t)), "bad_signature");
  // The same signature converted to r || s passes: only the form was wrong.
  CAF_CHECK_EQUAL(code(check(input + "."
                             + base64url_encode(
                                 parley::test::sign_es256(k.ec.get(), input)))),
                  "ok");
  // r = s = 0 must not pass either.
  CAF_CHECK_EQUAL(
      code(check(input + "." + base64url_encode(std::string(64, 0)))),
      "bad_signature");
}

CAF_TEST(a token signed by an unpublished key is rejected) {
  auto& k = keys::get();
  auto t1 = sign_token(k.other_rsa.get(), header("RS256", "rsa-1"), alice());
  CAF_CHECK_EQUAL(code(check(t1)), "bad_signature");
  auto t2 = sign_token(k.other_ec.get(), header("ES256", "ec-1"), alice());
  CAF_CHECK_EQUAL(code(check(t2)), "bad_signature");
}

CAF_TEST(an unknown kid is reported as such) {
  auto result = check(rs256("rsa-2"));
  CAF_CHECK_EQUAL(code(result), "unknown_key");
  CAF_CHECK_EQUAL(result.text(), "no JWKS key with kid \"rsa-2\"");
}

CAF_TEST(a missing kid is refused when the JWKS has several keys) {
  auto result = check(rs256(nullptr));
  CAF_CHECK_EQUAL(code(result), "unknown_key");
  CAF_CHECK_EQUAL(result.text(), "token has no kid and the JWKS holds 2 keys");
  // With exactly one key there is nothing to guess.
  publish({{"keys", {public_jwk(keys::get().rsa.get(), "rsa-1")}}});
  CAF_CHECK_EQUAL(code(check(rs256(nullptr))), "ok");
  CAF_CHECK_EQUAL(code(check(es256(nullptr))), "unsupported_alg");
}

CAF_TEST(a key only verifies the algorithm it was published for) {
  // RS256 naming the EC key and ES256 naming the RSA key.
  CAF_CHECK_EQUAL(code(check(sign_token(keys::get().rsa.get(),
                                        header("RS256", "ec-1"), alice()))),
                  "unsupported_alg");
  CAF_CHECK_EQUAL(code(check(sign_token(keys::get().ec.get(),
                                        header("ES256", "rsa-1"), alice()))),
                  "unsupported_alg");
}

CAF_TEST(HS256 signed with the issuer public key is rejected) {
  // The classic confusion attack: the attacker knows the public key and
  // uses its PEM or DER bytes as an HMAC secret.
  auto& k = keys::get();
  for (auto pkey : {k.rsa.get(), k.ec.get()}) {
    for (auto key :
         {parley::test::public_pem(pkey), parley::test::public_der(pkey)}) {
      for (auto kid : {"rsa-1", "ec-1"}) {
        auto t = hs256_with_key(key, header("HS256", kid));
        // JWKS only: there is no HMAC key at all.
        secret.clear();
        auto result = check(t);
        CAF_CHECK_EQUAL(code(result), "unsupported_alg");
        // With a secret as well: the secret is the only HMAC key.
        secret = "the-real-hs256-secret-32-bytes-long";
        CAF_CHECK_EQUAL(code(check(t)), "bad_signature");
      }
    }
  }
  // The JWK's own JSON text as the HMAC key fares no better.
  auto t = hs256_with_key(public_jwk(k.rsa.get(), "rsa-1").dump(),
                          header("HS256", "rsa-1"));
  secret.clear();
  CAF_CHECK_EQUAL(code(check(t)), "unsupported_alg");
}

CAF_TEST(alg none naming a JWKS key is rejected) {
  auto unsigned_token = parley::test::b64(header("none", "rsa-1")) + "."
                        + parley::test::b64(alice()) + ".";
  CAF_CHECK_EQUAL(code(check(unsigned_token)), "unsupported_alg");
  // Keeping a real RS256 signature while claiming none changes nothing.
  auto t = rs256();
  auto forged
      = parley::test::b64(header("none", "rsa-1")) + t.substr(t.find('.'));
  CAF_CHECK_EQUAL(code(check(forged)), "unsupported_alg");
}

CAF_TEST(keys embedded in the header are ignored) {
  // jwk / jku / x5u in a header would let the token bring its own key.
  auto& k = keys::get();
  json hdr = header("RS256", "rsa-1");
  hdr["jwk"] = public_jwk(k.other_rsa.get(), "rsa-1");
  hdr["jku"] = "http://127.0.0.1:1/evil.json";
  auto t = sign_token(k.other_rsa.get(), hdr, alice());
  CAF_CHECK_EQUAL(code(check(t)), "bad_signature");
  hdr["kid"] = "evil";
  CAF_CHECK_EQUAL(code(check(sign_token(k.other_rsa.get(), hdr, alice()))),
                  "unknown_key");
}

CAF_TEST(claims are checked after an asymmetric signature too) {
  CAF_CHECK_EQUAL(code(check(rs256("rsa-1", alice(t0 - 3600)))), "expired");
  auto early = alice();
  early["nbf"] = t0 + 3600;
  CAF_CHECK_EQUAL(code(check(es256("ec-1", early))), "not_yet_valid");
  parley::auth::claim_rules rules;
  rules.issuer = "https://issuer.example";
  rules.audience = "parley";
  auto ok = alice();
  ok["iss"] = "https://issuer.example";
  ok["aud"] = {"parley"};
  CAF_CHECK_EQUAL(
      code(verify_jwt(rs256("rsa-1", ok), key_ring{"", set.get()}, rules, now)),
      "ok");
  auto bad = ok;
  bad["aud"] = "elsewhere";
  CAF_CHECK_EQUAL(
      code(verify_jwt(es256("ec-1", bad), key_ring{"", set.get()}, rules, now)),
      "wrong_audience");
  bad = ok;
  bad["iss"] = "https://evil.example";
  CAF_CHECK_EQUAL(
      code(verify_jwt(es256("ec-1", bad), key_ring{"", set.get()}, rules, now)),
      "wrong_issuer");
}

CAF_TEST(signature primitives reject the wrong key type) {
  auto& k = keys::get();
  std::string data = "abc";
  auto rsa_sig = parley::test::sign_rs256(k.rsa.get(), data);
  auto ec_sig = parley::test::sign_es256(k.ec.get(), data);
  CAF_CHECK(parley::auth::verify_rs256(k.rsa.get(), data, rsa_sig));
  CAF_CHECK(parley::auth::verify_es256(k.ec.get(), data, ec_sig));
  CAF_CHECK(!parley::auth::verify_rs256(k.ec.get(), data, rsa_sig));
  CAF_CHECK(!parley::auth::verify_es256(k.rsa.get(), data, ec_sig));
  CAF_CHECK(!parley::auth::verify_rs256(nullptr, data, rsa_sig));
  CAF_CHECK(!parley::auth::verify_es256(k.ec.get(), "abd", ec_sig));
}

CAF_TEST_FIXTURE_SCOPE_END()
