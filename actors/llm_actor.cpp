#include "actors/llm_actor.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "actors/one_way.hpp"
#include "actors/pacer.hpp"
#include "actors/sources.hpp"
#include "actors/storage_actor.hpp"
#include "agent/builtin_agent.hpp"
#include "agent/knowledge_base.hpp"
#include "agent/llm_client.hpp"
#include "agent/prompt.hpp"
#include "agent/tools.hpp"
#include "agent/upstream_error.hpp"
#include "config/log.hpp"
#include "config/settings.hpp"

namespace parley {

namespace {

using self_ptr = caf::stateful_actor<llm_state>*;

// Stored messages to model messages: notices (idle_warning, session_end)
// were never part of the dialogue, and the tool calls and results of past
// replies stay out (the reply text after them says what they gave). Only
// the newest message keeps its image: the model sees a picture once, when
// it is asked about it, not again in every later turn.
std::vector<agent::chat_message>
dialogue_of(const std::vector<storage::message_record>& xs) {
  std::vector<agent::chat_message> out;
  out.reserve(xs.size());
  for (auto& x : xs)
    if (x.kind == "message")
      out.push_back({x.role, x.content});
  if (!xs.empty() && !out.empty() && xs.back().kind == "message")
    out.back().image = xs.back().image;
  return out;
}

// The loop thread's view of this actor: each callback is one anon_send.
agent::stream_callbacks callbacks_for(caf::actor me, std::string reply_id) {
  agent::stream_callbacks cb;
  cb.on_text = [me](std::string text) {
    caf::anon_send(me, reply_chunk{std::move(text)});
  };
  cb.on_done = [me, reply_id](agent::stream_summary s) {
    log_debug("llm reply ", reply_id, " done: finish ", s.finish_reason,
              ", tokens in ", s.input_tokens, " out ", s.output_tokens,
              ", tool calls ", s.tool_calls.size());
    caf::anon_send(me, llm_step_done{reply_id, std::move(s.tool_calls)});
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

// One model call with the turn so far. However this actor ends (done,
// failed, or killed by the conversation), the upstream request ends with
// it; for a finished one the cancel is a no-op.
void start_step(self_ptr self, const llm_deps& deps) {
  auto& st = self->state;
  ++st.steps;
  st.step_text.clear();
  auto me = caf::actor_cast<caf::actor>(self);
  auto client = deps.client;
  auto id = client->start(st.request, callbacks_for(me, st.reply_id));
  self->attach_functor([client, id](const caf::error&) { client->cancel(id); });
}

void start_stream(self_ptr self, const llm_deps& deps,
                  std::vector<agent::chat_message> history) {
  auto& st = self->state;
  // The conversation stores the visitor's message before the reply
  // starts; should the history miss it anyway, it must still be asked.
  if (history.empty() || history.back().role != "user"
      || history.back().content != st.user_text)
    history.push_back({"user", st.user_text});
  auto& opts = deps.client->options();
  // The profile as updated from this very message, so a visitor who just
  // gave their name is not asked for it.
  st.request = agent::build_request(opts.system_prompt,
                                    st.out.conversation_data, history,
                                    opts.history_chars);
  st.request.system = agent::with_passages(st.request.system, st.out.sources);
  if (deps.cfg->llm_max_tool_steps > 0)
    st.request.tools = agent::tool_registry();
  start_step(self, deps);
}

// What a reply needs before the user's message is stored: the builtin
// agent's whole answer; a real provider's profile update and passages.
void prepare(self_ptr self, const llm_deps& deps, const reply_request& x) {
  auto& st = self->state;
  st.reply_id = x.reply_id;
  st.session_id = x.session_id;
  st.user_text = x.user_text;
  if (!deps.client) {
    st.out
      = agent::builtin_agent{deps.cfg->builtin_words, deps.knowledge.get()}
          .answer({x.user_text, x.conversation_data});
  } else {
    st.out = agent::visitor_extras({x.user_text, x.conversation_data});
    // The passages for the prompt are the sources the reply cites.
    if (deps.knowledge)
      for (auto* p : deps.knowledge->search(x.user_text, agent::max_sources))
        st.out.sources.push_back(*p);
  }
  st.sources = sources_of(st.out.sources);
}

// A real provider's reply, once the user's message is stored: the model
// sees the stored history.
void upstream_reply(self_ptr self, const llm_deps& deps) {
  if (!deps.storage)
    return start_stream(self, deps, {});
  self
    ->request(deps.storage, storage_wait, load_messages{self->state.session_id})
    .then(
      [=](message_list& xs) {
        start_stream(self, deps, dialogue_of(xs.messages));
      },
      [=](caf::error& err) {
        log_warn("llm reply ", self->state.reply_id, ": no history (",
                 caf::to_string(err), ")");
        start_stream(self, deps, {});
      });
}

void finish(self_ptr self, caf::actor conversation) {
  auto& st = self->state;
  self->send(conversation,
             reply_done{st.reply_id, std::move(st.out.conversation_data),
                        st.out.needs_info, std::move(st.out.suggestions),
                        std::move(st.sources)});
  self->quit();
}

// The model called tools: the conversation runs them, then the model is
// asked again with the results.
void on_step_done(self_ptr self, caf::actor conversation,
                  const llm_deps& deps, llm_step_done& x) {
  auto& st = self->state;
  if (x.calls.empty())
    return finish(self, conversation);
  // Each model call but the first follows a tool round.
  if (st.steps > deps.cfg->llm_max_tool_steps) {
    log_warn("llm reply ", st.reply_id, ": the model still calls tools after ",
             st.steps - 1, " tool rounds; the reply ends here");
    return finish(self, conversation);
  }
  agent::chat_message call{"assistant", st.step_text};
  call.tool_calls = x.calls;
  st.request.messages.push_back(std::move(call));
  // No timeout: a call may wait for a person's approval.
  self
    ->request(conversation, caf::infinite,
              tool_round{st.reply_id, st.step_text, std::move(x.calls)})
    .then(
      [=](tool_results& r) {
        auto& st = self->state;
        for (auto& result : r.results) {
          agent::chat_message m{"tool", std::move(result.content)};
          m.tool_call_id = std::move(result.tool_call_id);
          st.request.messages.push_back(std::move(m));
          add_sources(st.sources, result.sources);
        }
        if (!r.conversation_data.empty())
          st.out.conversation_data = std::move(r.conversation_data);
        start_step(self, deps);
      },
      [=](caf::error& err) {
        self->send(conversation,
                   reply_failed{self->state.reply_id,
                                "The tools of the reply failed",
                                "tool_error"});
        log_warn("llm reply ", self->state.reply_id, ": tool round failed: ",
                 caf::to_string(err));
        self->quit();
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

// The builtin reply's next chunk, or its end.
void next_chunk(self_ptr self, caf::actor conversation, const llm_deps& deps,
                caf::timespan delay) {
  auto& st = self->state;
  auto& chunks = st.out.chunks;
  if (st.next >= chunks.size())
    return finish(self, conversation);
  self->send(conversation, reply_chunk{std::move(chunks[st.next++])});
  auto left = chunks.size() - st.next;
  // Even unpaced, each chunk is its own event, interleaved with other
  // conversations as tokens from a real upstream would be: the engine lets
  // an actor handle one message per turn (scheduler max-throughput), so the
  // next chunk waits behind the others.
  if (left == 0 || delay.count() == 0)
    self->send(self, next_atom::value);
  else if (st.next == 1)
    // Chunk k is due k pauses after the start, so a late chunk does not
    // push every later one back; one request wakes them all.
    self->send(deps.pacer, wake_at{pacer_time(st.started + delay),
                                   std::chrono::nanoseconds{delay}.count(),
                                   left});
}

} // namespace

caf::behavior llm_actor(self_ptr self, caf::actor conversation, llm_deps deps) {
  caf::timespan delay = std::chrono::milliseconds(deps.cfg->stream_delay_ms);
  return {
    [=](const reply_request& x) { prepare(self, deps, x); },
    [=](stored_atom) {
      if (deps.client)
        return upstream_reply(self, deps);
      // The first chunk goes in this turn.
      self->state.started = self->clock().now();
      next_chunk(self, conversation, deps, delay);
    },
    [=](next_atom) -> one_way {
      next_chunk(self, conversation, deps, delay);
      return {};
    },
    // From the curl loop (real providers): chunks are forwarded; a finished
    // model call either ends the reply or starts a tool round.
    [=](reply_chunk& x) -> one_way {
      self->state.step_text += x.text;
      self->send(conversation, std::move(x));
      return {};
    },
    [=](llm_step_done& x) { on_step_done(self, conversation, deps, x); },
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
