#include "actors/llm_actor.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "agent/builtin_agent.hpp"
#include "agent/llm_client.hpp"
#include "agent/prompt.hpp"
#include "agent/upstream_error.hpp"
#include "config/log.hpp"
#include "config/settings.hpp"

namespace parley {

namespace {

using self_ptr = caf::stateful_actor<llm_state>*;

constexpr auto history_timeout = std::chrono::seconds(10);

// Stored messages to model messages: notices (idle_warning, session_end)
// were never part of the dialogue.
std::vector<agent::chat_message>
dialogue_of(const std::vector<storage::message_record>& xs) {
  std::vector<agent::chat_message> out;
  out.reserve(xs.size());
  for (auto& x : xs)
    if (x.kind == "message")
      out.push_back({x.role, x.content});
  return out;
}

// The loop thread's view of this actor: each callback is one anon_send.
agent::stream_callbacks callbacks_for(caf::actor me, std::string reply_id) {
  agent::stream_callbacks cb;
  cb.on_text = [me, reply_id](std::string text) {
    caf::anon_send(me, reply_chunk{reply_id, std::move(text)});
  };
  cb.on_done = [me, reply_id](agent::stream_summary s) {
    log_debug("llm reply ", reply_id, " done: finish ", s.finish_reason,
              ", tokens in ", s.input_tokens, " out ", s.output_tokens,
              ", tool calls ", s.tool_calls.size());
    caf::anon_send(me, reply_done{reply_id, {}, false, {}});
  };
  cb.on_error = [me, reply_id](agent::failure f) {
    log_warn("llm reply ", reply_id, " failed: ", agent::error_type(f.kind),
             ": ", f.detail);
    caf::anon_send(
      me, reply_failed{reply_id, std::move(f.text), agent::error_type(f.kind)});
  };
  cb.on_retry = [reply_id](const agent::failure& f, int attempt,
                           std::chrono::milliseconds delay) {
    log_info("llm reply ", reply_id, " attempt ", attempt, " failed (",
             f.detail, "); retrying in ", agent::describe_ms(delay.count()));
  };
  return cb;
}

void start_stream(self_ptr self, const llm_deps& deps, const reply_request& x,
                  std::vector<agent::chat_message> history) {
  // The conversation stores the visitor's message before asking for a
  // reply; should the history miss it anyway, it must still be asked.
  if (history.empty() || history.back().role != "user"
      || history.back().content != x.user_text)
    history.push_back({"user", x.user_text});
  auto& opts = deps.client->options();
  // The profile as updated from this very message, so a visitor who just
  // gave their name is not asked for it.
  auto req = agent::build_request(opts.system_prompt,
                                  self->state.out.conversation_data, history,
                                  opts.history_chars);
  auto me = caf::actor_cast<caf::actor>(self);
  auto client = deps.client;
  auto id = client->start(req, callbacks_for(me, x.reply_id));
  // However this actor ends (done, failed, or killed by the conversation),
  // the upstream request ends with it; for a finished one this is a no-op.
  self->attach_functor([client, id](const caf::error&) { client->cancel(id); });
}

void builtin_reply(self_ptr self, const llm_deps& deps,
                   const reply_request& x) {
  self->state.out = agent::builtin_agent{deps.cfg->builtin_words}.answer(
    {x.user_text, x.conversation_data});
  self->state.started = self->clock().now();
  self->send(self, next_atom::value);
}

void upstream_reply(self_ptr self, const llm_deps& deps,
                    const reply_request& x) {
  self->state.out = agent::visitor_extras({x.user_text, x.conversation_data});
  if (!deps.storage)
    return start_stream(self, deps, x, {});
  self->request(deps.storage, history_timeout, load_messages{x.session_id})
    .then(
      [=](message_list& xs) {
        start_stream(self, deps, x, dialogue_of(xs.messages));
      },
      [=](caf::error& err) {
        log_warn("llm reply ", x.reply_id, ": no history (",
                 caf::to_string(err), ")");
        start_stream(self, deps, x, {});
      });
}

std::string read_prompt_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream text;
  if (!in || !(text << in.rdbuf()))
    throw std::runtime_error("cannot read PARLEY_LLM_SYSTEM_PROMPT_FILE "
                             + path);
  return text.str();
}

// The endpoint without "user:password@", for the log.
std::string without_credentials(const std::string& url) {
  auto scheme = url.find("://");
  auto at = url.find('@');
  auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (scheme == std::string::npos || at == std::string::npos || at > slash)
    return url;
  return url.substr(0, scheme + 3) + "***@" + url.substr(at + 1);
}

} // namespace

caf::behavior llm_actor(self_ptr self, caf::actor conversation, llm_deps deps) {
  auto delay = std::chrono::milliseconds(deps.cfg->stream_delay_ms);
  return {
    [=](const reply_request& x) {
      self->state.reply_id = x.reply_id;
      if (deps.client)
        upstream_reply(self, deps, x);
      else
        builtin_reply(self, deps, x);
    },
    [=](next_atom) {
      auto& chunks = self->state.out.chunks;
      if (self->state.next < chunks.size()) {
        self->send(conversation,
                   reply_chunk{self->state.reply_id,
                               std::move(chunks[self->state.next++])});
        // Even unpaced, each chunk is its own event, interleaved with other
        // conversations as tokens from a real upstream would be.
        if (delay.count() > 0 && self->state.next < chunks.size())
          self->delayed_send(
            self,
            std::max(caf::timespan::zero(),
                     caf::timespan{self->state.started
                                   + delay * static_cast<long>(self->state.next)
                                   - self->clock().now()}),
            next_atom::value);
        else
          self->send(self, next_atom::value);
        return;
      }
      self->send(conversation,
                 reply_done{self->state.reply_id,
                            std::move(self->state.out.conversation_data),
                            self->state.out.needs_info,
                            std::move(self->state.out.suggestions)});
      self->quit();
    },
    // From the curl loop (real providers): forwarded, then the actor quits.
    [=](reply_chunk& x) { self->send(conversation, std::move(x)); },
    [=](reply_done& x) {
      auto& out = self->state.out;
      x.conversation_data = std::move(out.conversation_data);
      x.needs_info = out.needs_info;
      x.suggestions = std::move(out.suggestions);
      self->send(conversation, std::move(x));
      self->quit();
    },
    [=](reply_failed& x) {
      self->send(conversation, std::move(x));
      self->quit();
    },
  };
}

std::shared_ptr<agent::llm_client> make_llm_client(const settings& cfg) {
  if (cfg.agent == "builtin")
    return nullptr;
  using std::chrono::milliseconds;
  agent::llm_client_options opts;
  opts.provider = cfg.agent;
  opts.upstream
    = {cfg.llm_base_url, cfg.llm_api_key, cfg.llm_model, cfg.llm_max_tokens};
  opts.limits.connect_timeout = milliseconds{cfg.llm_connect_timeout_ms};
  opts.limits.first_token_timeout
    = milliseconds{cfg.llm_first_token_timeout_ms};
  opts.limits.idle_timeout = milliseconds{cfg.llm_idle_timeout_ms};
  opts.limits.max_retries = cfg.llm_max_retries;
  opts.limits.retry_base = milliseconds{cfg.llm_retry_base_ms};
  opts.limits.retry_max = milliseconds{cfg.llm_retry_max_ms};
  opts.history_chars = static_cast<std::size_t>(cfg.llm_history_chars);
  if (!cfg.llm_system_prompt_file.empty())
    opts.system_prompt = read_prompt_file(cfg.llm_system_prompt_file);
  else if (!cfg.llm_system_prompt.empty())
    opts.system_prompt = cfg.llm_system_prompt;
  else
    opts.system_prompt = agent::default_system_prompt;
  auto client = std::make_shared<agent::llm_client>(std::move(opts));
  auto& up = client->upstream();
  // Never the key: only whether there is one.
  log_info("agent ", up.name(), ": model ", up.model(), " at ",
           without_credentials(up.endpoint()),
           cfg.llm_api_key.empty() ? " (no API key)" : " (API key set)");
  return client;
}

} // namespace parley
