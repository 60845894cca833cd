#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

// Provider-neutral words for one streamed model turn: what goes up (the
// prompt), what comes back (text, tool calls, finish reason, usage) and how
// it can fail. No CAF, no curl: actors/ adapts these to messages.

namespace parley::agent {

// A tool call the model asked for, assembled from its streamed deltas.
struct tool_call {
  std::string id;
  std::string name;
  std::string arguments; // JSON text, exactly as the model streamed it
};

// A tool as a model is told about it.
struct tool_spec {
  std::string name;
  std::string description;
  std::string parameters; // JSON schema of the arguments (an object)
  // A person must approve each call before it runs (it changes something
  // the user can see).
  bool needs_approval = false;
};

struct chat_message {
  chat_message() = default;
  chat_message(std::string role, std::string content)
      : role(std::move(role)), content(std::move(content)) {
    // nop
  }

  std::string role; // "user", "assistant" or "tool"
  std::string content;
  std::vector<tool_call> tool_calls; // assistant: the calls it made
  std::string tool_call_id;          // tool: the call this result answers
  std::string image; // user: an attached image as a data: URL, or ""
};

// One model turn: the system prompt and the conversation so far, oldest
// first, ending with the user's message or tool results; the tools the
// model may call.
struct llm_request {
  std::string system;
  std::vector<chat_message> messages;
  std::vector<tool_spec> tools;
};

// How a stream ended well.
struct stream_summary {
  std::string finish_reason; // provider words: "stop", "end_turn", "length"
  std::vector<tool_call> tool_calls;
  std::int64_t input_tokens = -1; // -1: the provider did not say
  std::int64_t output_tokens = -1;
  std::string model;
};

enum class failure_kind : std::uint8_t {
  auth,         // 401, 403: the key is wrong or lacks rights
  rate_limited, // 429
  unavailable,  // 5xx, 529, an overloaded error event
  unreachable,  // no connection could be made
  refused,      // any other HTTP error: bad model name, bad request
  first_token,  // no token within the first-token timeout
  silence,      // no data mid-stream within the idle timeout
  bad_stream,   // not a stream we can read
  cut,          // the stream ended before the reply was complete
  upstream,     // the provider reported an error inside the stream
  shutdown,     // parley is stopping
};

// Why a stream failed. `text` is for people (error frames) and never holds
// upstream text that could echo a secret; `detail` is for the log and has
// the API key redacted.
struct failure {
  failure_kind kind = failure_kind::upstream;
  std::string text;
  std::string detail;
  int http_status = 0;
  bool retryable = false;
  // What Retry-After asked for; negative when absent.
  std::chrono::milliseconds retry_after{-1};
};

// The error_type of the error frame: "llm_auth", "llm_rate_limited", ...
const char* error_type(failure_kind kind);

} // namespace parley::agent
