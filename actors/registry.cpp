#include "actors/registry.hpp"

#include <caf/all.hpp>

#include "actors/connections.hpp"
#include "actors/messages.hpp"
#include "actors/storage_actor.hpp"
#include "config/log.hpp"

namespace parley {

namespace {

using self_ptr = caf::stateful_actor<registry_state>*;

constexpr const char* not_found_text = "Session not found";

caf::actor spawn_live(self_ptr self, storage::session_record s) {
  auto& st = self->state;
  auto id = s.id;
  auto conv = self->spawn(conversation, std::move(s), st.deps);
  self->monitor(conv);
  st.live.emplace(std::move(id), registry_state::live_entry{conv, 0});
  return conv;
}

// Forgets the front of fresh_order while it names sessions already taken.
void skip_taken(registry_state& st) {
  while (!st.fresh_order.empty()
         && st.fresh.find(st.fresh_order.front()) == st.fresh.end())
    st.fresh_order.pop_front();
}

// What a kept record holds: its strings, and a few hundred bytes for the
// record and its map node.
std::size_t fresh_cost(const storage::session_record& s) {
  return s.id.size() + s.visitor_id.size() + s.conversation_data.size()
         + s.owner_id.size() + s.title.size() + 256;
}

void keep_fresh(self_ptr self, storage::session_record s) {
  auto& st = self->state;
  auto cost = fresh_cost(s);
  if (cost > registry_state::fresh_budget)
    return;
  // The order counts against the cap too: ids taken behind an old record
  // nobody used stay in it until that record goes.
  skip_taken(st);
  while (!st.fresh_order.empty()
         && (st.fresh_order.size() >= registry_state::fresh_cap
             || st.fresh_bytes + cost > registry_state::fresh_budget)) {
    if (auto oldest = st.fresh.find(st.fresh_order.front());
        oldest != st.fresh.end()) {
      st.fresh_bytes -= fresh_cost(oldest->second);
      st.fresh.erase(oldest);
    }
    st.fresh_order.pop_front();
    skip_taken(st);
  }
  st.fresh_order.push_back(s.id);
  st.fresh_bytes += cost;
  auto id = s.id;
  st.fresh.insert_or_assign(std::move(id), std::move(s));
}

// The conversation of a session this node created and nobody named yet, or
// null.
caf::actor take_fresh(self_ptr self, const std::string& id) {
  auto& st = self->state;
  auto i = st.fresh.find(id);
  if (i == st.fresh.end())
    return nullptr;
  st.fresh_bytes -= fresh_cost(i->second);
  auto s = std::move(i->second);
  st.fresh.erase(i);
  skip_taken(st);
  return spawn_live(self, std::move(s));
}

void load(self_ptr self, const std::string& id) {
  self->request(self->state.deps.storage, storage_wait, load_session{id})
    .then(
      [=](session_lookup& x) {
        auto& st = self->state;
        caf::actor conv;
        if (x.found)
          conv = spawn_live(self, std::move(x.session));
        auto waiting = std::move(st.loading[id]);
        st.loading.erase(id);
        for (auto& f : waiting)
          f(conv);
      },
      [=](caf::error& err) {
        log_error("loading session failed: " + caf::to_string(err));
        auto waiting = std::move(self->state.loading[id]);
        self->state.loading.erase(id);
        for (auto& f : waiting)
          f(nullptr);
      });
}

// Runs `f` with the session's conversation (nullptr if there is none),
// now if it is live, else once it is loaded.
void with_conversation(self_ptr self, const std::string& id,
                       std::function<void(caf::actor)> f) {
  auto& st = self->state;
  if (auto i = st.live.find(id); i != st.live.end()) {
    ++i->second.routed;
    return f(i->second.conversation);
  }
  if (auto conv = take_fresh(self, id)) {
    ++st.live[id].routed;
    return f(std::move(conv));
  }
  auto& waiting = st.loading[id];
  waiting.push_back([self, id, f{std::move(f)}](caf::actor conv) {
    if (conv)
      ++self->state.live[id].routed;
    f(std::move(conv));
  });
  if (waiting.size() == 1)
    load(self, id);
}

// Routes a command from a connection; unknown sessions get an error frame.
template <class Command>
void route(self_ptr self, Command x) {
  auto id = x.session_id;
  with_conversation(self, id, [self, x](caf::actor conv) {
    if (conv)
      self->send(conv, x);
    else
      self->state.deps.connections->send(
        x.conn, error_event(x.session_id, not_found_text));
  });
}

// Hands a request to the session's conversation, which answers it; an
// unknown session gets `not_found`.
template <class Reply, class Request>
caf::result<Reply> delegate(self_ptr self, Request& x, Reply not_found) {
  auto rp = self->make_response_promise<Reply>();
  auto id = x.session_id;
  with_conversation(self, id,
                    [=, x = std::move(x)](caf::actor conv) mutable {
                      if (conv)
                        rp.delegate(conv, std::move(x));
                      else
                        rp.deliver(std::move(not_found));
                    });
  return rp;
}

} // namespace

caf::behavior registry(caf::stateful_actor<registry_state>* self,
                       conversation_deps deps) {
  deps.registry = caf::actor{self};
  self->state.deps = deps;
  // Conversations end with the registry (engine stop, test teardown).
  self->set_exit_handler([=](caf::exit_msg& x) {
    for (auto& kvp : self->state.live)
      self->send_exit(kvp.second.conversation, x.reason);
    self->quit(x.reason);
  });
  // A conversation let go is no longer monitored: this one ended by itself.
  self->set_down_handler([=](caf::down_msg& x) {
    self->state.deps.connections->forget(x.source);
    auto& live = self->state.live;
    for (auto i = live.begin(); i != live.end(); ++i)
      if (i->second.conversation.address() == x.source) {
        live.erase(i);
        return;
      }
  });
  return {
    [=](session_created& x) { keep_fresh(self, std::move(x.session)); },
    [=](open_session& x) { route(self, std::move(x)); },
    [=](post_message& x) { route(self, std::move(x)); },
    [=](resume_reply& x) { route(self, std::move(x)); },
    [=](fetch_session& x) {
      return delegate(self, x, session_view{404, not_found_text, {}, {}});
    },
    [=](submit_message& x) {
      return delegate(self, x, submit_result{404, not_found_text, {}});
    },
    [=](delete_conversation& x) {
      return delegate(self, x, status_result{404, not_found_text});
    },
    [=](change_member& x) {
      return delegate(self, x, session_view{404, not_found_text, {}, {}});
    },
    [=](approve_tool& x) {
      return delegate(self, x, status_result{404, not_found_text});
    },
    [=](const went_idle& x) {
      auto& live = self->state.live;
      auto i = live.find(x.session_id);
      // A command still in flight keeps the conversation.
      if (i == live.end() || i->second.routed != x.handled)
        return;
      self->demonitor(i->second.conversation);
      self->send(i->second.conversation, quit_atom::value);
      live.erase(i);
    },
    [=](shutdown_atom) -> caf::result<bool> {
      auto rp = self->make_response_promise<bool>();
      auto pending = std::make_shared<std::size_t>(self->state.live.size());
      auto finish = [=]() mutable {
        // Ended here, not by themselves: no down message (and no scan of
        // the connection table) for each.
        for (auto& kvp : self->state.live) {
          self->demonitor(kvp.second.conversation);
          self->send_exit(kvp.second.conversation,
                          caf::exit_reason::user_shutdown);
        }
        self->state.live.clear();
        rp.deliver(true);
      };
      if (*pending == 0) {
        finish();
        return rp;
      }
      for (auto& kvp : self->state.live)
        self
          ->request(kvp.second.conversation, std::chrono::seconds(4),
                    shutdown_atom::value)
          .then(
            [=](bool) mutable {
              if (--*pending == 0)
                finish();
            },
            [=](caf::error&) mutable {
              if (--*pending == 0)
                finish();
            });
      return rp;
    },
  };
}

} // namespace parley
