// `parley token`: the development token printer.
#define CAF_SUITE jwt_token_command
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/base64url.hpp"
#include "auth/jwt.hpp"
#include "auth/token_command.hpp"
#include "config/settings.hpp"

using parley::settings;
using parley::auth::run_token_command;

namespace {

constexpr std::int64_t t0 = 1700000000;
const auto now
    = std::chrono::system_clock::time_point{std::chrono::seconds{t0}};
const std::string secret = "token-command-secret-of-32-bytes!";

struct outcome {
  int rc;
  std::string out;
  std::string err;
};

outcome run(const std::vector<std::string>& args, const settings& cfg) {
  std::ostringstream out;
  std::ostringstream err;
  auto rc = run_token_command(args, cfg, out, err, now);
  return {rc, out.str(), err.str()};
}

settings with_secret() {
  settings cfg;
  cfg.jwt_secret = secret;
  return cfg;
}

std::size_t lines(const std::string& x) {
  std::size_t n = 0;
  for (auto c : x)
    n += c == '\n';
  return n;
}

nlohmann::json payload_of(const std::string& token) {
  auto d1 = token.find('.');
  auto d2 = token.find('.', d1 + 1);
  auto bytes
      = parley::auth::base64url_decode(token.substr(d1 + 1, d2 - d1 - 1));
  return nlohmann::json::parse(bytes.value_or("null"));
}

// The printed token, checked with the same secret at `now`.
parley::auth::verify_result
verify(const outcome& x, const parley::auth::claim_rules& rules = {}) {
  auto token = x.out.substr(0, x.out.find('\n'));
  return parley::auth::verify_jwt(
      token, parley::auth::key_ring{secret, nullptr}, rules, now);
}

// A usage error: exit 2, nothing on stdout, exactly one line on stderr.
void check_usage_error(const outcome& x, const std::string& needle) {
  CAF_CHECK_EQUAL(x.rc, 2);
  CAF_CHECK_EQUAL(x.out, "");
  CAF_CHECK_EQUAL(lines(x.err), 1u);
  CAF_CHECK_EQUAL(x.err.rfind("parley token: ", 0), 0u);
  if (x.err.find(needle) == std::string::npos)
    CAF_CHECK_EQUAL(x.err, needle);
}

} // namespace

CAF_TEST(prints a token that verifies with the secret) {
  auto x = run({"--sub", "alice", "--name", "Alice"}, with_secret());
  CAF_REQUIRE_EQUAL(x.rc, 0);
  CAF_CHECK_EQUAL(x.err, "");
  CAF_CHECK_EQUAL(lines(x.out), 1u);
  auto result = verify(x);
  CAF_REQUIRE(result.ok());
  CAF_CHECK_EQUAL(result.value().sub, "alice");
  CAF_CHECK_EQUAL(result.value().name, "Alice");
  auto p = payload_of(x.out);
  CAF_CHECK_EQUAL(p.at("iat").get<std::int64_t>(), t0);
  CAF_CHECK_EQUAL(p.at("exp").get<std::int64_t>(), t0 + 3600);
  CAF_CHECK(!p.contains("iss"));
  CAF_CHECK(!p.contains("aud"));
}

CAF_TEST(the ttl sets exp) {
  auto x = run({"--sub=bob", "--ttl=60"}, with_secret());
  CAF_REQUIRE_EQUAL(x.rc, 0);
  auto p = payload_of(x.out);
  CAF_CHECK_EQUAL(p.at("exp").get<std::int64_t>(), t0 + 60);
  CAF_CHECK(!p.contains("name"));
  // Expired once the ttl and the leeway have passed.
  auto token = x.out.substr(0, x.out.find('\n'));
  auto later = now + std::chrono::seconds{60 + 30};
  auto result = parley::auth::verify_jwt(
      token, parley::auth::key_ring{secret, nullptr}, {}, later);
  CAF_CHECK_EQUAL(result ? "ok" : to_string(result.error()), "expired");
}

CAF_TEST(issuer and audience are included when configured) {
  auto cfg = with_secret();
  cfg.jwt_issuer = "https://issuer.example";
  cfg.jwt_audience = "parley";
  auto x = run({"--sub", "alice"}, cfg);
  CAF_REQUIRE_EQUAL(x.rc, 0);
  parley::auth::claim_rules rules;
  rules.issuer = cfg.jwt_issuer;
  rules.audience = cfg.jwt_audience;
  CAF_CHECK(verify(x, rules).ok());
  auto p = payload_of(x.out);
  CAF_CHECK_EQUAL(p.at("aud"), "parley");
  CAF_CHECK_EQUAL(p.at("iss"), "https://issuer.example");
}

CAF_TEST(a missing secret is a usage error) {
  check_usage_error(run({"--sub", "alice"}, settings{}),
                    "PARLEY_JWT_SECRET is not set");
}

CAF_TEST(a missing sub is a usage error) {
  check_usage_error(run({}, with_secret()), "--sub is required");
  check_usage_error(run({"--name", "Alice"}, with_secret()),
                    "--sub is required");
  check_usage_error(run({"--sub"}, with_secret()), "missing value for --sub");
  check_usage_error(run({"--sub="}, with_secret()), "--sub is empty");
  check_usage_error(run({"--sub", "--name", "x"}, with_secret()),
                    "missing value for --sub");
}

CAF_TEST(a bad ttl is a usage error) {
  for (auto bad : {"abc", "0", "-5", "1e3", "12s", "", " 5",
                   "99999999999999999999", "31536001"})
    check_usage_error(run({"--sub", "a", "--ttl", bad}, with_secret()),
                      "--ttl");
  CAF_CHECK_EQUAL(run({"--sub", "a", "--ttl", "31536000"}, with_secret()).rc,
                  0);
  check_usage_error(run({"--sub", "a", "--ttl"}, with_secret()),
                    "missing value for --ttl");
}

CAF_TEST(unknown arguments are usage errors) {
  check_usage_error(run({"--sub", "a", "--role", "admin"}, with_secret()),
                    "unexpected argument \"--role\"");
  check_usage_error(run({"alice"}, with_secret()),
                    "unexpected argument \"alice\"");
}

CAF_TEST(invalid UTF - 8 is a usage error not a crash) {
  check_usage_error(run({"--sub", "a\xff"}, with_secret()), "UTF-8");
}

CAF_TEST(help prints usage) {
  auto x = run({"--help"}, settings{});
  CAF_CHECK_EQUAL(x.rc, 0);
  CAF_CHECK_EQUAL(x.out.rfind("usage: parley token --sub ID", 0), 0u);
  CAF_CHECK_EQUAL(x.err, "");
}
