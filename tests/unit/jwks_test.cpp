// The JWKS side: parsing key sets, loading them from file:// and from a
// loopback http:// server through libcurl, refresh and its rate limit.
#define CAF_SUITE jwks
#include <caf/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/base64url.hpp"
#include "auth/fetch.hpp"
#include "auth/jwk.hpp"
#include "auth/jwks.hpp"
#include "auth/jwt.hpp"
#include "tools/jwt_test_keys.hpp"
#include "tools/loopback_http.hpp"

using nlohmann::json;
using parley::auth::jwks_cache;
using parley::auth::parse_jwks;
using parley::test::loopback_http;
using parley::test::pkey_ptr;
using parley::test::public_jwk;
using namespace std::chrono_literals;

namespace {

struct keys {
  pkey_ptr rsa = parley::test::rsa_key();
  pkey_ptr rsa2 = parley::test::rsa_key();
  pkey_ptr ec = parley::test::ec_key();

  static const keys& get() {
    static const keys instance;
    return instance;
  }
};

json rsa_jwk(const std::string& kid = "rsa-1") {
  return public_jwk(keys::get().rsa.get(), kid);
}

json ec_jwk(const std::string& kid = "ec-1") {
  return public_jwk(keys::get().ec.get(), kid);
}

json set_of(std::vector<json> entries) {
  return {{"keys", entries}};
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A clock the test moves by hand.
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

// Waits (bounded) until `pred` holds; returns whether it did.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 5000ms) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until)
      return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// Collects the results of refresh_async callbacks.
struct waiter {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<std::string> results;
  std::vector<std::thread::id> threads;

  jwks_cache::done_fn callback() {
    return [this](const std::string& error) {
      std::lock_guard<std::mutex> guard{mtx};
      results.push_back(error);
      threads.push_back(std::this_thread::get_id());
      cv.notify_all();
    };
  }

  bool wait_for(std::size_t n) {
    std::unique_lock<std::mutex> lock{mtx};
    return cv.wait_for(lock, 5s, [&] { return results.size() >= n; });
  }
};

} // namespace

// -- parsing
// --------------------------------------------------------------------

CAF_TEST(a JWKS with RSA and EC keys parses) {
  auto result = parse_jwks(set_of({rsa_jwk(), ec_jwk()}).dump());
  CAF_REQUIRE(result.keys != nullptr);
  CAF_CHECK_EQUAL(result.error, "");
  CAF_CHECK_EQUAL(result.keys->size(), 2u);
  CAF_CHECK(result.keys->find("rsa-1")->type == parley::auth::key_type::rsa);
  CAF_CHECK(result.keys->find("ec-1")->type == parley::auth::key_type::ec_p256);
  CAF_CHECK(result.skipped.empty());
}

CAF_TEST(documents that are not a JWKS are errors) {
  for (auto bad : {"", "not json", "[]", "{}", "{\"keys\":{}}",
                   "{\"keys\":\"x\"}", "{\"keys\":[]"}) {
    auto result = parse_jwks(bad);
    CAF_CHECK(result.keys == nullptr);
    CAF_CHECK(!result.error.empty());
  }
  auto empty = parse_jwks("{\"keys\":[]}");
  CAF_REQUIRE(empty.keys != nullptr);
  CAF_CHECK_EQUAL(empty.keys->size(), 0u);
}

CAF_TEST(unusable entries are skipped and the rest kept) {
  auto& k = keys::get();
  auto enc = rsa_jwk("enc");
  enc["use"] = "enc";
  auto rsa_for_es = rsa_jwk("rsa-es");
  rsa_for_es["alg"] = "ES256";
  auto rs512 = rsa_jwk("rs512");
  rs512["alg"] = "RS512";
  json oct = {{"kty", "oct"}, {"kid", "oct"}, {"k", "c2VjcmV0"}};
  auto p384 = ec_jwk("p384");
  p384["crv"] = "P-384";
  auto short_x = ec_jwk("short-x");
  short_x["x"] = parley::auth::base64url_encode(std::string(31, 'x'));
  auto off_curve = ec_jwk("off-curve");
  off_curve["y"] = off_curve["x"]; // (x, x) is not on P-256
  auto bad_n = rsa_jwk("bad-n");
  bad_n["n"] = "abc=";
  auto no_e = rsa_jwk("no-e");
  no_e.erase("e");
  auto small
      = public_jwk(parley::test::generate_key("RSA", 1024).get(), "small");
  auto numeric_kid = rsa_jwk();
  numeric_kid["kid"] = 5;
  auto duplicate = public_jwk(k.rsa2.get(), "rsa-1");
  auto doc = set_of({rsa_jwk(), enc, rsa_for_es, rs512, oct, p384, short_x,
                     off_curve, bad_n, no_e, small, numeric_kid, duplicate,
                     "string entry", ec_jwk()});
  auto result = parse_jwks(doc.dump());
  CAF_REQUIRE(result.keys != nullptr);
  CAF_CHECK_EQUAL(result.keys->size(), 2u);
  CAF_CHECK(result.keys->find("rsa-1") != nullptr);
  CAF_CHECK(result.keys->find("ec-1") != nullptr);
  CAF_CHECK(result.keys->find("oct") == nullptr);
  CAF_CHECK_EQUAL(result.skipped.size(), 13u);
  // The duplicate did not replace the first "rsa-1".
  auto t = parley::test::sign_token(k.rsa.get(),
                                    {{"alg", "RS256"}, {"kid", "rsa-1"}},
                                    {{"sub", "a"}, {"exp", 4000000000}});
  auto verified = parley::auth::verify_jwt(
      t, parley::auth::key_ring{"", result.keys.get()}, {},
      std::chrono::system_clock::now());
  CAF_CHECK(verified.ok());
  std::string all;
  for (auto& line : result.skipped)
    all += line + "\n";
  for (auto why :
       {"use is \"enc\"", "RSA key for ES256", "RSA key for RS512",
        "unsupported kty oct", "EC curve is not P-256",
        "EC coordinates are not 32 bytes", "(kid \"off-curve\")",
        "invalid base64url in n", "missing e", "RSA key shorter than 2048 bits",
        "kid is not a string", "repeated kid", "entry is not an object"})
    CAF_CHECK_EQUAL(contains(all, why) ? why : all, why);
}

CAF_TEST(keys without kid are all kept) {
  auto a = rsa_jwk("");
  auto b = public_jwk(keys::get().rsa2.get(), "");
  auto result = parse_jwks(set_of({a, b}).dump());
  CAF_REQUIRE(result.keys != nullptr);
  CAF_CHECK_EQUAL(result.keys->size(), 2u);
  CAF_CHECK(result.keys->only() == nullptr);
}

// -- file:// ------------------------------------------------------------------

CAF_TEST(file URLs load from disk) {
  parley::test::temp_file file{set_of({rsa_jwk()}).dump()};
  jwks_cache cache{file.url()};
  CAF_CHECK_EQUAL(cache.refresh(), "");
  CAF_CHECK_EQUAL(cache.keys()->size(), 1u);
  CAF_CHECK_EQUAL(cache.fetch_count(), 1u);
  jwks_cache localhost{"file://localhost" + file.path()};
  CAF_CHECK_EQUAL(localhost.refresh(), "");
  CAF_CHECK_EQUAL(localhost.keys()->size(), 1u);
}

CAF_TEST(a failed load keeps the previous keys) {
  parley::test::temp_file file{set_of({rsa_jwk(), ec_jwk()}).dump()};
  jwks_cache cache{file.url()};
  CAF_REQUIRE_EQUAL(cache.refresh(), "");
  file.write("{\"keys\": not json");
  auto error = cache.refresh();
  CAF_CHECK(contains(error, "JWKS is not a JSON object"));
  CAF_CHECK_EQUAL(cache.keys()->size(), 2u);
  std::remove(file.path().c_str());
  error = cache.refresh();
  CAF_CHECK(contains(error, "cannot open the file"));
  CAF_CHECK_EQUAL(cache.keys()->size(), 2u);
  CAF_CHECK_EQUAL(cache.fetch_count(), 3u);
}

CAF_TEST(bad URLs are errors) {
  for (auto url : {"file://relative/path", "ftp://127.0.0.1/jwks.json",
                   "/etc/passwd", "gopher://x"})
    CAF_CHECK(!parley::auth::fetch_document(url).error.empty());
  jwks_cache cache{"file:///nonexistent/parley/jwks.json"};
  CAF_CHECK(!cache.refresh().empty());
  CAF_CHECK_EQUAL(cache.keys()->size(), 0u);
}

CAF_TEST(oversized documents are refused) {
  parley::test::temp_file file{std::string(2000, ' ') + "{\"keys\":[]}"};
  parley::auth::fetch_limits limits;
  limits.max_bytes = 1000;
  auto result = parley::auth::fetch_document(file.url(), limits);
  CAF_CHECK(contains(result.error, "larger than 1000 bytes"));
}

CAF_TEST(URLs in errors hide credentials) {
  using parley::auth::redact_url;
  CAF_CHECK_EQUAL(redact_url("https://u:pw@h.example/x"),
                  "https://***@h.example/x");
  CAF_CHECK_EQUAL(redact_url("https://h.example/a@b"), "https://h.example/a@b");
  CAF_CHECK_EQUAL(redact_url("file:///tmp/x"), "file:///tmp/x");
  auto result = parley::auth::fetch_document("http://u:secret@127.0.0.1:1/");
  CAF_CHECK(!contains(result.error, "secret"));
}

// -- http:// through libcurl --------------------------------------------------

CAF_TEST(http URLs load through curl) {
  loopback_http server;
  server.respond(200, set_of({rsa_jwk(), ec_jwk()}).dump());
  jwks_cache cache{server.url()};
  CAF_CHECK_EQUAL(cache.refresh(), "");
  CAF_CHECK_EQUAL(cache.keys()->size(), 2u);
  CAF_CHECK_EQUAL(server.requests(), 1u);
  auto lines = server.request_lines();
  CAF_REQUIRE_EQUAL(lines.size(), 1u);
  CAF_CHECK_EQUAL(lines[0], "GET /jwks.json HTTP/1.1");
}

CAF_TEST(http errors keep the previous keys) {
  loopback_http server;
  server.respond(200, set_of({rsa_jwk()}).dump());
  jwks_cache cache{server.url()};
  CAF_REQUIRE_EQUAL(cache.refresh(), "");
  server.respond(500, "oops");
  CAF_CHECK(contains(cache.refresh(), "HTTP status 500"));
  server.respond(404, set_of({}).dump());
  CAF_CHECK(contains(cache.refresh(), "HTTP status 404"));
  server.respond(200, "<html>");
  CAF_CHECK(contains(cache.refresh(), "not a JSON object"));
  CAF_CHECK_EQUAL(cache.keys()->size(), 1u);
  CAF_CHECK_EQUAL(server.requests(), 4u);
}

CAF_TEST(http fetches time out) {
  loopback_http server;
  server.delay(1500ms);
  jwks_cache::options opts;
  opts.limits.timeout = 200ms;
  jwks_cache cache{server.url(), opts};
  auto start = std::chrono::steady_clock::now();
  auto error = cache.refresh();
  CAF_CHECK(!error.empty());
  CAF_CHECK(std::chrono::steady_clock::now() - start < 1400ms);
}

CAF_TEST(a closed port is an error not a hang) {
  std::uint16_t port;
  {
    loopback_http server;
    port = server.port();
  }
  auto url = "http://127.0.0.1:" + std::to_string(port) + "/jwks.json";
  CAF_CHECK(!parley::auth::fetch_document(url).error.empty());
}

// -- refresh and its rate limit
// -------------------------------------------------

CAF_TEST(refresh_async fetches on its own thread and calls back) {
  loopback_http server;
  server.respond(200, set_of({rsa_jwk()}).dump());
  fake_clock clock;
  jwks_cache::options opts;
  opts.now = clock.fn();
  jwks_cache cache{server.url(), opts};
  waiter w;
  CAF_CHECK(cache.refresh_async(w.callback()));
  CAF_REQUIRE(w.wait_for(1));
  CAF_CHECK_EQUAL(w.results[0], "");
  CAF_CHECK(w.threads[0] != std::this_thread::get_id());
  CAF_CHECK_EQUAL(cache.keys()->size(), 1u);
  CAF_CHECK_EQUAL(server.requests(), 1u);
}

CAF_TEST(refreshes are rate limited) {
  loopback_http server;
  server.respond(200, set_of({rsa_jwk()}).dump());
  fake_clock clock;
  jwks_cache::options opts;
  opts.now = clock.fn();
  jwks_cache cache{server.url(), opts};
  CAF_REQUIRE_EQUAL(cache.refresh(), ""); // start-up load
  waiter w;
  // Within 30 s of the last attempt nothing is fetched, whatever is asked.
  for (int i = 0; i < 10; ++i)
    CAF_CHECK(!cache.refresh_async(w.callback()));
  clock.advance(29s);
  CAF_CHECK(!cache.refresh_async(w.callback()));
  CAF_CHECK_EQUAL(server.requests(), 1u);
  // At 30 s one fetch is allowed, and then none again for 30 s.
  clock.advance(1s);
  CAF_CHECK(cache.refresh_async(w.callback()));
  CAF_REQUIRE(w.wait_for(1));
  CAF_CHECK(!cache.refresh_async(w.callback()));
  CAF_CHECK_EQUAL(server.requests(), 2u);
  CAF_CHECK_EQUAL(w.results.size(), 1u);
  // Failed attempts count too: a broken issuer is not hammered.
  server.respond(500, "");
  clock.advance(30s);
  CAF_CHECK(cache.refresh_async(w.callback()));
  CAF_REQUIRE(w.wait_for(2));
  CAF_CHECK(contains(w.results[1], "HTTP status 500"));
  clock.advance(10s);
  CAF_CHECK(!cache.refresh_async(w.callback()));
  CAF_CHECK_EQUAL(server.requests(), 3u);
  CAF_CHECK_EQUAL(cache.keys()->size(), 1u);
}

CAF_TEST(callers join the fetch under way) {
  loopback_http server;
  server.respond(200, set_of({rsa_jwk()}).dump());
  server.delay(300ms);
  jwks_cache cache{server.url()};
  waiter w;
  CAF_CHECK(cache.refresh_async(w.callback()));
  CAF_CHECK(cache.refresh_async(w.callback()));
  CAF_CHECK(cache.refresh_async(w.callback()));
  CAF_REQUIRE(w.wait_for(3));
  CAF_CHECK_EQUAL(server.requests(), 1u);
  CAF_CHECK_EQUAL(cache.fetch_count(), 1u);
  for (auto& x : w.results)
    CAF_CHECK_EQUAL(x, "");
}

CAF_TEST(stale keys are refreshed in the background) {
  loopback_http server;
  server.respond(200, set_of({rsa_jwk()}).dump());
  fake_clock clock;
  jwks_cache::options opts;
  opts.now = clock.fn();
  opts.max_age = 3600s;
  jwks_cache cache{server.url(), opts};
  CAF_REQUIRE_EQUAL(cache.refresh(), "");
  server.respond(200, set_of({rsa_jwk(), ec_jwk()}).dump());
  clock.advance(3599s);
  CAF_CHECK_EQUAL(cache.keys()->size(), 1u);
  CAF_CHECK_EQUAL(server.requests(), 1u);
  clock.advance(1s);
  // Still the old keys right away (no waiting on the network) ...
  CAF_CHECK_EQUAL(cache.keys()->size(), 1u);
  // ... and the new ones once the background fetch is done.
  CAF_CHECK(eventually([&] { return cache.fetch_count() == 2; }));
  CAF_CHECK_EQUAL(cache.keys()->size(), 2u);
  CAF_CHECK_EQUAL(server.requests(), 2u);
}

CAF_TEST(a cache that never loaded retries as keys are asked for) {
  loopback_http server;
  server.respond(503, "");
  fake_clock clock;
  jwks_cache::options opts;
  opts.now = clock.fn();
  jwks_cache cache{server.url(), opts};
  CAF_CHECK(!cache.refresh().empty());
  CAF_CHECK_EQUAL(cache.keys()->size(), 0u); // rate limited: no fetch
  CAF_CHECK_EQUAL(server.requests(), 1u);
  server.respond(200, set_of({rsa_jwk()}).dump());
  clock.advance(30s);
  CAF_CHECK_EQUAL(cache.keys()->size(), 0u); // starts one
  CAF_CHECK(eventually([&] { return cache.keys()->size() == 1u; }));
  CAF_CHECK_EQUAL(server.requests(), 2u);
}

CAF_TEST(stop ends the worker and refuses new refreshes) {
  loopback_http server;
  server.respond(200, set_of({rsa_jwk()}).dump());
  server.delay(200ms);
  jwks_cache cache{server.url()};
  waiter w;
  CAF_CHECK(cache.refresh_async(w.callback()));
  cache.stop(); // waits for the fetch under way
  CAF_CHECK_EQUAL(w.results.size(), 1u);
  CAF_CHECK(!cache.refresh_async(w.callback()));
  cache.stop();
}

CAF_TEST(lookups from many threads during refreshes are safe) {
  // Meant for the sanitizer builds: readers take snapshots while a writer
  // swaps the key set over and over.
  parley::test::temp_file file{set_of({rsa_jwk(), ec_jwk()}).dump()};
  jwks_cache::options opts;
  opts.min_refresh_interval = 0s;
  jwks_cache cache{file.url(), opts};
  CAF_REQUIRE_EQUAL(cache.refresh(), "");
  auto t = parley::test::sign_token(keys::get().ec.get(),
                                    {{"alg", "ES256"}, {"kid", "ec-1"}},
                                    {{"sub", "a"}, {"exp", 4000000000}});
  std::atomic<int> failures{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i)
    readers.emplace_back([&] {
      while (!done) {
        auto snapshot = cache.keys();
        auto r = parley::auth::verify_jwt(
            t, parley::auth::key_ring{"", snapshot.get()}, {},
            std::chrono::system_clock::now());
        if (!r)
          ++failures;
      }
    });
  for (int i = 0; i < 50; ++i) {
    cache.refresh();
    cache.refresh_async(nullptr);
  }
  done = true;
  for (auto& r : readers)
    r.join();
  CAF_CHECK_EQUAL(failures.load(), 0);
  CAF_CHECK(cache.fetch_count() >= 51u);
}
