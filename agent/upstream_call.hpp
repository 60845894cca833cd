#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "agent/curl_loop.hpp"
#include "agent/llm_types.hpp"
#include "agent/provider.hpp"
#include "agent/sse_parser.hpp"

namespace parley::agent {

// Time limits and the retry policy of one streamed request.
struct call_limits {
  std::chrono::milliseconds connect_timeout{10000};
  // From the start of an attempt to the first token (text or tool call);
  // pings and role-only chunks do not count.
  std::chrono::milliseconds first_token_timeout{60000};
  // After the first token: the longest quiet spell (pings count as data).
  std::chrono::milliseconds idle_timeout{30000};
  int max_retries = 2; // attempts after the first one
  std::chrono::milliseconds retry_base{500};
  // The longest wait before a retry; a Retry-After asking for more ends
  // the request at once instead.
  std::chrono::milliseconds retry_max{30000};
};

// What a stream tells its owner, always on the loop thread. Exactly one of
// on_done and on_error runs, once, unless the stream is cancelled first;
// then none. They must not block: they hand over (e.g. caf::anon_send).
struct stream_callbacks {
  std::function<void(std::string)> on_text;
  std::function<void(stream_summary)> on_done;
  std::function<void(failure)> on_error;
  // Optional, for the log: an attempt failed and another follows.
  std::function<void(const failure&, int attempt,
                     std::chrono::milliseconds delay)>
    on_retry;
};

// One streamed request on the curl loop, across its attempts:
//
//   waiting --timer--> running --first token--> streaming --end--> done
//      ^                  |  retryable failure,       |  any failure:
//      +--backoff---------+  no token yet             +-> on_error
//
// Lives on the loop thread only; llm_client owns it.
class upstream_call : public transfer_handler {
public:
  upstream_call(curl_loop& loop, const provider& upstream, http_request req,
                call_limits limits, stream_callbacks cb, std::string secret,
                std::function<void()> on_finished);
  ~upstream_call() override;

  upstream_call(const upstream_call&) = delete;
  upstream_call& operator=(const upstream_call&) = delete;

  void start();

  // Aborts the transfer; no callback runs afterwards.
  void cancel();

  void on_complete(CURLcode result) override;

private:
  enum class phase { waiting, running, draining, finished };
  using clock = curl_loop::clock;

  static std::size_t write_cb(char* ptr, std::size_t size, std::size_t n,
                              void* self);
  static std::size_t header_cb(char* ptr, std::size_t size, std::size_t n,
                               void* self);

  void begin_attempt();
  bool on_body(std::string_view bytes);
  void on_header(std::string_view line);
  void on_timer();
  void arm(clock::time_point at);
  void disarm();
  void drop_transfer();
  void fail(failure f);
  void finish();
  std::chrono::milliseconds backoff() const;
  failure transport_failure(CURLcode result) const;

  curl_loop& loop_;
  const provider& upstream_;
  http_request req_;
  call_limits limits_;
  stream_callbacks cb_;
  std::string secret_; // only to redact it from details
  std::function<void()> on_finished_;

  phase phase_ = phase::waiting;
  int attempt_ = 0;
  mutable std::minstd_rand rng_;

  // The current attempt.
  CURL* easy_ = nullptr;
  curl_slist* headers_ = nullptr;
  std::unique_ptr<stream_decoder> decoder_;
  sse_parser parser_;
  std::vector<sse_event> events_;
  long status_ = 0;
  std::string error_body_;
  std::string content_type_;
  std::string retry_after_;
  std::string retry_after_ms_;
  std::optional<failure> pending_; // found inside a curl callback
  bool first_token_ = false;
  bool any_event_ = false;
  clock::time_point started_;
  clock::time_point last_data_;
  std::optional<curl_loop::timer_key> timer_;
  char errbuf_[CURL_ERROR_SIZE] = {};
};

} // namespace parley::agent
