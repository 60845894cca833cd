#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/llm_types.hpp"
#include "agent/sse_parser.hpp"

namespace parley::agent {

// An HTTP POST as a provider wants it sent. `headers` hold the API key, so
// nothing may log them.
struct http_request {
  std::string url;
  std::vector<std::string> headers; // "Name: value"
  std::string body;
};

struct provider_options {
  std::string base_url; // empty: the provider's public endpoint
  std::string api_key;  // empty: no key header (local servers)
  std::string model;    // empty: the provider's default below
  int max_tokens = 0;   // 0: the provider's default
};

// What one server-sent event meant for the reply.
struct decoded {
  std::string text;      // reply text to show; may be empty
  bool progress = false; // the model produced something (text, tool call)
  bool done = false;     // the terminal event: the reply is complete
  std::optional<failure> error;
};

// Turns one provider's stream events into reply text, tool calls and a
// summary. One decoder per attempt: it keeps the state of a single stream.
class stream_decoder {
public:
  virtual ~stream_decoder() = default;

  virtual void on_event(const sse_event& ev, decoded& out) = 0;

  // Whether a stream that closed without its terminal event still counts
  // as complete (the model said why it stopped).
  bool finished_anyway() const {
    return !summary_.finish_reason.empty();
  }

  // The finish reason, usage and tool calls so far, calls in index order.
  stream_summary summary() const;

protected:
  // Appends a piece of a tool call; `index` is the provider's position.
  void add_to_call(std::int64_t index, const std::string& id,
                   const std::string& name, const std::string& arguments);

  stream_summary summary_;
  std::map<std::int64_t, tool_call> calls_;
};

// One LLM API: how to ask (URL, headers, JSON body) and how to read the
// answer. Stateless and shared by every stream.
class provider {
public:
  virtual ~provider() = default;
  virtual const char* name() const = 0;
  virtual http_request make_request(const llm_request& req) const = 0;
  virtual std::unique_ptr<stream_decoder> make_decoder() const = 0;
  // The URL requests go to (for logs: it holds no key).
  virtual std::string endpoint() const = 0;
  virtual std::string model() const = 0;
};

// "openai" or "anthropic"; throws std::invalid_argument otherwise.
std::unique_ptr<provider> make_provider(const std::string& kind,
                                        provider_options opts);

// The base URL without trailing slashes, joined with `path`.
std::string join_url(std::string base, const std::string& path);

} // namespace parley::agent
