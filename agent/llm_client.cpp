#include "agent/llm_client.hpp"

#include "agent/upstream_error.hpp"

namespace parley::agent {

llm_client::llm_client(llm_client_options opts)
    : opts_(std::move(opts)),
      provider_(make_provider(opts_.provider, opts_.upstream)) {
  // nop
}

llm_client::~llm_client() {
  stop();
}

llm_client::stream_id llm_client::start(const llm_request& req,
                                        stream_callbacks cb) {
  auto id = ++next_id_;
  // Building the body is plain CPU work: it runs on the caller's thread and
  // keeps the loop thread free for I/O.
  auto http = provider_->make_request(req);
  auto on_error = cb.on_error;
  auto posted = loop_.post(
    [this, id, http = std::move(http), cb = std::move(cb)]() mutable {
      auto done = [this, id] {
        // Deferred: the call is still on the stack when it says it is done.
        loop_.post([this, id] { calls_.erase(id); });
      };
      auto call = std::make_unique<upstream_call>(
        loop_, *provider_, std::move(http), opts_.limits, std::move(cb),
        opts_.upstream.api_key, std::move(done));
      auto& ref = *call;
      calls_.emplace(id, std::move(call));
      ref.start();
    });
  if (!posted && on_error)
    on_error(make_failure(failure_kind::shutdown, "the LLM client stopped"));
  return id;
}

void llm_client::cancel(stream_id id) {
  loop_.post([this, id] {
    if (auto i = calls_.find(id); i != calls_.end())
      i->second->cancel();
  });
}

void llm_client::stop() {
  loop_.stop();
  // The loop thread is gone: this thread may touch the calls now.
  for (auto& [id, call] : calls_)
    call->cancel();
  calls_.clear();
}

} // namespace parley::agent
