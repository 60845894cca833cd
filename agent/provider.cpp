#include "agent/provider.hpp"

#include <stdexcept>

#include "agent/anthropic_provider.hpp"
#include "agent/openai_provider.hpp"

namespace parley::agent {

stream_summary stream_decoder::summary() const {
  auto out = summary_;
  out.tool_calls.reserve(calls_.size());
  for (auto& [index, call] : calls_)
    out.tool_calls.push_back(call);
  return out;
}

void stream_decoder::add_to_call(std::int64_t index, const std::string& id,
                                 const std::string& name,
                                 const std::string& arguments) {
  auto& call = calls_[index];
  // The id and name come once, in the first delta of a call; appending
  // keeps servers that split them working too.
  call.id += id;
  call.name += name;
  call.arguments += arguments;
}

std::unique_ptr<provider> make_provider(const std::string& kind,
                                        provider_options opts) {
  if (kind == "openai")
    return std::make_unique<openai_provider>(std::move(opts));
  if (kind == "anthropic")
    return std::make_unique<anthropic_provider>(std::move(opts));
  throw std::invalid_argument("unknown LLM provider: " + kind);
}

std::string join_url(std::string base, const std::string& path) {
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  return base + path;
}

} // namespace parley::agent
