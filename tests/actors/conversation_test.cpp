#define CAF_SUITE conversation
#include <caf/test/dsl.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>

#include <nlohmann/json.hpp>

#include "actors/spawn_function.hpp"
#include "actors/clock.hpp"
#include "actors/connections.hpp"
#include "actors/messages.hpp"
#include "actors/pacer.hpp"
#include "actors/registry.hpp"
#include "actors/storage_actor.hpp"
#include "actors/uuid.hpp"
#include "config/settings.hpp"
#include "storage/store.hpp"
#include "tests/actors/test_config.hpp"

using namespace parley;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

// A connection that records frames; the test dialect writes "kind:text".
struct recorder : sink {
  std::vector<std::string> frames;
  void send(frame_ptr frame) override {
    frames.push_back(*frame);
  }
};

frame_ptr describe(const event& ev) {
  static const char* names[] = {"connected",   "chunk", "complete",
                                "idle_warning", "session_end", "error",
                                "message"};
  // A stored message: "message:role:content".
  auto text = ev.message ? ev.message->role + ":" + ev.message->content
                         : ev.text;
  return std::make_shared<const std::string>(
    std::string{names[static_cast<int>(ev.kind)]} + ":" + text);
}

bool starts_with(const std::string& x, const std::string& prefix) {
  return x.compare(0, prefix.size(), prefix) == 0;
}

using open_atom = caf::atom_constant<caf::atom("open")>;
using fail_atom = caf::atom_constant<caf::atom("fail")>;

// Storage in front of the real one that holds the writes of messages by
// `held_role` and a session's removal until it gets `open`, then lets them
// through in the order they came (a test decides which acknowledgement
// lands first), or `fail`, then refuses them.
caf::behavior
storage_gate(caf::stateful_actor<std::vector<std::function<void(bool)>>>* self,
             caf::actor real, std::string held_role) {
  auto hold = [self, real](auto x) {
    auto rp = self->make_response_promise<bool>();
    self->state.push_back([rp, real, x](bool pass) mutable {
      if (pass)
        rp.delegate(real, x);
      else
        rp.deliver(caf::make_error(caf::sec::runtime_error, "disk full"));
    });
    return rp;
  };
  auto release = [self](bool pass) {
    for (auto& held : self->state)
      held(pass);
    self->state.clear();
  };
  return {
    [=](save_message& x) {
      if (x.message.role == held_role)
        return hold(std::move(x));
      auto rp = self->make_response_promise<bool>();
      rp.delegate(real, std::move(x));
      return rp;
    },
    [=](drop_session& x) { return hold(std::move(x)); },
    [=](open_atom) { release(true); },
    [=](fail_atom) { release(false); },
    [=](save_session& x) { return self->delegate(real, std::move(x)); },
    [=](load_session& x) { return self->delegate(real, std::move(x)); },
    [=](load_messages& x) { return self->delegate(real, std::move(x)); },
    [=](save_member& x) { return self->delegate(real, std::move(x)); },
  };
}

// Storage in front of the real one that refuses to read a session back.
caf::behavior no_session_reads(caf::event_based_actor* self, caf::actor real) {
  return {
    [=](const load_session&) -> caf::result<session_lookup> {
      return caf::make_error(caf::sec::runtime_error, "no reads here");
    },
    [=](save_session& x) { return self->delegate(real, std::move(x)); },
    [=](save_message& x) { return self->delegate(real, std::move(x)); },
  };
}

struct fixture : test_coordinator_fixture<parley::testing::test_config> {
  settings cfg;
  std::shared_ptr<storage::store> db;
  connection_table conns;
  caf::actor storage;
  caf::actor reg;
  caf::actor pace;
  // A second registry on gated storage (hold_user_message).
  caf::actor gate;
  caf::actor gated;

  fixture() {
    cfg.stream_delay_ms = 0;
    cfg.idle_warning_seconds = 120;
    cfg.session_end_seconds = 240;
    db = storage::open_store("sqlite::memory:");
    db->migrate();
    storage = sys.spawn(storage_actor, db);
    pace = sys.spawn(pacer, pacer_slack);
    reg = sys.spawn(registry, conversation_deps{storage, {}, &conns, &cfg,
                                                nullptr, nullptr, pace});
    sched.run();
  }

  ~fixture() {
    if (gated) {
      self->send_exit(gated, caf::exit_reason::user_shutdown);
      self->send_exit(gate, caf::exit_reason::user_shutdown);
    }
    self->send_exit(reg, caf::exit_reason::user_shutdown);
    self->send_exit(storage, caf::exit_reason::user_shutdown);
    self->send_exit(pace, caf::exit_reason::user_shutdown);
    sched.run();
  }

  std::int64_t now() {
    return now_ms(self.ptr());
  }

  // A visitor session, or with `owner` a signed-in user's conversation.
  storage::session_record make_session(std::int64_t ttl_seconds = 86400,
                                       const std::string& owner = "") {
    storage::session_record s;
    s.id = make_uuid();
    s.visitor_id = owner.empty() ? make_uuid() : "\x01user:" + owner;
    if (!owner.empty()) {
      s.kind = "conversation";
      s.owner_id = owner;
    }
    s.status = "active";
    s.created_at = now();
    s.expires_at = s.created_at + ttl_seconds * 1000;
    s.last_activity_at = s.created_at;
    db->insert_session(s);
    return s;
  }

  std::pair<std::uint64_t, std::shared_ptr<recorder>> connect() {
    auto r = std::make_shared<recorder>();
    return {conns.add(r, &describe), r};
  }

  void post(std::uint64_t conn, const storage::session_record& s,
            std::string text = "Hello there, how much does it cost?") {
    self->send(reg, post_message{conn, s.id, s.visitor_id, std::move(text)});
    sched.run();
  }

  // Advances virtual time and runs what became due.
  void wait(caf::timespan d) {
    advance_time(d);
    sched.run();
  }

  static std::size_t count(const recorder& r, const std::string& prefix) {
    return static_cast<std::size_t>(
      std::count_if(r.frames.begin(), r.frames.end(),
                    [&](const std::string& x) { return starts_with(x, prefix); }));
  }

  // Sends `req` to `to` from a helper actor; the answer lands in the
  // returned slot once the scheduler runs.
  template <class Reply, class Request>
  std::shared_ptr<std::optional<Reply>> ask(caf::actor to, Request req) {
    auto slot = std::make_shared<std::optional<Reply>>();
    spawn_function(sys, [=](caf::event_based_actor* a) {
      a->request(to, caf::infinite, req).then([=](Reply& x) {
        *slot = std::move(x);
      });
    });
    return slot;
  }

  caf::actor conversation_of(const storage::session_record& s) {
    return deref<caf::stateful_actor<registry_state>>(reg)
      .state.live.at(s.id)
      .conversation;
  }

  // A visitor reply that streams throughout, whose LLM actor asks the
  // conversation to run `calls` (what a model's tool round does).
  struct tool_round_asked {
    storage::session_record session;
    caf::actor conversation;
    std::shared_ptr<std::optional<tool_results>> results;
  };
  tool_round_asked ask_tool_round(std::string text,
                                  std::vector<agent::tool_call> calls) {
    // 50 chunks 3 s apart: still streaming when an approval expires.
    cfg.stream_delay_ms = 3000;
    cfg.builtin_words = 50;
    auto s = make_session();
    auto conn = connect().first;
    post(conn, s);
    auto conv = conversation_of(s);
    auto reply_id
      = deref<caf::stateful_actor<conversation_state>>(conv).state.reply->id;
    auto results = ask<tool_results>(
      conv, tool_round{reply_id, std::move(text), std::move(calls)});
    sched.run();
    return {s, conv, results};
  }

  // A visitor's message whose store a gate holds; the LLM actor of its
  // reply is already there.
  struct held_message {
    storage::session_record session;
    std::shared_ptr<recorder> frames;
    caf::actor gate;
    caf::actor llm;
  };
  held_message hold_user_message() {
    held_message h;
    gate = h.gate = sys.spawn(storage_gate, storage, std::string{"user"});
    gated = sys.spawn(registry, conversation_deps{h.gate, {}, &conns, &cfg,
                                                  nullptr, nullptr, pace});
    sched.run();
    h.session = make_session();
    auto [conn, r] = connect();
    h.frames = r;
    self->send(gated, post_message{conn, h.session.id, h.session.visitor_id,
                                   "Hello"});
    sched.run();
    auto conv = deref<caf::stateful_actor<registry_state>>(gated)
                  .state.live.at(h.session.id)
                  .conversation;
    auto& reply
      = deref<caf::stateful_actor<conversation_state>>(conv).state.reply;
    CAF_REQUIRE(reply != nullptr);
    CAF_REQUIRE(reply->llm != nullptr);
    h.llm = reply->llm;
    return h;
  }

  // The reply text from chunks, checked against the complete frame.
  static std::string joined_chunks(const recorder& r) {
    std::string out;
    for (auto& x : r.frames)
      if (starts_with(x, "chunk:"))
        out += x.substr(6);
    return out;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(conversation_tests, fixture)

CAF_TEST(a reply streams in chunks and then completes) {
  auto s = make_session();
  auto [conn, r] = connect();
  post(conn, s);
  CAF_REQUIRE(count(*r, "chunk:") > 3);
  CAF_REQUIRE_EQUAL(count(*r, "complete:"), 1u);
  CAF_CHECK_EQUAL(r->frames.back(), "complete:" + joined_chunks(*r));
  auto stored = db->messages(s.id);
  CAF_REQUIRE_EQUAL(stored.size(), 2u);
  CAF_CHECK_EQUAL(stored[0].role, "user");
  CAF_CHECK_EQUAL(stored[0].content, "Hello there, how much does it cost?");
  CAF_CHECK_EQUAL(stored[1].role, "assistant");
  CAF_CHECK_EQUAL(stored[1].content, joined_chunks(*r));
  CAF_CHECK_EQUAL(stored[1].state, "complete");
}

CAF_TEST(the idle warning and the session end come at exactly their second) {
  auto s = make_session();
  auto [conn, r] = connect();
  post(conn, s);
  auto before = r->frames.size();
  wait(seconds(119) + milliseconds(999));
  CAF_CHECK_EQUAL(r->frames.size(), before);
  wait(milliseconds(1));
  CAF_REQUIRE_EQUAL(r->frames.size(), before + 1);
  CAF_CHECK(starts_with(r->frames.back(), "idle_warning:G'day! Are you still"));
  wait(seconds(119) + milliseconds(999)); // 239.999 s after the reply
  CAF_CHECK_EQUAL(r->frames.size(), before + 1);
  wait(milliseconds(1));
  CAF_REQUIRE_EQUAL(r->frames.size(), before + 2);
  CAF_CHECK(starts_with(r->frames.back(), "session_end:No worries!"));
  auto ended = db->find_session(s.id);
  CAF_REQUIRE(ended);
  CAF_CHECK_EQUAL(ended->status, "ended");
  auto stored = db->messages(s.id);
  CAF_REQUIRE_EQUAL(stored.size(), 4u);
  CAF_CHECK_EQUAL(stored[2].kind, "idle_warning");
  CAF_CHECK_EQUAL(stored[3].kind, "session_end");
  // No timer fires for an ended session; messages are refused.
  wait(seconds(1000));
  CAF_CHECK_EQUAL(r->frames.size(), before + 2);
  post(conn, s);
  CAF_CHECK_EQUAL(r->frames.back(), "error:Session is not active");
}

CAF_TEST(a visitor message resets the idle clock) {
  auto s = make_session();
  auto [conn, r] = connect();
  post(conn, s);
  wait(seconds(100));
  post(conn, s, "still here");
  wait(seconds(119));
  CAF_CHECK_EQUAL(count(*r, "idle_warning:"), 0u);
  wait(seconds(1));
  CAF_CHECK_EQUAL(count(*r, "idle_warning:"), 1u);
}

CAF_TEST(activity after a warning brings the next warning before the end) {
  // The end's timer (100 s) is pending when the visitor comes back at 11 s:
  // the next warning is due at 21 s, earlier than that timer.
  cfg.idle_warning_seconds = 10;
  cfg.session_end_seconds = 100;
  auto s = make_session();
  auto [conn, r] = connect();
  post(conn, s);
  wait(seconds(10));
  CAF_CHECK_EQUAL(count(*r, "idle_warning:"), 1u);
  wait(seconds(1));
  post(conn, s, "back");
  wait(seconds(9));
  CAF_CHECK_EQUAL(count(*r, "idle_warning:"), 1u);
  wait(seconds(1));
  CAF_CHECK_EQUAL(count(*r, "idle_warning:"), 2u);
  wait(seconds(89));
  CAF_CHECK_EQUAL(count(*r, "session_end:"), 0u);
  wait(seconds(1));
  CAF_CHECK_EQUAL(count(*r, "session_end:"), 1u);
}

CAF_TEST(the warning is sent once per idle period) {
  auto s = make_session();
  auto [conn, r] = connect();
  post(conn, s);
  wait(seconds(120));
  CAF_CHECK_EQUAL(count(*r, "idle_warning:"), 1u);
  post(conn, s, "back again");
  wait(seconds(120));
  CAF_CHECK_EQUAL(count(*r, "idle_warning:"), 2u);
  wait(seconds(60));
  CAF_CHECK_EQUAL(count(*r, "idle_warning:"), 2u);
  CAF_CHECK_EQUAL(count(*r, "session_end:"), 0u);
}

CAF_TEST(a streaming reply is not inactivity) {
  cfg.stream_delay_ms = 1000;
  cfg.builtin_words = 200; // the reply takes 199 s
  auto s = make_session();
  auto [conn, r] = connect();
  post(conn, s);
  for (int i = 0; i < 199; ++i)
    wait(seconds(1));
  CAF_CHECK_EQUAL(count(*r, "idle_warning:"), 0u);
  CAF_REQUIRE_EQUAL(count(*r, "complete:"), 1u);
  CAF_CHECK_EQUAL(count(*r, "chunk:"), 200u);
  wait(seconds(119));
  CAF_CHECK_EQUAL(count(*r, "idle_warning:"), 0u);
  wait(seconds(1));
  CAF_CHECK_EQUAL(count(*r, "idle_warning:"), 1u);
}

CAF_TEST(two tabs of one session receive the same stream) {
  auto s = make_session();
  auto [a, ra] = connect();
  auto [b, rb] = connect();
  self->send(reg, open_session{b, s.id, s.visitor_id});
  sched.run();
  CAF_REQUIRE_EQUAL(rb->frames.size(), 1u);
  CAF_CHECK_EQUAL(rb->frames[0], "connected:");
  post(a, s);
  std::vector<std::string> tail(rb->frames.begin() + 1, rb->frames.end());
  CAF_CHECK(count(*ra, "chunk:") > 3);
  CAF_CHECK_EQUAL(ra->frames, tail);
}

CAF_TEST(a closed tab stops receiving) {
  auto s = make_session();
  auto [a, ra] = connect();
  auto [b, rb] = connect();
  self->send(reg, open_session{b, s.id, s.visitor_id});
  sched.run();
  for (auto& conv : conns.remove(b))
    self->send(conv, leave{b});
  sched.run();
  post(a, s);
  CAF_CHECK_EQUAL(rb->frames.size(), 1u);
  CAF_CHECK(count(*ra, "complete:") == 1u);
}

CAF_TEST(chunks keep their order under interleaved conversations) {
  auto s1 = make_session();
  auto s2 = make_session();
  auto [c1, r1] = connect();
  auto [c2, r2] = connect();
  self->send(reg, post_message{c1, s1.id, s1.visitor_id, "My name is Ann"});
  self->send(reg, post_message{c2, s2.id, s2.visitor_id, "Need some help?"});
  sched.run();
  for (auto* r : {r1.get(), r2.get()}) {
    CAF_REQUIRE_EQUAL(count(*r, "complete:"), 1u);
    CAF_CHECK_EQUAL(r->frames.back(), "complete:" + joined_chunks(*r));
  }
  CAF_CHECK(starts_with(joined_chunks(*r1), "Thanks, Ann!"));
  CAF_CHECK(joined_chunks(*r2).find("Ann") == std::string::npos);
}

// The LLM actor gets the reply ready while the user's message is stored,
// but nothing of the reply goes out before the store is acknowledged.
CAF_TEST(a reply is prepared while its message is stored and waits for it) {
  auto held = hold_user_message();
  CAF_CHECK_EQUAL(count(*held.frames, "chunk:"), 0u);
  CAF_CHECK(db->messages(held.session.id).empty());
  self->send(held.gate, open_atom::value);
  sched.run();
  CAF_CHECK(count(*held.frames, "chunk:") > 3);
  CAF_CHECK_EQUAL(count(*held.frames, "complete:"), 1u);
  CAF_CHECK_EQUAL(db->messages(held.session.id).size(), 2u);
}

// The LLM actor started beside the store goes with the failed store.
CAF_TEST(a reply whose message cannot be stored never starts) {
  auto held = hold_user_message();
  self->monitor(held.llm);
  self->send(held.gate, fail_atom::value);
  sched.run();
  CAF_CHECK_EQUAL(count(*held.frames, "chunk:"), 0u);
  CAF_CHECK(starts_with(held.frames->frames.back(), "error:"));
  bool gone = false;
  self->receive(
    [&](const caf::down_msg& x) { gone = x.source == held.llm.address(); },
    caf::after(std::chrono::seconds(0)) >> [] {});
  CAF_CHECK(gone);
}

CAF_TEST(a message while a reply streams is refused) {
  cfg.stream_delay_ms = 20;
  auto s = make_session();
  auto [conn, r] = connect();
  post(conn, s);
  CAF_REQUIRE_EQUAL(count(*r, "chunk:"), 1u);
  post(conn, s, "another one");
  CAF_CHECK_EQUAL(r->frames.back(),
                  "error:A reply is still streaming; send your message after "
                  "it completes");
  for (int i = 0; i < 100 && count(*r, "complete:") == 0; ++i)
    wait(milliseconds(20));
  CAF_CHECK_EQUAL(r->frames.back(), "complete:" + joined_chunks(*r));
  CAF_CHECK_EQUAL(db->messages(s.id).size(), 2u);
}

CAF_TEST(a finished reply stores the session state with its message) {
  cfg.stream_delay_ms = 20;
  auto s = make_session();
  auto [conn, r] = connect();
  post(conn, s, "Hi, my name is Ada");
  auto started = now();
  for (int i = 0; i < 100 && count(*r, "complete:") == 0; ++i)
    wait(milliseconds(20));
  CAF_REQUIRE_EQUAL(count(*r, "complete:"), 1u);
  auto session = db->find_session(s.id);
  CAF_REQUIRE(session);
  // The last activity is the reply's end, not its start.
  CAF_CHECK_GREATER(session->last_activity_at, started);
  CAF_CHECK_LESS_OR_EQUAL(session->last_activity_at, now());
  auto profile = nlohmann::json::parse(session->conversation_data);
  CAF_CHECK_EQUAL(profile["name"], "Ada");
}

CAF_TEST(sessions expire after their ttl) {
  auto s = make_session(100);
  auto [conn, r] = connect();
  wait(seconds(99));
  post(conn, s);
  CAF_CHECK_EQUAL(count(*r, "complete:"), 1u);
  wait(seconds(1));
  post(conn, s);
  CAF_CHECK_EQUAL(r->frames.back(), "error:Session has expired");
}

CAF_TEST(wrong ids get the document errors) {
  auto s = make_session();
  auto [conn, r] = connect();
  self->send(reg, post_message{conn, make_uuid(), s.visitor_id, "hi"});
  sched.run();
  CAF_CHECK_EQUAL(r->frames.back(), "error:Session not found");
  self->send(reg, post_message{conn, s.id, make_uuid(), "hi"});
  sched.run();
  CAF_CHECK_EQUAL(r->frames.back(), "error:Visitor ID does not match");
  self->send(reg, open_session{conn, s.id, make_uuid()});
  sched.run();
  CAF_CHECK_EQUAL(r->frames.back(), "error:Visitor ID does not match");
  CAF_CHECK(db->messages(s.id).empty());
}

CAF_TEST(a reloaded session keeps its idle deadline) {
  auto s = make_session();
  s.last_activity_at = now() - 100 * 1000; // active 100 s ago
  db->update_session(s);
  auto [conn, r] = connect();
  self->send(reg, open_session{conn, s.id, s.visitor_id});
  sched.run();
  wait(seconds(19));
  CAF_CHECK_EQUAL(count(*r, "idle_warning:"), 0u);
  wait(seconds(1));
  CAF_CHECK_EQUAL(count(*r, "idle_warning:"), 1u);
}

CAF_TEST(a session reloaded mid - reply takes its deadline from the message) {
  // What a crash during a reply leaves: the row as it was before the
  // visitor's message (warned, active 100 s ago), the message stored.
  auto s = make_session();
  s.last_activity_at = now() - 100 * 1000;
  s.warning_sent = true;
  db->update_session(s);
  db->insert_message(storage::text_message(make_uuid(), s.id, "user", "message",
                                           "hi", "complete",
                                           now() - 10 * 1000));
  auto [conn, r] = connect();
  self->send(reg, open_session{conn, s.id, s.visitor_id});
  sched.run();
  // A fresh warning 120 s after the message, not the end 240 s after the
  // row's activity.
  wait(seconds(109));
  CAF_CHECK_EQUAL(count(*r, "idle_warning:"), 0u);
  CAF_CHECK_EQUAL(count(*r, "session_end:"), 0u);
  wait(seconds(1));
  CAF_CHECK_EQUAL(count(*r, "idle_warning:"), 1u);
}

CAF_TEST(shutdown stores the partial reply) {
  cfg.stream_delay_ms = 20;
  auto s = make_session();
  auto [conn, r] = connect();
  post(conn, s);
  wait(milliseconds(20));
  wait(milliseconds(20));
  auto streamed = joined_chunks(*r);
  CAF_REQUIRE_EQUAL(count(*r, "chunk:"), 3u);
  self->send(reg, shutdown_atom::value);
  sched.run();
  CAF_CHECK_EQUAL(r->frames.back(),
                  "error:Server is shutting down; the reply was interrupted");
  auto stored = db->messages(s.id);
  CAF_REQUIRE_EQUAL(stored.size(), 2u);
  CAF_CHECK_EQUAL(stored[1].state, "partial");
  CAF_CHECK_EQUAL(stored[1].content, streamed);
}

CAF_TEST(an ended conversation nobody watches is let go) {
  auto s = make_session();
  auto [conn, r] = connect();
  post(conn, s);
  wait(seconds(120));
  wait(seconds(120));
  for (auto& conv : conns.remove(conn))
    self->send(conv, leave{conn});
  sched.run();
  auto& st = deref<caf::stateful_actor<registry_state>>(reg).state;
  CAF_CHECK(st.live.empty());
  // It comes back from storage on demand, still ended.
  auto [again, r2] = connect();
  post(again, s);
  CAF_CHECK_EQUAL(r2->frames.back(), "error:Session is not active");
}

CAF_TEST(a watching socket posts past the registry and still lets go) {
  auto s = make_session();
  auto [conn, r] = connect();
  post(conn, s);
  auto conv = conversation_of(s);
  CAF_CHECK(conns.watched(conn, s.id) == conv);
  CAF_CHECK(conns.watched(conn, make_uuid()) == nullptr);
  // What engine::post does for a socket that watches the session.
  self->send(conv, post_message{conn, s.id, s.visitor_id, "And in euros?"});
  sched.run();
  CAF_CHECK_EQUAL(count(*r, "complete:"), 2u);
  CAF_CHECK_EQUAL(db->messages(s.id).size(), 4u);
  // A post the registry never saw must not hold the session forever.
  wait(seconds(120));
  wait(seconds(120));
  for (auto& c : conns.remove(conn))
    self->send(c, leave{conn});
  sched.run();
  CAF_CHECK(deref<caf::stateful_actor<registry_state>>(reg).state.live.empty());
}

CAF_TEST(a session this node created starts without reading it back) {
  auto reads_refused = sys.spawn(no_session_reads, storage);
  auto r2 = sys.spawn(registry, conversation_deps{reads_refused, {}, &conns,
                                                  &cfg, nullptr, nullptr, pace});
  auto s = make_session();
  auto other = make_session(); // in storage, but not announced
  self->send(r2, session_created{s}); // what engine::create_session sends
  sched.run();
  auto [conn, r] = connect();
  self->send(r2, post_message{conn, s.id, s.visitor_id, "Hello?"});
  sched.run();
  CAF_CHECK_EQUAL(count(*r, "complete:"), 1u);
  CAF_CHECK_EQUAL(db->messages(s.id).size(), 2u);
  auto& st = deref<caf::stateful_actor<registry_state>>(r2).state;
  CAF_CHECK(st.fresh.empty());
  CAF_CHECK(st.fresh_order.empty());
  // Any other session is read from storage, here refused.
  self->send(r2, post_message{conn, other.id, other.visitor_id, "Hello?"});
  sched.run();
  CAF_CHECK_EQUAL(r->frames.back(), "error:Session not found");
  self->send_exit(r2, caf::exit_reason::user_shutdown);
  self->send_exit(reads_refused, caf::exit_reason::user_shutdown);
  sched.run();
}

CAF_TEST(the registry keeps a bounded number of created sessions) {
  std::vector<std::string> ids;
  for (std::size_t i = 0; i <= registry_state::fresh_cap; ++i) {
    storage::session_record s;
    s.id = make_uuid();
    ids.push_back(s.id);
    self->send(reg, session_created{std::move(s)});
  }
  sched.run();
  auto& st = deref<caf::stateful_actor<registry_state>>(reg).state;
  CAF_CHECK_EQUAL(st.fresh.size(), registry_state::fresh_cap);
  CAF_CHECK_EQUAL(st.fresh_order.size(), registry_state::fresh_cap);
  CAF_CHECK(st.fresh.count(ids.front()) == 0); // the oldest went
  CAF_CHECK(st.fresh.count(ids.back()) == 1);
  // Large records count by their bytes: 64 KB of conversation data each.
  for (int i = 0; i < 100; ++i) {
    storage::session_record s;
    s.id = make_uuid();
    s.conversation_data.assign(64 * 1024, 'x');
    self->send(reg, session_created{std::move(s)});
  }
  sched.run();
  CAF_CHECK_LESS_OR_EQUAL(st.fresh_bytes, registry_state::fresh_budget);
  CAF_CHECK_LESS(st.fresh.size(), 100u);
  CAF_CHECK_EQUAL(st.fresh.size(), st.fresh_order.size());
  std::size_t bytes = 0;
  for (auto& kvp : st.fresh)
    bytes += kvp.second.conversation_data.size();
  CAF_CHECK_LESS_OR_EQUAL(bytes, registry_state::fresh_budget);
}

CAF_TEST(ids taken behind a created session nobody used do not pile up) {
  auto created = [&] {
    storage::session_record s;
    s.id = make_uuid();
    s.visitor_id = make_uuid();
    s.status = "active";
    s.created_at = now();
    s.expires_at = s.created_at + 86400 * 1000;
    s.last_activity_at = s.created_at;
    self->send(reg, session_created{s});
    return s;
  };
  created(); // never named
  for (std::size_t i = 0; i < registry_state::fresh_cap + 10; ++i) {
    auto s = created();
    self->send(reg, open_session{0, s.id, s.visitor_id}); // takes it
  }
  sched.run();
  auto& st = deref<caf::stateful_actor<registry_state>>(reg).state;
  CAF_CHECK_EQUAL(st.live.size(), registry_state::fresh_cap + 10);
  CAF_CHECK(st.fresh.empty()); // the unused one made room at last
  CAF_CHECK(st.fresh_order.empty());
  CAF_CHECK_EQUAL(st.fresh_bytes, 0u);
}

CAF_TEST(a post that reached the wrong conversation goes through the registry) {
  auto a = make_session();
  auto b = make_session();
  auto [conn, r] = connect();
  post(conn, a);
  post(conn, b);
  CAF_REQUIRE_EQUAL(count(*r, "complete:"), 2u);
  // What engine::post would send on a hash collision between the two ids:
  // b's message to a's conversation, not from the registry.
  self->send(conversation_of(a),
             post_message{conn, b.id, b.visitor_id, "And in euros?"});
  sched.run();
  CAF_CHECK_EQUAL(count(*r, "complete:"), 3u);
  CAF_CHECK_EQUAL(db->messages(a.id).size(), 2u);
  CAF_CHECK_EQUAL(db->messages(b.id).size(), 4u);
}

CAF_TEST(a signed-in conversation nobody watches is let go after five minutes) {
  auto s = make_session(86400, "alice");
  auto [conn, r] = connect();
  self->send(reg, open_session{conn, s.id, s.visitor_id});
  sched.run();
  auto& live = deref<caf::stateful_actor<registry_state>>(reg).state.live;
  CAF_REQUIRE_EQUAL(live.size(), 1u);
  for (auto& conv : conns.remove(conn))
    self->send(conv, leave{conn});
  sched.run();
  wait(seconds(299));
  CAF_CHECK_EQUAL(live.size(), 1u);
  wait(seconds(1));
  CAF_CHECK(live.empty());
  // Still there on demand, from storage.
  auto got = ask<submit_result>(reg, submit_message{s.id, s.visitor_id, "hi", ""});
  sched.run();
  CAF_REQUIRE(*got);
  CAF_CHECK_EQUAL((*got)->status, 202);
}

// -- tool rounds (what the LLM actor asks when a model calls tools) ----------

CAF_TEST(a tool call that needs approval waits for approve) {
  auto [s, conv, results] = ask_tool_round(
    "Let me save that.",
    {{"tc_1", "search_knowledge", R"({"query":"price"})"},
     {"tc_2", "save_contact_details",
      R"({"name":"Ada","email":"ada@example.com"})"}});
  CAF_CHECK(!*results); // tc_2 waits
  auto& st = deref<caf::stateful_actor<conversation_state>>(conv).state;
  CAF_REQUIRE(st.reply && st.reply->tools);
  CAF_CHECK(st.reply->tools->waiting);
  CAF_CHECK_EQUAL(st.reply->tools->next, 1u); // tc_1 ran at once
  // Only the waiting call can be decided, in its own session.
  auto wrong = ask<status_result>(reg, approve_tool{s.id, "tc_1", true});
  auto other = ask<status_result>(reg, approve_tool{make_uuid(), "tc_2", true});
  sched.run();
  CAF_REQUIRE(*wrong && *other);
  CAF_CHECK_EQUAL((*wrong)->status, 404);
  CAF_CHECK_EQUAL((*wrong)->error,
                  "No tool call with that id is waiting for approval");
  CAF_CHECK_EQUAL((*other)->status, 404);
  CAF_CHECK(!*results);
  auto ok = ask<status_result>(reg, approve_tool{s.id, "tc_2", true});
  sched.run();
  CAF_REQUIRE(*ok);
  CAF_CHECK_EQUAL((*ok)->status, 200);
  CAF_REQUIRE(*results);
  auto& rs = (*results)->results;
  CAF_REQUIRE_EQUAL(rs.size(), 2u);
  CAF_CHECK_EQUAL(rs[0].tool_call_id, "tc_1");
  CAF_CHECK_EQUAL(rs[1].tool_call_id, "tc_2");
  auto saved = nlohmann::json::parse(rs[1].content);
  CAF_CHECK_EQUAL(saved["saved"]["name"], "Ada");
  auto profile = nlohmann::json::parse((*results)->conversation_data);
  CAF_CHECK_EQUAL(profile["email"], "ada@example.com");
  // Deciding twice is refused.
  auto again = ask<status_result>(reg, approve_tool{s.id, "tc_2", false});
  sched.run();
  CAF_REQUIRE(*again);
  CAF_CHECK_EQUAL((*again)->status, 404);
  // Stored as seed 000 shows them: the call message, then one tool message
  // per result; the profile is the session's.
  auto stored = db->messages(s.id);
  CAF_REQUIRE_EQUAL(stored.size(), 4u);
  CAF_CHECK_EQUAL(stored[1].role, "assistant");
  CAF_CHECK_EQUAL(stored[1].kind, "tool_call");
  CAF_CHECK_EQUAL(stored[1].content, "Let me save that.");
  auto calls = nlohmann::json::parse(stored[1].tool_calls);
  CAF_REQUIRE_EQUAL(calls.size(), 2u);
  CAF_CHECK_EQUAL(calls[1]["id"], "tc_2");
  CAF_CHECK_EQUAL(calls[1]["function"]["name"], "save_contact_details");
  CAF_CHECK_EQUAL(stored[2].role, "tool");
  CAF_CHECK_EQUAL(stored[2].tool_call_id, "tc_1");
  CAF_CHECK_EQUAL(stored[3].tool_call_id, "tc_2");
  CAF_CHECK_EQUAL(stored[3].content, rs[1].content);
  auto session = db->find_session(s.id);
  CAF_REQUIRE(session);
  auto stored_profile = nlohmann::json::parse(session->conversation_data);
  CAF_CHECK_EQUAL(stored_profile["name"], "Ada");
}

CAF_TEST(a declined tool call tells the model and changes nothing) {
  auto [s, conv, results] = ask_tool_round(
    "", {{"tc_9", "save_contact_details", R"({"phone":"+61 400 000 000"})"}});
  CAF_CHECK(!*results);
  auto no = ask<status_result>(reg, approve_tool{s.id, "tc_9", false});
  sched.run();
  CAF_REQUIRE(*no && *results);
  CAF_CHECK_EQUAL((*no)->status, 200);
  CAF_REQUIRE_EQUAL((*results)->results.size(), 1u);
  CAF_CHECK_EQUAL(nlohmann::json::parse((*results)->results[0].content),
                  nlohmann::json::parse(
                    R"({"error":"the user declined this action"})"));
  CAF_CHECK((*results)->conversation_data.empty());
  auto session = db->find_session(s.id);
  CAF_REQUIRE(session);
  CAF_CHECK(!nlohmann::json::parse(session->conversation_data)
               .contains("phone"));
}

CAF_TEST(a tool call nobody approves is declined after the idle warning time) {
  auto [s, conv, results]
    = ask_tool_round("", {{"tc_7", "save_contact_details", R"({"name":"Ada"})"}});
  wait(seconds(cfg.idle_warning_seconds - 1));
  CAF_CHECK(!*results);
  wait(seconds(1));
  CAF_REQUIRE(*results);
  CAF_REQUIRE_EQUAL((*results)->results.size(), 1u);
  CAF_CHECK_EQUAL(nlohmann::json::parse((*results)->results[0].content),
                  nlohmann::json::parse(
                    R"({"error":"nobody approved this action in time"})"));
  CAF_CHECK((*results)->conversation_data.empty());
  // Too late now.
  auto late = ask<status_result>(reg, approve_tool{s.id, "tc_7", true});
  sched.run();
  CAF_REQUIRE(*late);
  CAF_CHECK_EQUAL((*late)->status, 404);
}

CAF_TEST(a tool round for another reply is refused) {
  cfg.stream_delay_ms = 1000;
  cfg.builtin_words = 50;
  auto s = make_session();
  auto [conn, r] = connect();
  post(conn, s);
  auto failed = std::make_shared<bool>(false);
  spawn_function(sys, [=, conv = conversation_of(s)](caf::event_based_actor* a) {
    a->request(conv, caf::infinite, tool_round{"not-the-reply", "", {}})
      .then([](tool_results&) {}, [=](caf::error&) { *failed = true; });
  });
  sched.run();
  CAF_CHECK(*failed);
  CAF_CHECK_EQUAL(db->messages(s.id).size(), 1u); // only the user message
}

CAF_TEST(a signed-in message is answered once stored and announced in order) {
  auto s = make_session(86400, "alice");
  auto [conn, r] = connect();
  self->send(reg, open_session{conn, s.id, s.visitor_id});
  // The second message arrives while the first one's reply is under way.
  auto first = ask<submit_result>(
    reg, submit_message{s.id, s.visitor_id, "first", "data:image/png;base64,AA"});
  auto second
    = ask<submit_result>(reg, submit_message{s.id, s.visitor_id, "second", ""});
  auto stranger
    = ask<submit_result>(reg, submit_message{s.id, "\x01user:bob", "hi", ""});
  sched.run();
  CAF_REQUIRE(*first);
  CAF_CHECK_EQUAL((*first)->status, 202);
  CAF_CHECK_EQUAL((*first)->message.content, "first");
  CAF_CHECK_EQUAL((*first)->message.image, "data:image/png;base64,AA");
  CAF_REQUIRE(*second);
  CAF_CHECK_EQUAL((*second)->status, 409);
  CAF_REQUIRE(*stranger);
  CAF_CHECK_EQUAL((*stranger)->status, 404);
  // The user's message first, the chunks, then the stored reply (and the
  // end of the stream for dialects that have one).
  CAF_REQUIRE(r->frames.size() > 3);
  CAF_CHECK_EQUAL(r->frames[0], "connected:");
  CAF_CHECK_EQUAL(r->frames[1], "message:user:first");
  CAF_CHECK(starts_with(r->frames[2], "chunk:"));
  auto n = r->frames.size();
  CAF_CHECK_EQUAL(r->frames[n - 2], "message:assistant:" + joined_chunks(*r));
  CAF_CHECK_EQUAL(r->frames[n - 1], "complete:" + joined_chunks(*r));
  auto stored = db->messages(s.id);
  CAF_REQUIRE_EQUAL(stored.size(), 2u);
  CAF_CHECK_EQUAL(stored[0].id, (*first)->message.id);
  CAF_CHECK_EQUAL(stored[0].image, "data:image/png;base64,AA");
}

// The owner deletes the conversation after the reply ended but before its
// store was acknowledged: the acknowledgement finds no reply any more.
CAF_TEST(a conversation deleted while its reply is being stored) {
  auto gate = sys.spawn(storage_gate, storage, std::string{"assistant"});
  auto gated = sys.spawn(registry, conversation_deps{gate, {}, &conns, &cfg,
                                                     nullptr, nullptr, pace});
  sched.run();
  auto s = make_session(86400, "alice");
  auto [conn, r] = connect();
  self->send(gated, open_session{conn, s.id, s.visitor_id});
  auto sent
    = ask<submit_result>(gated, submit_message{s.id, s.visitor_id, "hi", ""});
  sched.run();
  CAF_REQUIRE(*sent);
  CAF_CHECK_EQUAL((*sent)->status, 202);
  // Held here as a timer would hold it: the handle outlives the actor.
  auto conv = deref<caf::stateful_actor<registry_state>>(gated)
                .state.live.at(s.id)
                .conversation;
  CAF_CHECK(conns.watched(conn, s.id) == conv);
  auto deleted = ask<status_result>(
    gated, delete_conversation{s.id, s.visitor_id});
  sched.run();
  CAF_CHECK(!*deleted); // its removal is held too
  self->send(gate, open_atom::value);
  sched.run();
  CAF_REQUIRE(*deleted);
  CAF_CHECK_EQUAL((*deleted)->status, 204);
  CAF_CHECK_EQUAL(r->frames.back(), "error:The conversation was deleted");
  CAF_CHECK_EQUAL(count(*r, "complete:"), 0u);
  CAF_CHECK(db->messages(s.id).empty());
  // The socket's next command goes through the registry, not to the dead
  // actor.
  CAF_CHECK(conns.watched(conn, s.id) == nullptr);
  self->send_exit(gated, caf::exit_reason::user_shutdown);
  self->send_exit(gate, caf::exit_reason::user_shutdown);
}

CAF_TEST_FIXTURE_SCOPE_END()
