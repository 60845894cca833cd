// The authenticator as the dialects use it: built from settings, one verify
// for every algorithm, the JWKS refreshed from a loopback http:// server when
// an unknown kid arrives, and the token taken from header or query.
#define CAF_SUITE jwt_authenticator
#include <caf/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "auth/authenticator.hpp"
#include "config/settings.hpp"
#include "tools/jwt_test_keys.hpp"
#include "tools/loopback_http.hpp"

using nlohmann::json;
using parley::settings;
using parley::auth::authenticator;
using parley::auth::jwks_cache;
using parley::auth::mint_hs256;
using parley::auth::token_from;
using parley::auth::verify_result;
using parley::test::loopback_http;
using parley::test::pkey_ptr;
using parley::test::public_jwk;
using parley::test::sign_token;
using namespace std::chrono_literals;

namespace {

const std::string secret = "authenticator-test-secret-32-bytes";

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json claims_for(const std::string& sub) {
  return {{"sub", sub}, {"name", "User " + sub}, {"exp", unix_now() + 600}};
}

std::string code(const verify_result& x) {
  return x ? "ok" : to_string(x.error());
}

struct keys {
  pkey_ptr a = parley::test::rsa_key();
  pkey_ptr b = parley::test::ec_key();
  pkey_ptr c = parley::test::rsa_key();

  static const keys& get() {
    static const keys instance;
    return instance;
  }
};

std::string rs256(EVP_PKEY* key, const std::string& kid,
                  const std::string& sub = "alice") {
  auto alg = EVP_PKEY_get_base_id(key) == EVP_PKEY_EC ? "ES256" : "RS256";
  return sign_token(key, {{"alg", alg}, {"kid", kid}}, claims_for(sub));
}

json set_of(std::vector<json> entries) {
  return {{"keys", entries}};
}

struct fake_clock {
  std::shared_ptr<std::atomic<jwks_cache::clock::rep>> ticks
      = std::make_shared<std::atomic<jwks_cache::clock::rep>>(1000000000);

  void advance(jwks_cache::clock::duration d) {
    *ticks += d.count();
  }

  std::function<jwks_cache::clock::time_point()> fn() const {
    auto t = ticks;
    return [t] {
      return jwks_cache::clock::time_point{jwks_cache::clock::duration{*t}};
    };
  }
};

template <class Pred>
bool eventually(Pred pred) {
  auto until = std::chrono::steady_clock::now() + 5s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until)
      return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// Receives one verify_async result.
struct result_box {
  std::mutex mtx;
  std::condition_variable cv;
  std::optional<verify_result> result;
  std::thread::id thread;

  authenticator::callback callback() {
    return [this](verify_result x) {
      std::lock_guard<std::mutex> guard{mtx};
      result.emplace(std::move(x));
      thread = std::this_thread::get_id();
      cv.notify_all();
    };
  }

  bool wait() {
    std::unique_lock<std::mutex> lock{mtx};
    return cv.wait_for(lock, 5s, [this] { return result.has_value(); });
  }
};

// An authenticator on a loopback JWKS that serves key "a" at first.
struct jwks_fixture {
  loopback_http server;
  fake_clock clock;
  std::unique_ptr<authenticator> auth;

  jwks_fixture() {
    server.respond(200, set_of({public_jwk(keys::get().a.get(), "a")}).dump());
    authenticator::config cfg;
    cfg.jwks_url = server.url();
    cfg.jwks.now = clock.fn();
    auth = std::make_unique<authenticator>(std::move(cfg));
    auto error = auth->preload();
    if (!error.empty())
      CAF_FAIL("preload failed: " << error);
  }

  void publish(std::vector<json> entries) {
    server.respond(200, set_of(std::move(entries)).dump());
  }
};

} // namespace

// -- configuration
// --------------------------------------------------------------

CAF_TEST(without keys every token fails with a clear text) {
  authenticator auth{settings{}};
  CAF_CHECK(!auth.configured());
  auto result = auth.verify(mint_hs256(secret, claims_for("alice")));
  CAF_CHECK_EQUAL(code(result), "not_configured");
  CAF_CHECK_EQUAL(result.text(),
                  "authentication is not configured (set PARLEY_JWT_SECRET "
                  "or PARLEY_JWKS_URL)");
  CAF_CHECK_EQUAL(auth.summary(), parley::auth::not_configured_text);
  CAF_CHECK_EQUAL(auth.preload(), "");
  CAF_CHECK(auth.jwks() == nullptr);
}

CAF_TEST(HS256 works with PARLEY_JWT_SECRET) {
  settings cfg;
  cfg.jwt_secret = secret;
  authenticator auth{cfg};
  CAF_CHECK(auth.configured());
  auto result = auth.verify(mint_hs256(secret, claims_for("alice")));
  CAF_REQUIRE_EQUAL(code(result), "ok");
  CAF_CHECK_EQUAL(result.value().sub, "alice");
  CAF_CHECK_EQUAL(result.value().name, "User alice");
  CAF_CHECK_EQUAL(
      code(auth.verify(
          mint_hs256("other-secret-of-32-bytes-or-more", claims_for("alice")))),
      "bad_signature");
  // No JWKS: RS256 has nothing to verify against.
  CAF_CHECK_EQUAL(code(auth.verify(rs256(keys::get().a.get(), "a"))),
                  "unsupported_alg");
  CAF_CHECK(auth.summary().find(secret) == std::string::npos);
}

CAF_TEST(issuer and audience come from settings) {
  settings cfg;
  cfg.jwt_secret = secret;
  cfg.jwt_issuer = "https://issuer.example";
  cfg.jwt_audience = "parley";
  authenticator auth{cfg};
  auto x = claims_for("alice");
  CAF_CHECK_EQUAL(code(auth.verify(mint_hs256(secret, x))), "wrong_issuer");
  x["iss"] = "https://issuer.example";
  CAF_CHECK_EQUAL(code(auth.verify(mint_hs256(secret, x))), "wrong_audience");
  x["aud"] = {"parley", "other"};
  CAF_CHECK_EQUAL(code(auth.verify(mint_hs256(secret, x))), "ok");
}

CAF_TEST(expired tokens fail through the authenticator) {
  settings cfg;
  cfg.jwt_secret = secret;
  authenticator auth{cfg};
  auto x = claims_for("alice");
  x["exp"] = unix_now() - 120;
  CAF_CHECK_EQUAL(code(auth.verify(mint_hs256(secret, x))), "expired");
  x["exp"] = unix_now() - 5; // within the 30 s leeway
  CAF_CHECK_EQUAL(code(auth.verify(mint_hs256(secret, x))), "ok");
}

CAF_TEST(secret and JWKS together accept both kinds) {
  parley::test::temp_file file{
      set_of({public_jwk(keys::get().a.get(), "a")}).dump()};
  settings cfg;
  cfg.jwt_secret = secret;
  cfg.jwks_url = file.url();
  authenticator auth{cfg};
  CAF_REQUIRE_EQUAL(auth.preload(), "");
  CAF_CHECK_EQUAL(code(auth.verify(mint_hs256(secret, claims_for("a")))), "ok");
  CAF_CHECK_EQUAL(code(auth.verify(rs256(keys::get().a.get(), "a"))), "ok");
  // The public key as HMAC secret: the secret is the only HMAC key.
  auto pem = parley::test::public_pem(keys::get().a.get());
  auto forged = parley::test::hs256_token(pem, {{"alg", "HS256"}, {"kid", "a"}},
                                          claims_for("mallory"));
  CAF_CHECK_EQUAL(code(auth.verify(forged)), "bad_signature");
}

CAF_TEST(a JWKS only authenticator refuses HS256 signed with its public key) {
  parley::test::temp_file file{
      set_of({public_jwk(keys::get().a.get(), "a")}).dump()};
  settings cfg;
  cfg.jwks_url = file.url();
  authenticator auth{cfg};
  CAF_REQUIRE_EQUAL(auth.preload(), "");
  for (auto key : {parley::test::public_pem(keys::get().a.get()),
                   parley::test::public_der(keys::get().a.get())}) {
    auto forged = parley::test::hs256_token(
        key, {{"alg", "HS256"}, {"kid", "a"}}, claims_for("mallory"));
    auto result = auth.verify(forged);
    CAF_CHECK_EQUAL(code(result), "unsupported_alg");
    CAF_CHECK_EQUAL(result.text(),
                    "HS256 tokens need PARLEY_JWT_SECRET, which is not set");
  }
}

// -- JWKS over http:// with refresh
// ---------------------------------------------

CAF_TEST_FIXTURE_SCOPE(jwks_tests, jwks_fixture)

CAF_TEST(RS256 verifies against the loopback JWKS) {
  auto result = auth->verify(rs256(keys::get().a.get(), "a"));
  CAF_REQUIRE_EQUAL(code(result), "ok");
  CAF_CHECK_EQUAL(result.value().sub, "alice");
  CAF_CHECK_EQUAL(server.requests(), 1u);
}

CAF_TEST(an unknown kid refreshes the JWKS once the rate limit allows) {
  auto& k = keys::get();
  publish({public_jwk(k.a.get(), "a"), public_jwk(k.b.get(), "b")});
  auto token_b = rs256(k.b.get(), "b");
  // Right after the start-up load the rate limit holds: no fetch.
  CAF_CHECK_EQUAL(code(auth->verify(token_b)), "unknown_key");
  CAF_CHECK_EQUAL(code(auth->verify(token_b)), "unknown_key");
  CAF_CHECK_EQUAL(server.requests(), 1u);
  // 30 s later the next unknown kid triggers one background fetch; verify
  // itself never waits for it.
  clock.advance(30s);
  CAF_CHECK_EQUAL(code(auth->verify(token_b)), "unknown_key");
  CAF_REQUIRE(eventually([&] { return auth->jwks()->fetch_count() == 2; }));
  CAF_CHECK_EQUAL(code(auth->verify(token_b)), "ok");
  CAF_CHECK_EQUAL(server.requests(), 2u);
  // A storm of random kids causes no further fetch within the interval.
  for (int i = 0; i < 20; ++i)
    CAF_CHECK_EQUAL(
        code(auth->verify(rs256(k.c.get(), "r" + std::to_string(i)))),
        "unknown_key");
  std::this_thread::sleep_for(50ms);
  CAF_CHECK_EQUAL(server.requests(), 2u);
}

CAF_TEST(verify_async waits for the refresh and succeeds) {
  auto& k = keys::get();
  publish({public_jwk(k.a.get(), "a"), public_jwk(k.c.get(), "c")});
  server.delay(100ms);
  clock.advance(30s);
  result_box box;
  auth->verify_async(rs256(k.c.get(), "c", "carol"), box.callback());
  CAF_REQUIRE(box.wait());
  CAF_REQUIRE_EQUAL(code(*box.result), "ok");
  CAF_CHECK_EQUAL(box.result->value().sub, "carol");
  CAF_CHECK(box.thread != std::this_thread::get_id());
  CAF_CHECK_EQUAL(server.requests(), 2u);
}

CAF_TEST(verify_async answers at once when no fetch is needed or allowed) {
  auto& k = keys::get();
  // Known kid: the callback runs before verify_async returns.
  result_box known;
  auth->verify_async(rs256(k.a.get(), "a"), known.callback());
  CAF_REQUIRE(known.result.has_value());
  CAF_CHECK_EQUAL(code(*known.result), "ok");
  CAF_CHECK(known.thread == std::this_thread::get_id());
  // Unknown kid within the rate limit: unknown_key, also at once.
  result_box unknown;
  auth->verify_async(rs256(k.c.get(), "c"), unknown.callback());
  CAF_REQUIRE(unknown.result.has_value());
  CAF_CHECK_EQUAL(code(*unknown.result), "unknown_key");
  // Forged tokens never wait for the network either.
  result_box forged;
  auth->verify_async("not.a.token", forged.callback());
  CAF_REQUIRE(forged.result.has_value());
  CAF_CHECK_EQUAL(code(*forged.result), "malformed");
  CAF_CHECK_EQUAL(server.requests(), 1u);
}

CAF_TEST(verify_async still fails when the refreshed JWKS lacks the kid) {
  clock.advance(30s);
  result_box box;
  auth->verify_async(rs256(keys::get().c.get(), "c"), box.callback());
  CAF_REQUIRE(box.wait());
  CAF_CHECK_EQUAL(code(*box.result), "unknown_key");
  CAF_CHECK_EQUAL(server.requests(), 2u);
}

CAF_TEST(a withdrawn key stops working after the next refresh) {
  auto& k = keys::get();
  publish({public_jwk(k.b.get(), "b")});
  clock.advance(30s);
  result_box box;
  auth->verify_async(rs256(k.b.get(), "b"), box.callback());
  CAF_REQUIRE(box.wait());
  CAF_CHECK_EQUAL(code(*box.result), "ok");
  CAF_CHECK_EQUAL(code(auth->verify(rs256(k.a.get(), "a"))), "unknown_key");
}

CAF_TEST(verification from many threads is safe) {
  auto& k = keys::get();
  auto good = rs256(k.a.get(), "a");
  auto bad = rs256(k.c.get(), "a");
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      for (int j = 0; j < 200; ++j) {
        if (!auth->verify(good))
          ++wrong;
        if (auth->verify(bad))
          ++wrong;
      }
    });
  for (auto& t : threads)
    t.join();
  CAF_CHECK_EQUAL(wrong.load(), 0);
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST(an authenticator whose start - up load failed recovers) {
  loopback_http server;
  server.respond(503, "");
  fake_clock clock;
  authenticator::config cfg;
  cfg.jwks_url = server.url();
  cfg.jwks.now = clock.fn();
  authenticator auth{std::move(cfg)};
  CAF_CHECK(!auth.preload().empty());
  auto t = rs256(keys::get().a.get(), "a");
  CAF_CHECK_EQUAL(code(auth.verify(t)), "unknown_key");
  server.respond(200, set_of({public_jwk(keys::get().a.get(), "a")}).dump());
  clock.advance(30s);
  result_box box;
  auth.verify_async(t, box.callback());
  CAF_REQUIRE(box.wait());
  CAF_CHECK_EQUAL(code(*box.result), "ok");
}

CAF_TEST(destroying the authenticator with a refresh under way is safe) {
  loopback_http server;
  server.respond(200, set_of({public_jwk(keys::get().c.get(), "c")}).dump());
  server.delay(200ms);
  result_box box;
  {
    authenticator::config cfg;
    cfg.jwks_url = server.url();
    authenticator auth{std::move(cfg)};
    auth.verify_async(rs256(keys::get().c.get(), "c"), box.callback());
    // Destroy only once the fetch is under way (the server counts a
    // request before its delay); a fetch not yet started would be
    // abandoned with unknown_key instead.
    CAF_REQUIRE(eventually([&] { return server.requests() == 1; }));
  }
  // The callback ran before the destructor returned.
  CAF_REQUIRE(box.result.has_value());
  CAF_CHECK_EQUAL(code(*box.result), "ok");
}

// -- token_from
// -----------------------------------------------------------------

CAF_TEST(token_from prefers a Bearer header) {
  CAF_CHECK_EQUAL(token_from("Bearer abc.def.ghi", ""), "abc.def.ghi");
  CAF_CHECK_EQUAL(token_from("bearer abc", "q"), "abc");
  CAF_CHECK_EQUAL(token_from("BEARER   abc  ", ""), "abc");
  CAF_CHECK_EQUAL(token_from("  BeArEr\tabc", ""), "abc");
}

CAF_TEST(token_from falls back to the query) {
  CAF_CHECK_EQUAL(token_from("", "q.r.s"), "q.r.s");
  CAF_CHECK_EQUAL(token_from("Basic dXNlcjpwdw==", "q"), "q");
  CAF_CHECK_EQUAL(token_from("Bearerabc", "q"), "q");
  CAF_CHECK_EQUAL(token_from("Bearer", "q"), "q");
  CAF_CHECK_EQUAL(token_from("Bearer   ", "q"), "q");
  CAF_CHECK_EQUAL(token_from("Token abc", ""), "");
  CAF_CHECK_EQUAL(token_from("", ""), "");
}

CAF_TEST(an empty token is a clear failure) {
  settings cfg;
  cfg.jwt_secret = secret;
  authenticator auth{cfg};
  auto result = auth.verify(token_from("", ""));
  CAF_CHECK_EQUAL(code(result), "malformed");
  CAF_CHECK_EQUAL(result.text(),
                  "no token (send Authorization: Bearer <token> or ?token=)");
}
