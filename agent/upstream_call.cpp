#include "agent/upstream_call.hpp"

#include <algorithm>
#include <cctype>

#include "agent/upstream_error.hpp"

namespace parley::agent {

namespace {

constexpr std::size_t max_error_body = 16 * 1024;

bool is_success(long status) {
  return status >= 200 && status < 300;
}

std::string lower(std::string_view x) {
  std::string out{x};
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view x) {
  while (!x.empty() && std::isspace(static_cast<unsigned char>(x.front())))
    x.remove_prefix(1);
  while (!x.empty() && std::isspace(static_cast<unsigned char>(x.back())))
    x.remove_suffix(1);
  return x;
}

// Storage cannot hold NUL characters, and no reply needs them.
void drop_nuls(std::string& x) {
  x.erase(std::remove(x.begin(), x.end(), '\0'), x.end());
}

} // namespace

upstream_call::upstream_call(curl_loop& loop, const provider& upstream,
                             http_request req, call_limits limits,
                             stream_callbacks cb, std::string secret,
                             std::function<void()> on_finished)
    : loop_(loop), upstream_(upstream), req_(std::move(req)), limits_(limits),
      cb_(std::move(cb)), secret_(std::move(secret)),
      on_finished_(std::move(on_finished)),
      rng_(static_cast<unsigned>(reinterpret_cast<std::uintptr_t>(this)
                                 ^ static_cast<std::uintptr_t>(
                                   clock::now().time_since_epoch().count()))) {
  // nop
}

upstream_call::~upstream_call() {
  disarm();
  drop_transfer();
}

void upstream_call::start() {
  begin_attempt();
}

void upstream_call::cancel() {
  if (phase_ == phase::finished)
    return;
  disarm();
  drop_transfer();
  phase_ = phase::finished;
  cb_ = {}; // releases whatever the callbacks hold (actor handles)
  if (on_finished_)
    on_finished_();
}

void upstream_call::begin_attempt() {
  ++attempt_;
  phase_ = phase::running;
  decoder_ = upstream_.make_decoder();
  parser_ = sse_parser{};
  events_.clear();
  status_ = 0;
  error_body_.clear();
  content_type_.clear();
  retry_after_.clear();
  retry_after_ms_.clear();
  pending_.reset();
  any_event_ = false;
  errbuf_[0] = '\0';
  started_ = last_data_ = clock::now();
  easy_ = curl_easy_init();
  if (easy_ == nullptr)
    return fail(make_failure(failure_kind::unreachable, "curl_easy_init"));
  for (auto& h : req_.headers)
    headers_ = curl_slist_append(headers_, h.c_str());
  // Without this curl waits for "100 Continue" before sending a long body.
  headers_ = curl_slist_append(headers_, "Expect:");
  curl_easy_setopt(easy_, CURLOPT_URL, req_.url.c_str());
  curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers_);
  curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, req_.body.data());
  curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(req_.body.size()));
  curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &upstream_call::write_cb);
  curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &upstream_call::header_cb);
  curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
  curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, errbuf_);
  curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy_, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(limits_.connect_timeout.count()));
  curl_easy_setopt(easy_, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy_, CURLOPT_TCP_NODELAY, 1L);
  // Only http and https: a base URL must not turn into file:// reads.
  curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy_, CURLOPT_FOLLOWLOCATION, 0L);
  loop_.add(easy_, this);
  arm(started_ + limits_.first_token_timeout);
}

std::size_t upstream_call::write_cb(char* ptr, std::size_t size, std::size_t n,
                                    void* self) {
  auto len = size * n;
  // Returning less than len makes curl abort with CURLE_WRITE_ERROR; the
  // reason waits in pending_ for on_complete.
  return static_cast<upstream_call*>(self)->on_body({ptr, len}) ? len : 0;
}

std::size_t upstream_call::header_cb(char* ptr, std::size_t size, std::size_t n,
                                     void* self) {
  static_cast<upstream_call*>(self)->on_header({ptr, size * n});
  return size * n;
}

void upstream_call::on_header(std::string_view line) {
  last_data_ = clock::now();
  if (line.substr(0, 5) == "HTTP/") {
    // A new response (after a 1xx, say): forget the previous one's fields.
    content_type_.clear();
    retry_after_.clear();
    retry_after_ms_.clear();
    return;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos)
    return;
  auto name = lower(trim(line.substr(0, colon)));
  auto value = std::string{trim(line.substr(colon + 1))};
  if (name == "content-type")
    content_type_ = lower(value);
  else if (name == "retry-after")
    retry_after_ = std::move(value);
  else if (name == "retry-after-ms")
    retry_after_ms_ = std::move(value);
}

bool upstream_call::on_body(std::string_view bytes) {
  last_data_ = clock::now();
  if (status_ == 0)
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status_);
  if (!is_success(status_)) {
    // Kept for the log; the people-facing text depends on the status only.
    auto room = max_error_body - std::min(max_error_body, error_body_.size());
    error_body_.append(bytes.substr(0, room));
    return true;
  }
  if (phase_ != phase::running)
    return true; // the reply is complete; the rest is the response's tail
  if (!any_event_ && content_type_.find("json") != std::string::npos) {
    pending_ = make_failure(failure_kind::bad_stream,
                            "answered " + content_type_
                              + " instead of text/event-stream");
    return false;
  }
  events_.clear();
  if (!parser_.feed(bytes, events_)) {
    pending_ = make_failure(failure_kind::bad_stream,
                            "an event exceeded the size limit");
    return false;
  }
  for (auto& ev : events_) {
    any_event_ = true;
    decoded d;
    decoder_->on_event(ev, d);
    if (d.error) {
      pending_ = std::move(*d.error);
      return false;
    }
    if ((d.progress || !d.text.empty()) && !first_token_) {
      first_token_ = true;
      // From now on silence, not the first-token deadline, is watched.
      arm(last_data_ + limits_.idle_timeout);
    }
    drop_nuls(d.text);
    if (!d.text.empty() && cb_.on_text)
      cb_.on_text(std::move(d.text));
    if (d.done) {
      phase_ = phase::draining;
      if (cb_.on_done)
        cb_.on_done(decoder_->summary());
      return true;
    }
  }
  return true;
}

void upstream_call::on_complete(CURLcode result) {
  // The loop removed the handle from the multi handle already.
  auto state = phase_;
  if (status_ == 0) // an answer without a body never reached on_body
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status_);
  auto transfer_status = status_;
  curl_easy_cleanup(easy_);
  easy_ = nullptr;
  curl_slist_free_all(headers_);
  headers_ = nullptr;
  if (state == phase::draining)
    return finish();
  if (state != phase::running)
    return;
  if (pending_)
    return fail(std::move(*pending_));
  if (!is_success(transfer_status) && transfer_status != 0) {
    auto now = std::chrono::system_clock::now();
    auto wait = parse_retry_after(retry_after_, now);
    if (!retry_after_ms_.empty()) {
      auto ms = parse_retry_after(retry_after_ms_, now);
      if (ms.count() >= 0)
        wait = ms / 1000; // the value was milliseconds, not seconds
    }
    auto f = http_failure(transfer_status, error_body_, wait);
    f.detail = redact(std::move(f.detail), secret_);
    return fail(std::move(f));
  }
  if (result != CURLE_OK)
    return fail(transport_failure(result));
  // A successful response that ended without the terminal event.
  if (decoder_->finished_anyway()) {
    phase_ = phase::draining;
    if (cb_.on_done)
      cb_.on_done(decoder_->summary());
    return finish();
  }
  if (!any_event_)
    return fail(
      make_failure(failure_kind::bad_stream, "the response held no events"));
  fail(make_failure(failure_kind::cut, "the stream ended early"));
}

failure upstream_call::transport_failure(CURLcode result) const {
  std::string detail = curl_easy_strerror(result);
  if (errbuf_[0] != '\0')
    detail += std::string{": "} + errbuf_;
  detail = redact(std::move(detail), secret_);
  if (status_ == 0) {
    // No response at all: the server was never reached, or hung up
    // before answering; both are worth another attempt.
    if (result == CURLE_GOT_NOTHING || result == CURLE_RECV_ERROR
        || result == CURLE_SEND_ERROR)
      return make_failure(failure_kind::cut, std::move(detail));
    return make_failure(failure_kind::unreachable, std::move(detail));
  }
  return make_failure(failure_kind::cut, std::move(detail));
}

void upstream_call::on_timer() {
  timer_.reset();
  auto now = clock::now();
  switch (phase_) {
  case phase::waiting:
    return begin_attempt();
  case phase::finished:
    return;
  case phase::running:
    if (!first_token_) {
      auto due = started_ + limits_.first_token_timeout;
      if (now < due)
        return arm(due);
      drop_transfer();
      auto f = make_failure(
        failure_kind::first_token,
        "no token within " + describe_ms(limits_.first_token_timeout.count()));
      f.text = "The AI service did not start answering within "
               + describe_ms(limits_.first_token_timeout.count());
      return fail(std::move(f));
    }
    [[fallthrough]];
  case phase::draining: {
    auto due = last_data_ + limits_.idle_timeout;
    if (now < due)
      return arm(due);
    drop_transfer();
    if (phase_ == phase::draining)
      return finish(); // the reply was complete; only the tail hung
    auto quiet = describe_ms(limits_.idle_timeout.count());
    auto f = make_failure(failure_kind::silence, "no data for " + quiet);
    f.text = "The AI service stopped sending in the middle of the reply "
             "(nothing for "
             + quiet + ")";
    return fail(std::move(f));
  }
  }
}

void upstream_call::arm(clock::time_point at) {
  disarm();
  timer_ = loop_.schedule(at, [this] { on_timer(); });
}

void upstream_call::disarm() {
  if (timer_) {
    loop_.cancel(*timer_);
    timer_.reset();
  }
}

void upstream_call::drop_transfer() {
  if (easy_ == nullptr)
    return;
  loop_.remove(easy_);
  curl_easy_cleanup(easy_);
  easy_ = nullptr;
  curl_slist_free_all(headers_);
  headers_ = nullptr;
}

std::chrono::milliseconds upstream_call::backoff() const {
  // base * 2^(attempt-1), with jitter so that many streams failing
  // together do not all come back at the same instant.
  auto shift = std::min(attempt_ - 1, 20);
  auto ms = limits_.retry_base.count() * (std::int64_t{1} << shift);
  ms = std::min<std::int64_t>(ms, limits_.retry_max.count());
  std::uniform_int_distribution<std::int64_t> jitter{ms * 3 / 4, ms};
  return std::chrono::milliseconds{jitter(rng_)};
}

void upstream_call::fail(failure f) {
  if (phase_ == phase::finished)
    return;
  disarm();
  drop_transfer();
  bool may_retry
    = f.retryable && !first_token_ && attempt_ <= limits_.max_retries;
  if (may_retry && f.retry_after > limits_.retry_max) {
    // Honouring it would keep the visitor waiting too long: say so now.
    may_retry = false;
    f.detail += "; Retry-After " + describe_ms(f.retry_after.count())
                + " exceeds the retry limit";
  }
  if (may_retry) {
    auto delay = f.retry_after.count() >= 0 ? f.retry_after : backoff();
    if (cb_.on_retry)
      cb_.on_retry(f, attempt_, delay);
    phase_ = phase::waiting;
    arm(clock::now() + delay);
    return;
  }
  if (attempt_ > 1)
    f.detail += " (attempt " + std::to_string(attempt_) + ")";
  phase_ = phase::finished;
  if (cb_.on_error)
    cb_.on_error(std::move(f));
  finish();
}

void upstream_call::finish() {
  disarm();
  phase_ = phase::finished;
  cb_ = {};
  if (on_finished_)
    on_finished_();
}

} // namespace parley::agent
