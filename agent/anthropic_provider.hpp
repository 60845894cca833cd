#pragma once

#include "agent/provider.hpp"

namespace parley::agent {

// Anthropic's Messages API with `stream: true`: POST {base}/v1/messages
// with x-api-key, then named events: message_start, content_block_start,
// content_block_delta (text_delta, input_json_delta), content_block_stop,
// message_delta (stop_reason, usage), message_stop, ping and error.
class anthropic_provider : public provider {
public:
  explicit anthropic_provider(provider_options opts);

  const char* name() const override {
    return "anthropic";
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
class anthropic_decoder : public stream_decoder {
public:
  void on_event(const sse_event& ev, decoded& out) override;
};

} // namespace parley::agent
