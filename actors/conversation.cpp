#include "actors/conversation.hpp"

#include <algorithm>
#include <chrono>

#include <caf/all.hpp>

#include "actors/clock.hpp"
#include "actors/connections.hpp"
#include "actors/llm_actor.hpp"
#include "actors/messages.hpp"
#include "actors/one_way.hpp"
#include "actors/owner_key.hpp"
#include "actors/sources.hpp"
#include "actors/storage_actor.hpp"
#include "actors/uuid.hpp"
#include "agent/markdown_html.hpp"
#include "agent/tools.hpp"
#include "config/log.hpp"
#include "config/settings.hpp"

namespace parley {

namespace {

using self_ptr = caf::stateful_actor<conversation_state>*;

// The seed's texts for the idle timers.
constexpr const char* idle_warning_text
  = "G'day! Are you still there? I'm here if you need anything!";
constexpr const char* session_end_text
  = "No worries! I'll end this session for now. Feel free to come back "
    "anytime if you need help!";
constexpr const char* still_streaming_text
  = "A reply is still streaming; send your message after it completes";
constexpr const char* shutdown_text
  = "Server is shutting down; the reply was interrupted";
constexpr const char* storage_failed_text
  = "Could not store the message; please try again";

// How long a signed-in conversation nobody watches stays in memory.
constexpr auto unwatched_grace = std::chrono::minutes(5);

// -- subscribers ---------------------------------------------------------------

bool is_subscribed(self_ptr self, std::uint64_t conn) {
  auto& xs = self->state.subscribers;
  return std::any_of(xs.begin(), xs.end(),
                     [conn](const subscriber& x) { return x.conn == conn; });
}

std::uint64_t who_of(const std::string& key) {
  return std::hash<std::string>{}(key);
}

void subscribe(self_ptr self, const conversation_deps& deps,
               std::uint64_t conn, const std::string& key) {
  if (is_subscribed(self, conn))
    return;
  auto ref = deps.connections->find(conn);
  if (!ref
      || !deps.connections->watch(conn, caf::actor{self},
                                  self->state.session.id))
    return; // the connection closed meanwhile
  auto& xs = self->state.subscribers;
  // Insert after the last subscriber of the same dialect, keeping groups.
  auto pos = std::find_if(xs.rbegin(), xs.rend(), [&](const subscriber& x) {
               return x.enc == ref->enc;
             }).base();
  if (pos == xs.begin())
    pos = xs.end();
  xs.insert(pos, subscriber{conn, std::move(ref->out), ref->enc, who_of(key)});
}

// Encodes once per dialect, then hands the same frame to every subscriber.
void broadcast(self_ptr self, const event& ev) {
  encoder last = nullptr;
  frame_ptr frame;
  auto& xs = self->state.subscribers;
  for (auto i = xs.begin(); i != xs.end();) {
    auto out = i->out.lock();
    if (!out) {
      i = xs.erase(i);
      continue;
    }
    if (i->enc != last) {
      last = i->enc;
      frame = last(ev);
    }
    if (frame) // null: the dialect has no frame for this event
      out->send(frame);
    ++i;
  }
}

// Signed-in conversations (seed 000) show every stored message to their
// sockets, the user's own included; visitor sessions have their frames.
void announce(self_ptr self, storage::message_record msg) {
  if (self->state.session.kind != "conversation")
    return;
  event ev;
  ev.kind = event_kind::message;
  ev.session_id = self->state.session.id;
  ev.message = std::make_shared<const storage::message_record>(std::move(msg));
  broadcast(self, ev);
}

void tell(const conversation_deps& deps, std::uint64_t conn,
          const std::string& session_id, const char* text) {
  deps.connections->send(conn, error_event(session_id, text));
}

// Whether the holder of `key` (a visitor id, or a user's owner key) may see
// and write to the conversation.
bool may_access(self_ptr self, const std::string& key) {
  auto& s = self->state.session;
  if (self->state.deleted)
    return false;
  if (key == s.visitor_id)
    return true;
  return std::any_of(s.members.begin(), s.members.end(),
                     [&](const std::string& m) { return owner_key(m) == key; });
}

bool is_owner(self_ptr self, const std::string& key) {
  return !self->state.deleted && key == self->state.session.visitor_id;
}

// -- lifetime ----------------------------------------------------------------------

// An ended session nobody watches has nothing left to do: ask to be let go.
// A signed-in conversation never ends (it has no idle timers): one nobody
// watches goes after a grace period, which leaves time to resume its last
// reply; otherwise every conversation ever opened stayed in memory.
void maybe_release(self_ptr self, const conversation_deps& deps) {
  auto& st = self->state;
  if (!st.subscribers.empty() || st.reply)
    return;
  if (st.session.status != "active")
    self->send(deps.registry, went_idle{st.session.id, st.handled});
  else if (st.session.kind == "conversation")
    self->delayed_send(self, unwatched_grace, unwatched{st.handled});
}

// -- idle timers ---------------------------------------------------------------------

// Schedules the next idle deadline from the stored last activity, so a
// reloaded conversation keeps the deadlines it had before a restart.
std::int64_t idle_due(self_ptr self, const conversation_deps& deps) {
  auto& s = self->state.session;
  auto after = s.warning_sent ? deps.cfg->session_end_seconds
                              : deps.cfg->idle_warning_seconds;
  return s.last_activity_at + std::int64_t{after} * 1000;
}

void schedule_idle(self_ptr self, const conversation_deps& deps) {
  auto& st = self->state;
  // Idle timers are the visitor chat's (seed 002); a signed-in
  // conversation stays open.
  if (st.session.status != "active" || st.session.kind != "visitor")
    return;
  auto due = idle_due(self, deps);
  if (st.tick_due != 0 && st.tick_due <= due)
    return; // that tick fires first and re-arms for `due`
  st.tick_due = due;
  auto delay = std::max<std::int64_t>(0, due - now_ms(self));
  self->delayed_send(self, std::chrono::milliseconds(delay), idle_tick{due});
}

// Stores an assistant message, then runs `then` (acknowledged means stored).
template <class F>
void store_message(self_ptr self, const conversation_deps& deps,
                   storage::message_record msg, F then) {
  if (self->state.deleted)
    return then(false); // its session is gone
  self->request(deps.storage, storage_wait, save_message{std::move(msg)})
    .then([then](bool) mutable { then(true); },
          [then](caf::error& err) mutable {
            log_error("storing a message failed: " + caf::to_string(err));
            then(false);
          });
}

// Stores a message and, once stored, announces it.
void store_and_announce(self_ptr self, const conversation_deps& deps,
                        storage::message_record msg) {
  if (self->state.session.kind != "conversation")
    return store_message(self, deps, std::move(msg), [](bool) {});
  auto copy = msg;
  store_message(self, deps, std::move(msg),
                [self, copy = std::move(copy)](bool stored) mutable {
                  if (stored)
                    announce(self, std::move(copy));
                });
}

void save_session_state(self_ptr self, const conversation_deps& deps) {
  if (self->state.deleted)
    return;
  self->request(deps.storage, storage_wait,
                save_session{self->state.session, false})
    .then([](bool) {},
          [](caf::error& err) {
            log_error("storing a session failed: " + caf::to_string(err));
          });
}

storage::message_record assistant_message(self_ptr self, std::string id,
                                          std::string kind,
                                          std::string content,
                                          std::string state = "complete") {
  return storage::text_message(std::move(id),      self->state.session.id,
                                 "assistant",        std::move(kind),
                                 std::move(content), std::move(state),
                                 now_ms(self));
}

void on_idle_tick(self_ptr self, const conversation_deps& deps,
                  std::int64_t due) {
  auto& st = self->state;
  if (due == st.tick_due)
    st.tick_due = 0;
  // A streaming reply is not inactivity; its end restarts the clock.
  if (st.session.status != "active" || st.reply || st.shutting_down)
    return;
  if (now_ms(self) < idle_due(self, deps))
    return schedule_idle(self, deps); // activity moved the deadline
  event ev;
  ev.session_id = st.session.id;
  ev.response_id = make_ordered_uuid();
  if (!st.session.warning_sent) {
    st.session.warning_sent = true;
    ev.kind = event_kind::idle_warning;
    ev.text = idle_warning_text;
    ev.timeout_seconds = deps.cfg->idle_warning_seconds;
  } else {
    st.session.status = "ended";
    ev.kind = event_kind::session_end;
    ev.text = session_end_text;
    ev.complete = true;
    ev.reason = "idle_timeout";
    ev.timeout_seconds = deps.cfg->session_end_seconds;
    ev.conversation_data = st.session.conversation_data;
  }
  auto kind = ev.kind == event_kind::idle_warning ? "idle_warning"
                                                  : "session_end";
  save_session_state(self, deps);
  auto msg = assistant_message(self, ev.response_id, kind, ev.text);
  if (ev.kind == event_kind::idle_warning) {
    // A warning is due at its second, not after a group commit: its write
    // is queued first and lands with the next batch. The end, a `complete`
    // frame, is stored before it is sent, like every reply.
    store_message(self, deps, std::move(msg), [](bool) {});
    broadcast(self, ev);
    schedule_idle(self, deps);
    return maybe_release(self, deps);
  }
  store_message(self, deps, std::move(msg), [self, deps, ev](bool) {
    broadcast(self, ev);
    schedule_idle(self, deps);
    maybe_release(self, deps);
  });
}

// -- replies ---------------------------------------------------------------------------

// Stores the user's message, hands it to `stored` (null if it could not be
// stored), then starts the reply.
template <class F>
void start_reply(self_ptr self, const conversation_deps& deps,
                 std::string text, std::string image, F stored) {
  auto& st = self->state;
  st.reply = std::make_unique<pending_reply>();
  st.reply->user_message_id = make_ordered_uuid();
  st.reply->id = make_ordered_uuid();
  st.session.last_activity_at = now_ms(self);
  st.session.warning_sent = false;
  auto msg = storage::text_message(st.reply->user_message_id,
                              st.session.id,
                              "user",
                              "message",
                              text,
                              "complete",
                              st.session.last_activity_at);
  msg.image = std::move(image);
  // A visitor session's row waits for the reply's end: the stored message
  // carries the new activity (storage::take_activity_from). A signed-in
  // conversation's row is listed with it as updated_at, so it is written
  // now.
  if (st.session.kind != "visitor")
    save_session_state(self, deps);
  // The user message is stored before the reply starts; the LLM actor gets
  // ready meanwhile (actors/messages.hpp, reply_request).
  self->request(deps.storage, storage_wait, save_message{msg})
    .then(
      [self, msg, stored, id = st.reply->id](bool) mutable {
        stored(&msg);
        announce(self, std::move(msg));
        auto& st = self->state;
        if (st.reply && st.reply->id == id && st.reply->llm)
          self->send(st.reply->llm, stored_atom::value);
      },
      [self, deps, stored, id = st.reply->id](caf::error& err) mutable {
        log_error("storing a user message failed: " + caf::to_string(err));
        stored(nullptr);
        auto& st = self->state;
        if (st.reply && st.reply->id == id) {
          if (st.reply->llm)
            self->send_exit(st.reply->llm, caf::exit_reason::user_shutdown);
          st.reply.reset();
        }
        broadcast(self, error_event(st.session.id, storage_failed_text,
                                    "storage_error"));
        schedule_idle(self, deps);
      });
  // Callers start no reply while shutting down; shutdown interrupts this one
  // (and stops its LLM actor) if the store is still under way.
  st.reply->llm = self->spawn<caf::linked>(
    llm_actor, caf::actor{self},
    llm_deps{deps.cfg, deps.storage, deps.llm, deps.knowledge, deps.pacer});
  self->send(st.reply->llm, reply_request{st.reply->id, st.session.id,
                                          std::move(text),
                                          st.session.conversation_data});
}

void on_chunk(self_ptr self, reply_chunk& x) {
  auto& st = self->state;
  if (!st.reply
      || self->current_sender().get()
           != caf::actor_cast<caf::actor_control_block*>(st.reply->llm))
    return;
  auto& r = *st.reply;
  r.text += x.text;
  r.ends.push_back(static_cast<std::uint32_t>(r.text.size()));
  // The reply's chunk event gets its ids once; a chunk changes only its
  // number and text.
  auto& ev = r.chunk_event;
  if (ev.kind != event_kind::chunk) {
    ev.kind = event_kind::chunk;
    ev.session_id = st.session.id;
    ev.message_id = r.user_message_id;
    ev.response_id = r.id;
  }
  ev.seq = ++r.chunks;
  ev.text = std::move(x.text);
  broadcast(self, ev);
}

void on_done(self_ptr self, const conversation_deps& deps, reply_done& x) {
  auto& st = self->state;
  if (!st.reply || x.reply_id != st.reply->id)
    return;
  st.session.conversation_data = std::move(x.conversation_data);
  event ev;
  ev.kind = event_kind::complete;
  ev.session_id = st.session.id;
  ev.message_id = st.reply->user_message_id;
  ev.response_id = st.reply->id;
  ev.text = st.reply->text;
  ev.conversation_data = st.session.conversation_data;
  ev.needs_info = x.needs_info;
  ev.suggestions = std::move(x.suggestions);
  ev.sources = std::move(x.sources);
  ev.seq = st.reply->chunks;
  auto msg = assistant_message(self, st.reply->id, "message", st.reply->text);
  msg.sources = ev.sources;
  // Signed-in chat rooms (seed 001) list the reply as sanitized HTML too.
  std::shared_ptr<storage::message_record> copy;
  if (st.session.kind == "conversation") {
    msg.html = agent::markdown_html(msg.content);
    copy = std::make_shared<storage::message_record>(msg);
  }
  // The assistant message (with its sources) is stored before `complete`.
  // The session's new state goes with it, in the same group commit: saved
  // after the acknowledgement, it cost every reply a transaction of its own.
  st.session.last_activity_at = now_ms(self);
  save_session_state(self, deps);
  store_message(self, deps, std::move(msg),
                [self, deps, ev = std::move(ev), copy](bool stored) {
                  auto& st = self->state;
                  // Deleted or interrupted while the store was under way:
                  // whoever ended the reply has taken over.
                  if (!st.reply || st.reply->id != ev.response_id)
                    return;
                  if (stored && copy)
                    announce(self, std::move(*copy));
                  if (stored && st.session.kind == "conversation")
                    st.last_reply.reset(new finished_reply{
                      st.reply->id, std::move(st.reply->text),
                      std::move(st.reply->ends), ev.sources});
                  st.reply.reset();
                  broadcast(self, stored ? ev
                                         : error_event(st.session.id,
                                                       storage_failed_text,
                                                       "storage_error"));
                  schedule_idle(self, deps);
                  maybe_release(self, deps);
                });
}

// Stops a streaming reply and stores what was sent so far as a partial.
template <class F>
void interrupt_reply(self_ptr self, const conversation_deps& deps, F then) {
  auto& st = self->state;
  if (!st.reply)
    return then();
  if (st.reply->llm)
    self->send_exit(st.reply->llm, caf::exit_reason::user_shutdown);
  auto msg = assistant_message(self, st.reply->id, "message", st.reply->text,
                               "partial");
  st.reply.reset();
  auto copy = msg;
  store_message(self, deps, std::move(msg),
                [self, then, copy = std::move(copy)](bool stored) mutable {
                  if (stored)
                    announce(self, std::move(copy));
                  then();
                });
}

// The LLM failed (401, 429, 5xx, a broken stream...): the visitor sees the
// error, and what streamed so far is stored as a partial reply, as when a
// reply is interrupted.
void on_failed(self_ptr self, const conversation_deps& deps,
               reply_failed& x) {
  auto& st = self->state;
  if (!st.reply || x.reply_id != st.reply->id)
    return;
  st.reply->llm = nullptr; // it quits by itself after sending this
  auto ev = error_event(st.session.id, std::move(x.error),
                        std::move(x.error_type));
  ev.message_id = st.reply->user_message_id;
  ev.response_id = st.reply->id; // the partial reply's id
  interrupt_reply(self, deps, [self, deps, ev] {
    auto& st = self->state;
    broadcast(self, ev);
    st.session.last_activity_at = now_ms(self);
    save_session_state(self, deps);
    schedule_idle(self, deps);
    maybe_release(self, deps);
  });
}

// -- tools -------------------------------------------------------------------------------

// Stores a tool call's result and hands it to the round's results; a call
// that changed the visitor profile changes the session's too.
void finish_tool(self_ptr self, const conversation_deps& deps,
                 agent::tool_outcome out) {
  auto& st = self->state;
  auto& round = *st.reply->tools;
  auto& call = round.calls[round.next++];
  auto msg = storage::text_message(make_ordered_uuid(), st.session.id, "tool",
                                   "tool_result", out.content, "complete",
                                   now_ms(self));
  msg.tool_call_id = call.id;
  store_and_announce(self, deps, std::move(msg));
  if (!out.conversation_data.empty()) {
    st.session.conversation_data = out.conversation_data;
    round.results->conversation_data = std::move(out.conversation_data);
    save_session_state(self, deps);
  }
  round.results->results.push_back(
    {call.id, std::move(out.content), sources_of(out.sources)});
}

// Runs the round's calls from `next` on until one needs approval; answers
// the LLM actor once all ran.
void run_tools(self_ptr self, const conversation_deps& deps) {
  auto& st = self->state;
  auto& round = *st.reply->tools;
  while (round.next < round.calls.size()) {
    auto& call = round.calls[round.next];
    auto* spec = agent::find_tool(call.name);
    if (spec != nullptr && spec->needs_approval) {
      round.waiting = true;
      log_info("conversation ", st.session.id, ": tool call ", call.id, " (",
               call.name, ") waits for approval");
      self->delayed_send(self,
                         std::chrono::seconds(deps.cfg->idle_warning_seconds),
                         approval_expired{call.id});
      return;
    }
    finish_tool(self, deps,
                agent::run_tool(call, deps.knowledge.get(),
                                st.session.conversation_data));
  }
  auto promise = round.promise;
  auto results = std::move(*round.results);
  st.reply->tools.reset();
  promise.deliver(std::move(results));
}

caf::result<tool_results> on_tool_round(self_ptr self,
                                        const conversation_deps& deps,
                                        tool_round& x) {
  auto& st = self->state;
  if (!st.reply || x.reply_id != st.reply->id || st.reply->tools)
    return caf::make_error(caf::sec::invalid_argument, "no such reply");
  // The model's call message comes first, as seed 000 lists it: an
  // assistant message with the calls, then one tool message per result.
  auto msg = assistant_message(self, make_ordered_uuid(), "tool_call",
                               std::move(x.text));
  msg.tool_calls = agent::tool_calls_json(x.calls);
  store_and_announce(self, deps, std::move(msg));
  auto round = std::make_unique<pending_tools>();
  round->calls = std::move(x.calls);
  round->results = std::make_unique<tool_results>();
  round->promise = self->make_response_promise<tool_results>();
  auto promise = round->promise;
  st.reply->tools = std::move(round);
  run_tools(self, deps);
  return promise;
}

// A person's decision on the waiting call, or (`expired`) none in time.
status_result on_approve(self_ptr self, const conversation_deps& deps,
                           const approve_tool& x, bool expired = false) {
  auto& st = self->state;
  auto* round = st.reply ? st.reply->tools.get() : nullptr;
  if (round == nullptr || !round->waiting
      || round->calls[round->next].id != x.tool_call_id)
    return {404, "No tool call with that id is waiting for approval"};
  round->waiting = false;
  auto& call = round->calls[round->next];
  log_info("conversation ", st.session.id, ": tool call ", call.id,
           x.approved  ? " approved"
           : expired ? " declined: nobody approved it in time"
                     : " declined");
  finish_tool(self, deps,
              x.approved ? agent::run_tool(call, deps.knowledge.get(),
                                           st.session.conversation_data)
                         : agent::declined_tool(expired));
  run_tools(self, deps);
  return {};
}

// -- reconnecting streams --------------------------------------------------------------

// Sends `conn` the chunks of a reply after chunk `after`, as they went out.
void replay(self_ptr self, const conversation_deps& deps, std::uint64_t conn,
            const std::string& reply_id, const std::string& text,
            const std::vector<std::uint32_t>& ends, std::uint32_t after) {
  for (auto i = static_cast<std::size_t>(after); i < ends.size(); ++i) {
    event ev;
    ev.kind = event_kind::chunk;
    ev.session_id = self->state.session.id;
    ev.response_id = reply_id;
    ev.seq = static_cast<std::uint32_t>(i + 1);
    auto begin = i == 0 ? 0u : ends[i - 1];
    ev.text = text.substr(begin, ends[i] - begin);
    deps.connections->send(conn, ev);
  }
}

void on_resume(self_ptr self, const conversation_deps& deps,
               const resume_reply& x) {
  auto& st = self->state;
  if (st.reply && st.reply->id == x.reply_id) {
    // Still streaming: what was missed, then live with everyone else.
    subscribe(self, deps, x.conn, x.visitor_id);
    return replay(self, deps, x.conn, x.reply_id, st.reply->text,
                  st.reply->ends, x.after);
  }
  if (st.last_reply && st.last_reply->id == x.reply_id) {
    auto& done = *st.last_reply;
    replay(self, deps, x.conn, done.id, done.text, done.ends, x.after);
    event ev;
    ev.kind = event_kind::complete;
    ev.session_id = st.session.id;
    ev.response_id = done.id;
    ev.seq = static_cast<std::uint32_t>(done.ends.size());
    ev.text = done.text;
    ev.sources = done.sources;
    deps.connections->send(x.conn, ev);
    return maybe_release(self, deps);
  }
  tell(deps, x.conn, st.session.id, "Reply not found");
  maybe_release(self, deps);
}

// -- signed-in owners -------------------------------------------------------------------

constexpr const char* not_found_text = "Conversation not found";

caf::result<status_result> on_delete(self_ptr self,
                                     const conversation_deps& deps,
                                     const delete_conversation& x) {
  auto& st = self->state;
  if (!may_access(self, x.visitor_id)) {
    maybe_release(self, deps);
    return status_result{404, not_found_text};
  }
  if (!is_owner(self, x.visitor_id))
    return status_result{403, "Only the owner may delete a conversation"};
  // Nothing more is stored from here on, and the reply stops unstored.
  st.deleted = true;
  if (st.reply && st.reply->llm)
    self->send_exit(st.reply->llm, caf::exit_reason::user_shutdown);
  st.reply.reset();
  auto rp = self->make_response_promise<status_result>();
  self->request(deps.storage, storage_wait, drop_session{st.session.id})
    .then(
      [self, rp](bool) mutable {
        broadcast(self, error_event(self->state.session.id,
                                    "The conversation was deleted",
                                    "conversation_deleted"));
        rp.deliver(status_result{204, {}});
        self->quit();
      },
      [self, rp, &deps](caf::error& err) mutable {
        log_error("deleting a conversation failed: " + caf::to_string(err));
        self->state.deleted = false;
        schedule_idle(self, deps);
        rp.deliver(status_result{503, "Could not delete the conversation; "
                                      "please try again"});
      });
  return rp;
}

caf::result<session_view> on_change_member(self_ptr self,
                                           const conversation_deps& deps,
                                           const change_member& x) {
  auto& st = self->state;
  if (!may_access(self, x.visitor_id)) {
    maybe_release(self, deps);
    return session_view{404, not_found_text, {}, {}};
  }
  if (!is_owner(self, x.visitor_id))
    return session_view{403, "Only the owner may change members", {}, {}};
  if (x.member == st.session.owner_id)
    return session_view{400, "The owner is not a member", {}, {}};
  auto& ms = st.session.members;
  auto present = std::find(ms.begin(), ms.end(), x.member) != ms.end();
  if (present == x.add)
    return session_view{200, {}, st.session, {}};
  auto rp = self->make_response_promise<session_view>();
  self
    ->request(deps.storage, storage_wait,
              save_member{st.session.id, x.member, now_ms(self), x.add})
    .then(
      [self, rp, x](bool) mutable {
        auto& st = self->state;
        auto& ms = st.session.members;
        if (x.add) {
          ms.push_back(x.member);
        } else {
          ms.erase(std::remove(ms.begin(), ms.end(), x.member), ms.end());
          // A removed member's sockets see nothing more.
          auto gone = who_of(owner_key(x.member));
          auto& subs = st.subscribers;
          for (auto& s : subs)
            if (s.who == gone)
              st.deps.connections->send(
                s.conn, error_event(st.session.id,
                                    "You are no longer a member",
                                    "membership_ended"));
          subs.erase(std::remove_if(subs.begin(), subs.end(),
                                    [gone](const subscriber& s) {
                                      return s.who == gone;
                                    }),
                     subs.end());
        }
        rp.deliver(session_view{200, {}, st.session, {}});
      },
      [rp](caf::error& err) mutable {
        rp.deliver(session_view{503, "Storage unavailable: "
                                       + caf::to_string(err),
                                {}, {}});
      });
  return rp;
}

// -- commands --------------------------------------------------------------------------

// Whether the registry routed the current command (others come straight
// from a subscribed connection).
bool from_registry(self_ptr self) {
  return self->current_sender().get()
         == caf::actor_cast<caf::actor_control_block*>(
             self->state.deps.registry);
}

// Checks a visitor's request against the session; returns the error text.
const char* check_visitor(self_ptr self, const std::string& visitor_id) {
  auto& s = self->state.session;
  if (!may_access(self, visitor_id))
    return "Visitor ID does not match";
  if (s.status != "active")
    return "Session is not active";
  // Signed-in conversations do not expire; visitor sessions do.
  if (s.kind == "visitor" && now_ms(self) >= s.expires_at)
    return "Session has expired";
  return nullptr;
}

} // namespace

caf::behavior conversation(caf::stateful_actor<conversation_state>* self,
                           storage::session_record session,
                           conversation_deps deps) {
  self->state.session = std::move(session);
  // Kept once in the state: handlers capture only `self` (a copy of the
  // deps in each of a dozen handlers cost ~600 bytes per conversation).
  self->state.deps = std::move(deps);
  schedule_idle(self, self->state.deps);
  // CAF tries the handlers in this order, a type comparison each: the one
  // for every chunk comes first.
  return {
    [self](reply_chunk& x) -> one_way {
      on_chunk(self, x);
      return {};
    },
    [self](const open_session& x) {
      auto& deps = self->state.deps;
      ++self->state.handled;
      auto& s = self->state.session;
      if (!may_access(self, x.visitor_id)) {
        tell(deps, x.conn, s.id, "Visitor ID does not match");
        return maybe_release(self, deps);
      }
      subscribe(self, deps, x.conn, x.visitor_id);
      event ev;
      ev.kind = event_kind::connected;
      ev.session_id = s.id;
      ev.conversation_data = s.conversation_data;
      deps.connections->send(x.conn, ev);
    },
    [self](post_message& x) {
      auto& deps = self->state.deps;
      auto& st = self->state;
      // The registry counts only what it routed.
      if (from_registry(self))
        ++st.handled;
      else if (x.session_id != st.session.id)
        return self->send(deps.registry, std::move(x)); // a hash collision
      if (auto err = check_visitor(self, x.visitor_id)) {
        tell(deps, x.conn, st.session.id, err);
        return maybe_release(self, deps);
      }
      subscribe(self, deps, x.conn, x.visitor_id);
      if (st.reply || st.shutting_down)
        return tell(deps, x.conn, st.session.id, still_streaming_text);
      start_reply(self, deps, std::move(x.text), {},
                  [](const storage::message_record*) {});
    },
    [self](submit_message& x) -> caf::result<submit_result> {
      auto& deps = self->state.deps;
      ++self->state.handled;
      auto& st = self->state;
      if (auto err = check_visitor(self, x.visitor_id)) {
        maybe_release(self, deps);
        return submit_result{404, err, {}};
      }
      if (st.reply || st.shutting_down)
        return submit_result{409, still_streaming_text, {}};
      auto rp = self->make_response_promise<submit_result>();
      start_reply(self, deps, std::move(x.text), std::move(x.image),
                  [rp](const storage::message_record* msg) mutable {
                    if (msg)
                      rp.deliver(submit_result{202, {}, *msg});
                    else
                      rp.deliver(submit_result{503, storage_failed_text, {}});
                  });
      return rp;
    },
    [self](const resume_reply& x) {
      auto& deps = self->state.deps;
      ++self->state.handled;
      if (auto err = check_visitor(self, x.visitor_id)) {
        tell(deps, x.conn, self->state.session.id, err);
        return maybe_release(self, deps);
      }
      on_resume(self, deps, x);
    },
    [self](const fetch_session& x) -> caf::result<session_view> {
      auto& deps = self->state.deps;
      ++self->state.handled;
      if (!may_access(self, x.visitor_id)) {
        maybe_release(self, deps);
        // A signed-in conversation does not exist for the visitor API: a
        // 403 would tell that the id is taken.
        if (self->state.session.kind != "visitor")
          return session_view{404, "Session not found", {}, {}};
        return session_view{403, "Visitor ID does not match", {}, {}};
      }
      if (!x.with_messages) {
        maybe_release(self, deps);
        return session_view{200, {}, self->state.session, {}};
      }
      auto rp = self->make_response_promise<session_view>();
      self
        ->request(deps.storage, storage_wait,
                  load_messages{self->state.session.id})
        .then(
          [=](message_list& xs) mutable {
            rp.deliver(session_view{200, {}, self->state.session,
                                    std::move(xs.messages)});
            maybe_release(self, deps);
          },
          [=](caf::error& err) mutable {
            rp.deliver(session_view{503, caf::to_string(err), {}, {}});
          });
      return rp;
    },
    [self](const leave& x) {
      auto& deps = self->state.deps;
      auto& xs = self->state.subscribers;
      xs.erase(std::remove_if(xs.begin(), xs.end(),
                              [&](const subscriber& s) {
                                return s.conn == x.conn;
                              }),
               xs.end());
      maybe_release(self, deps);
    },
    [self](const idle_tick& x) { on_idle_tick(self, self->state.deps, x.due); },
    [self](reply_done& x) { on_done(self, self->state.deps, x); },
    [self](reply_failed& x) { on_failed(self, self->state.deps, x); },
    [self](tool_round& x) -> caf::result<tool_results> {
      auto& deps = self->state.deps;
      return on_tool_round(self, deps, x);
    },
    [self](const approve_tool& x) -> status_result {
      auto& deps = self->state.deps;
      ++self->state.handled;
      return on_approve(self, deps, x);
    },
    [self](const unwatched& x) {
      auto& st = self->state;
      if (x.handled == st.handled && st.subscribers.empty() && !st.reply)
        self->send(st.deps.registry, went_idle{st.session.id, st.handled});
    },
    [self](const approval_expired& x) {
      // Decided already, or another reply by now: nothing is waiting.
      on_approve(self, self->state.deps,
                 approve_tool{self->state.session.id, x.tool_call_id, false},
                 true);
    },
    [self](const delete_conversation& x) {
      ++self->state.handled;
      return on_delete(self, self->state.deps, x);
    },
    [self](const change_member& x) {
      ++self->state.handled;
      return on_change_member(self, self->state.deps, x);
    },
    [self](shutdown_atom) -> caf::result<bool> {
      auto& deps = self->state.deps;
      self->state.shutting_down = true;
      auto rp = self->make_response_promise<bool>();
      bool streaming = self->state.reply != nullptr;
      interrupt_reply(self, deps, [=]() mutable {
        if (streaming)
          broadcast(self, error_event(self->state.session.id, shutdown_text,
                                      "shutdown"));
        rp.deliver(true);
      });
      return rp;
    },
    [self](quit_atom) { self->quit(); },
  };
}

} // namespace parley
