#define CAF_SUITE provider_errors
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <string>

#include "agent/upstream_error.hpp"

using namespace parley::agent;
using std::chrono::milliseconds;

CAF_TEST(http statuses map to kinds texts and retries) {
  struct row {
    long status;
    failure_kind kind;
    bool retryable;
    const char* type;
    const char* text;
  };
  row rows[] = {
    {401, failure_kind::auth, false, "llm_auth",
     "The AI service rejected the API key (HTTP 401)"},
    {403, failure_kind::auth, false, "llm_auth",
     "The AI service rejected the API key (HTTP 403)"},
    {429, failure_kind::rate_limited, true, "llm_rate_limited",
     "The AI service is rate limiting requests (HTTP 429); please try again "
     "later"},
    {500, failure_kind::unavailable, true, "llm_unavailable",
     "The AI service is unavailable (HTTP 500); please try again later"},
    {529, failure_kind::unavailable, true, "llm_unavailable",
     "The AI service is unavailable (HTTP 529); please try again later"},
    {404, failure_kind::refused, false, "llm_refused",
     "The AI service refused the request (HTTP 404)"},
    {400, failure_kind::refused, false, "llm_refused",
     "The AI service refused the request (HTTP 400)"},
  };
  for (auto& r : rows) {
    auto f = http_failure(r.status, R"({"error":{"message":"m","type":"t"}})",
                          milliseconds{-1});
    CAF_CHECK(f.kind == r.kind);
    CAF_CHECK_EQUAL(f.retryable, r.retryable);
    CAF_CHECK_EQUAL(error_type(f.kind), std::string{r.type});
    CAF_CHECK_EQUAL(f.text, r.text);
    CAF_CHECK_EQUAL(f.http_status, r.status);
    CAF_CHECK_EQUAL(f.detail, "HTTP " + std::to_string(r.status) + ": t: m");
  }
}

CAF_TEST(the people - facing text never quotes the upstream) {
  auto f = http_failure(401,
                        R"({"error":{"message":"Incorrect API key provided: )"
                        R"(sk-live-123456789"}})",
                        milliseconds{-1});
  CAF_CHECK(f.text.find("sk-") == std::string::npos);
  CAF_CHECK(f.detail.find("Incorrect API key") != std::string::npos);
}

CAF_TEST(retry after) {
  auto now = std::chrono::system_clock::from_time_t(1445412480); // 07:28:00
  CAF_CHECK_EQUAL(parse_retry_after("1", now).count(), 1000);
  CAF_CHECK_EQUAL(parse_retry_after(" 30 ", now).count(), 30000);
  CAF_CHECK_EQUAL(parse_retry_after("", now).count(), -1);
  CAF_CHECK_EQUAL(parse_retry_after("soon", now).count(), -1);
  CAF_CHECK_EQUAL(
    parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now).count(), 10000);
  CAF_CHECK_EQUAL( // a date in the past: retry now
    parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now).count(), 0);
}

CAF_TEST(redaction removes the key and runs of it) {
  std::string key = "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  CAF_CHECK_EQUAL(redact("bad key " + key + " given", key),
                  "bad key [redacted] given");
  // Upstreams quote a head or a tail of the key.
  CAF_CHECK_EQUAL(
    redact("Incorrect API key provided: sk-proj-ABCD****6789", key),
    "Incorrect API key provided: [redacted]****6789");
  CAF_CHECK_EQUAL(redact("...UVWXYZ0123456789.", key), "...[redacted].");
  CAF_CHECK_EQUAL(redact("nothing secret here", key), "nothing secret here");
  CAF_CHECK_EQUAL(redact("short keys are left alone", "ab"),
                  "short keys are left alone");
}

CAF_TEST(error messages of both APIs and of Ollama) {
  CAF_CHECK_EQUAL(error_message_of(R"({"type":"error","error":{"type":)"
                                   R"("authentication_error","message":)"
                                   R"("invalid x-api-key"}})"),
                  "authentication_error: invalid x-api-key");
  CAF_CHECK_EQUAL(error_message_of(R"({"error":"model 'x' not found"})"),
                  "model 'x' not found");
  CAF_CHECK_EQUAL(error_message_of("<html>Bad Gateway</html>"),
                  "<html>Bad Gateway</html>");
  CAF_CHECK_EQUAL(error_message_of(std::string(1000, 'x'), 10).size(), 10u);
}

CAF_TEST(in - stream error types) {
  CAF_CHECK(stream_error("overloaded_error", "").kind
            == failure_kind::unavailable);
  CAF_CHECK(stream_error("rate_limit_error", "").kind
            == failure_kind::rate_limited);
  CAF_CHECK(stream_error("authentication_error", "").kind
            == failure_kind::auth);
  auto odd = stream_error("weird type <script>", "x");
  CAF_CHECK(odd.kind == failure_kind::upstream);
  CAF_CHECK_EQUAL(odd.text, "The AI service reported an error");
}

CAF_TEST(durations) {
  CAF_CHECK_EQUAL(describe_ms(700), "700 ms");
  CAF_CHECK_EQUAL(describe_ms(1500), "1500 ms");
  CAF_CHECK_EQUAL(describe_ms(30000), "30 s");
}
