#pragma once

#include <nlohmann/json_fwd.hpp>

#include "agent/provider.hpp"

namespace parley::agent {

// The OpenAI-compatible chat completions API with `stream: true`, as
// OpenAI, vLLM, Ollama, llama.cpp's server and LiteLLM serve it:
// POST {base}/chat/completions, `data:` events with JSON chunks whose
// choices[0].delta holds content or tool_calls (assembled by index), a
// finish_reason, usage in a last chunk, then `data: [DONE]`.
class openai_provider : public provider {
public:
  explicit openai_provider(provider_options opts);

  const char* name() const override {
    return "openai";
  }
  http_request make_request(const llm_request& req) const override;
  std::unique_ptr<stream_decoder> make_decoder() const override;
  std::string endpoint() const override {
    return url_;
  }
  std::string model() const override {
    return opts_.model;
  }

private:
  provider_options opts_;
  std::string url_;
};

// Exposed for tests: one stream's decoder.
class openai_decoder : public stream_decoder {
public:
  void on_event(const sse_event& ev, decoded& out) override;

private:
  void read_tool_calls(const nlohmann::json& calls, decoded& out);
};

} // namespace parley::agent
