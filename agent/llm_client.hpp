#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "agent/curl_loop.hpp"
#include "agent/llm_types.hpp"
#include "agent/provider.hpp"
#include "agent/upstream_call.hpp"

namespace parley::agent {

struct llm_client_options {
  std::string provider = "openai"; // "openai" or "anthropic"
  provider_options upstream;
  call_limits limits;
  std::string system_prompt;         // the resolved text
  std::size_t history_chars = 24000; // prompt budget for past messages
};

// The node's one LLM client: a provider adapter plus the curl loop that
// runs every stream. start() and cancel() may be called from any thread
// (actor threads); callbacks run on the loop thread. Free of CAF: actors/
// adapts the callbacks to messages.
class llm_client {
public:
  using stream_id = std::uint64_t;

  // Throws std::invalid_argument for an unknown provider and
  // std::runtime_error when curl cannot start.
  explicit llm_client(llm_client_options opts);
  ~llm_client();
  llm_client(const llm_client&) = delete;
  llm_client& operator=(const llm_client&) = delete;

  // Starts streaming `req`. After stop(), cb.on_error runs at once, on the
  // calling thread, with a shutdown failure.
  stream_id start(const llm_request& req, stream_callbacks cb);

  // Aborts a stream; its callbacks do not run afterwards (one already
  // running on the loop thread may finish). Unknown ids are ignored.
  void cancel(stream_id id);

  // Stops the loop and drops every stream without calling back, so that
  // nothing the callbacks hold (actor handles) outlives the caller's
  // shutdown. Idempotent; the destructor calls it.
  void stop();

  const llm_client_options& options() const {
    return opts_;
  }

  const provider& upstream() const {
    return *provider_;
  }

private:
  llm_client_options opts_;
  std::unique_ptr<provider> provider_;
  curl_loop loop_;
  std::atomic<stream_id> next_id_{0};
  // Loop thread only (and the stopping thread once the loop is joined).
  std::unordered_map<stream_id, std::unique_ptr<upstream_call>> calls_;
};

} // namespace parley::agent
