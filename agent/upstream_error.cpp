#include "agent/upstream_error.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>

#include <nlohmann/json.hpp>

namespace parley::agent {

namespace {

using json = nlohmann::json;

std::string with_status(const char* text, long status) {
  return std::string{text} + " (HTTP " + std::to_string(status) + ")";
}

// What people read. These texts reach visitors, so they name the trouble
// without upstream wording, which could quote parts of a key.
const char* text_of(failure_kind kind) {
  switch (kind) {
  case failure_kind::auth:
    return "The AI service rejected the API key";
  case failure_kind::rate_limited:
    return "The AI service is rate limiting requests; please try again "
           "later";
  case failure_kind::unavailable:
    return "The AI service is unavailable; please try again later";
  case failure_kind::unreachable:
    return "Could not reach the AI service";
  case failure_kind::refused:
    return "The AI service refused the request";
  case failure_kind::first_token:
    return "The AI service did not start answering in time";
  case failure_kind::silence:
    return "The AI service stopped sending in the middle of the reply";
  case failure_kind::bad_stream:
    return "The AI service sent a malformed stream";
  case failure_kind::cut:
    return "The connection to the AI service was cut before the reply "
           "was complete";
  case failure_kind::upstream:
    return "The AI service reported an error";
  case failure_kind::shutdown:
    return "Server is shutting down; the reply was interrupted";
  }
  return "The AI service failed";
}

bool retryable(failure_kind kind) {
  return kind == failure_kind::rate_limited || kind == failure_kind::unavailable
         || kind == failure_kind::unreachable || kind == failure_kind::cut;
}

} // namespace

const char* error_type(failure_kind kind) {
  switch (kind) {
  case failure_kind::auth:
    return "llm_auth";
  case failure_kind::rate_limited:
    return "llm_rate_limited";
  case failure_kind::unavailable:
    return "llm_unavailable";
  case failure_kind::unreachable:
    return "llm_unreachable";
  case failure_kind::refused:
    return "llm_refused";
  case failure_kind::first_token:
  case failure_kind::silence:
    return "llm_timeout";
  case failure_kind::bad_stream:
    return "llm_bad_stream";
  case failure_kind::cut:
    return "llm_cut";
  case failure_kind::upstream:
    return "llm_error";
  case failure_kind::shutdown:
    return "shutdown";
  }
  return "llm_error";
}

failure make_failure(failure_kind kind, std::string detail) {
  failure f;
  f.kind = kind;
  f.text = text_of(kind);
  f.detail = std::move(detail);
  f.retryable = retryable(kind);
  return f;
}

failure http_failure(long status, std::string_view body,
                     std::chrono::milliseconds retry_after) {
  failure_kind kind;
  if (status == 401 || status == 403)
    kind = failure_kind::auth;
  else if (status == 429)
    kind = failure_kind::rate_limited;
  else if (status >= 500 || status == 408)
    kind = failure_kind::unavailable; // 529 is Anthropic's "overloaded"
  else
    kind = failure_kind::refused;
  auto f = make_failure(kind, "HTTP " + std::to_string(status) + ": "
                                + error_message_of(body));
  f.http_status = static_cast<int>(status);
  f.retry_after = retry_after;
  if (kind == failure_kind::rate_limited)
    f.text = with_status("The AI service is rate limiting requests", status)
             + "; please try again later";
  else if (kind == failure_kind::unavailable)
    f.text = with_status("The AI service is unavailable", status)
             + "; please try again later";
  else
    f.text = with_status(text_of(kind), status);
  return f;
}

failure stream_error(std::string_view type, std::string_view message) {
  failure_kind kind = failure_kind::upstream;
  if (type == "overloaded_error" || type == "api_error"
      || type == "server_error")
    kind = failure_kind::unavailable;
  else if (type == "rate_limit_error")
    kind = failure_kind::rate_limited;
  else if (type == "authentication_error" || type == "permission_error")
    kind = failure_kind::auth;
  auto f = make_failure(kind, "error event " + std::string{type} + ": "
                                + std::string{message.substr(0, 300)});
  // The type word is the provider's vocabulary, safe and useful to show.
  bool word = !type.empty() && type.size() <= 40;
  for (char c : type)
    word = word && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (word)
    f.text = std::string{text_of(failure_kind::upstream)} + " ("
             + std::string{type} + ")";
  return f;
}

std::chrono::milliseconds
parse_retry_after(std::string_view value,
                  std::chrono::system_clock::time_point now) {
  using std::chrono::milliseconds;
  while (!value.empty()
         && std::isspace(static_cast<unsigned char>(value.front())))
    value.remove_prefix(1);
  while (!value.empty()
         && std::isspace(static_cast<unsigned char>(value.back())))
    value.remove_suffix(1);
  if (value.empty())
    return milliseconds{-1};
  bool digits = value.size() <= 9;
  for (char c : value)
    digits = digits && c >= '0' && c <= '9';
  if (digits)
    return milliseconds{std::stoll(std::string{value}) * 1000};
  // An HTTP date: "Wed, 21 Oct 2015 07:28:00 GMT".
  std::tm tm{};
  std::string text{value};
  if (strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm) == nullptr)
    return milliseconds{-1};
  auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
  auto delta = std::chrono::duration_cast<milliseconds>(at - now);
  return delta.count() < 0 ? milliseconds{0} : delta;
}

std::string error_message_of(std::string_view body, std::size_t limit) {
  auto doc = json::parse(body.begin(), body.end(), nullptr, false);
  std::string out;
  if (doc.is_object()) {
    auto err = doc.find("error");
    if (err != doc.end() && err->is_object()) {
      auto msg = err->find("message");
      if (msg != err->end() && msg->is_string())
        out = msg->get<std::string>();
      auto type = err->find("type");
      if (type != err->end() && type->is_string())
        out = type->get<std::string>() + (out.empty() ? "" : ": ") + out;
    } else if (err != doc.end() && err->is_string()) {
      out = err->get<std::string>(); // Ollama's {"error": "..."}
    }
  }
  if (out.empty())
    out.assign(body.substr(0, limit));
  if (out.size() > limit)
    out.resize(limit);
  return out;
}

std::string redact(std::string text, std::string_view secret) {
  // Short "keys" would redact half the text and protect nothing.
  if (secret.size() < 4)
    return text;
  // Upstreams echo keys in part ("Incorrect API key provided: sk-ab***");
  // any run of 8 bytes from the key goes, not just the whole key.
  auto run = std::min<std::size_t>(8, secret.size());
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t best = 0;
    for (std::size_t k = 0; k + run <= secret.size(); ++k) {
      std::size_t n = 0;
      while (i + n < text.size() && k + n < secret.size()
             && text[i + n] == secret[k + n])
        ++n;
      best = std::max(best, n);
    }
    if (best >= run) {
      out += "[redacted]";
      i += best;
    } else {
      out += text[i++];
    }
  }
  return out;
}

std::string describe_ms(long long ms) {
  if (ms < 1000 || ms % 1000 != 0)
    return std::to_string(ms) + " ms";
  return std::to_string(ms / 1000) + " s";
}

} // namespace parley::agent
