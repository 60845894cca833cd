// The storage actor on a scripted store, in virtual time: group commit,
// read-your-writes, bad input, outages and recovery, deterministically.
#define CAF_SUITE store_actor
#include <caf/test/dsl.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/spawn_function.hpp"
#include "actors/messages.hpp"
#include "actors/storage_actor.hpp"
#include "storage/health.hpp"
#include "storage/sqlite_store.hpp"
#include "storage/store.hpp"

using namespace parley;
using std::chrono::milliseconds;

namespace {

struct test_config : caf::actor_system_config {
  test_config() {
    add_message_types<caf::id_block::parley>();
  }
};

// An in-memory SQLite store that records each batch and fails on demand.
// Lanes in a test share one database: each gets a scripted_store on it.
class scripted_store : public storage::store {
public:
  explicit scripted_store(std::shared_ptr<storage::sqlite_store> inner
                          = fresh())
    : inner_(std::move(inner)) {
    // nop
  }

  static std::shared_ptr<storage::sqlite_store> fresh() {
    auto x = std::make_shared<storage::sqlite_store>(":memory:");
    x->migrate();
    return x;
  }

  std::shared_ptr<storage::sqlite_store> inner() const {
    return inner_;
  }

  std::vector<std::size_t> batches; // sizes of the committed batches
  int pings = 0;
  bool down = false;             // every call throws unavailable
  // The next batch throws commit_unknown, before or after it commits.
  bool lose_next_commit = false;
  bool commit_then_lose = false;
  bool then_down = false; // after losing a commit, stay down

  void migrate() override {
    inner_->migrate();
  }

  std::int64_t schema_version() override {
    return inner_->schema_version();
  }

  void ping() override {
    ++pings;
    check_up();
  }

protected:
  void do_write_batch(const std::vector<storage::write_op>& ops) override {
    check_up();
    if (lose_next_commit) {
      lose_next_commit = false;
      throw storage::commit_unknown("test: lost while committing");
    }
    inner_->write_batch(ops);
    batches.push_back(ops.size());
    if (commit_then_lose) {
      commit_then_lose = false;
      down = then_down;
      throw storage::commit_unknown("test: lost while committing");
    }
  }

  std::optional<storage::session_record>
  do_find_session(const std::string& id) override {
    check_up();
    return inner_->find_session(id);
  }

  std::vector<storage::message_record>
  do_messages(const std::string& session_id) override {
    check_up();
    return inner_->messages(session_id);
  }

  std::vector<storage::session_record>
  do_conversations_of(const std::string& owner_id) override {
    check_up();
    return inner_->conversations_of(owner_id);
  }

private:
  void check_up() {
    if (down)
      throw storage::unavailable("test: connection refused");
  }

  std::shared_ptr<storage::sqlite_store> inner_;
};

// Replies in the order they arrive: "ok", "n=<count>" or "error: <text>".
using reply_log = std::shared_ptr<std::vector<std::string>>;

storage::session_record make_session(const std::string& id) {
  storage::session_record x;
  x.id = id;
  x.visitor_id = "v-" + id;
  x.status = "active";
  x.created_at = 1;
  x.expires_at = 2;
  x.last_activity_at = 1;
  return x;
}

storage::message_record make_message(const std::string& id,
                                     std::int64_t created_at = 1,
                                     const std::string& content = "hi") {
  return storage::text_message(id,      "s",        "user", "message",
                                 content, "complete", created_at);
}

struct fixture : test_coordinator_fixture<test_config> {
  std::shared_ptr<scripted_store> db = std::make_shared<scripted_store>();
  std::shared_ptr<storage::health> health
    = std::make_shared<storage::health>();
  caf::actor storage;
  reply_log log = std::make_shared<std::vector<std::string>>();

  fixture() {
    db->insert_session(make_session("s"));
    db->batches.clear();
  }

  void start(storage_options opts) {
    storage = sys.spawn(storage_actor, std::move(opts));
    sched.run();
  }

  storage_options options() {
    storage_options opts{db};
    opts.health = health;
    return opts;
  }

  ~fixture() override {
    self->send_exit(storage, caf::exit_reason::user_shutdown);
    sched.run();
  }

  // One client that sends all `xs` as requests at once, so they reach the
  // storage actor's mailbox together.
  template <class... Ts>
  void ask(Ts... xs) {
    auto out = log;
    auto dst = storage;
    spawn_function(sys, [=](caf::event_based_actor* client) {
      auto on_error = [out](caf::error& err) {
        out->push_back("error: " + client_text(err));
      };
      (client->request(dst, caf::infinite, xs)
         .then([out](bool) { out->push_back("ok"); }, on_error),
       ...);
    });
  }

  void ask_messages(std::string session_id = "s") {
    auto out = log;
    auto dst = storage;
    spawn_function(sys, [=](caf::event_based_actor* client) {
      client->request(dst, caf::infinite, load_messages{session_id})
        .then(
          [out](message_list& xs) {
            out->push_back("n=" + std::to_string(xs.messages.size()));
          },
          [out](caf::error& err) {
            out->push_back("error: " + client_text(err));
          });
    });
  }

  static std::string client_text(const caf::error& err) {
    // The text a conversation would log; sec::runtime_error carries it as
    // the error's context.
    return caf::to_string(err);
  }

  std::vector<std::string> replies() {
    auto result = *log;
    log->clear();
    return result;
  }

  std::size_t stored() {
    auto was = db->down;
    db->down = false;
    auto n = db->messages("s").size();
    db->down = was;
    return n;
  }

  void wait(caf::timespan d) {
    advance_time(d);
    sched.run();
  }
};

bool contains(const std::string& x, const std::string& part) {
  return x.find(part) != std::string::npos;
}

using strings = std::vector<std::string>;

} // namespace

CAF_TEST_FIXTURE_SCOPE(store_actor_tests, fixture)

// -- group commit --------------------------------------------------------------

CAF_TEST(writes that arrive together commit in one transaction) {
  start(options());
  ask(save_message{make_message("a")}, save_message{make_message("b")},
      save_message{make_message("c")}, save_session{make_session("s"), false},
      save_message{make_message("d")});
  sched.run();
  CAF_CHECK_EQUAL(db->batches, std::vector<std::size_t>{5});
  CAF_CHECK_EQUAL(replies(), strings(5, "ok"));
  CAF_CHECK_EQUAL(stored(), 4u);
}

CAF_TEST(a batch holds at most max_batch writes) {
  auto opts = options();
  opts.max_batch = 3;
  start(opts);
  ask(save_message{make_message("1")}, save_message{make_message("2")},
      save_message{make_message("3")}, save_message{make_message("4")},
      save_message{make_message("5")}, save_message{make_message("6")},
      save_message{make_message("7")});
  sched.run();
  CAF_CHECK_EQUAL(db->batches, (std::vector<std::size_t>{3, 3, 1}));
  CAF_CHECK_EQUAL(replies(), strings(7, "ok"));
}

CAF_TEST(writes keep their order within a batch) {
  start(options());
  ask(save_message{make_message("x", 5)}, save_message{make_message("y", 5)},
      save_message{make_message("z", 5)});
  sched.run();
  auto xs = db->messages("s");
  CAF_REQUIRE_EQUAL(xs.size(), 3u);
  CAF_CHECK_EQUAL(xs[0].id, "x");
  CAF_CHECK_EQUAL(xs[1].id, "y");
  CAF_CHECK_EQUAL(xs[2].id, "z");
}

CAF_TEST(a read sees the writes sent before it) {
  start(options());
  ask(save_message{make_message("a")}, save_message{make_message("b")});
  ask_messages();
  sched.run();
  CAF_CHECK_EQUAL(replies(), (strings{"ok", "ok", "n=2"}));
  // The read committed the writes early; the flush after it found nothing.
  CAF_CHECK_EQUAL(db->batches, std::vector<std::size_t>{2});
}

// -- bad writes ----------------------------------------------------------------

CAF_TEST(invalid utf8 fails its own request only) {
  start(options());
  ask(save_message{make_message("a")},
      save_message{make_message("b", 1, "bad \xC3\x28 text")},
      save_message{make_message("c")});
  sched.run();
  auto xs = replies();
  CAF_REQUIRE_EQUAL(xs.size(), 3u);
  // The bad request is answered at once, before the batch commits.
  CAF_CHECK(contains(xs[0], "invalid message: content is not valid UTF-8 "
                            "(byte 4)"));
  CAF_CHECK_EQUAL(xs[1], "ok");
  CAF_CHECK_EQUAL(xs[2], "ok");
  CAF_CHECK_EQUAL(db->batches, std::vector<std::size_t>{2});
}

CAF_TEST(a write the database refuses fails alone) {
  start(options());
  ask(save_message{make_message("a")}, save_message{make_message("a")},
      save_message{make_message("b")},
      save_session{make_session("nope"), false});
  sched.run();
  auto xs = replies();
  CAF_REQUIRE_EQUAL(xs.size(), 4u);
  CAF_CHECK_EQUAL(xs[0], "ok");
  CAF_CHECK(contains(xs[1], "UNIQUE constraint failed"));
  CAF_CHECK_EQUAL(xs[2], "ok");
  CAF_CHECK(contains(xs[3], "no session with that id"));
  CAF_CHECK_EQUAL(stored(), 2u);
}

// -- outages -------------------------------------------------------------------

CAF_TEST(writes wait for the database and commit when it returns) {
  start(options());
  db->down = true;
  ask(save_message{make_message("a")}, save_message{make_message("b")});
  sched.run();
  CAF_CHECK(replies().empty());
  CAF_CHECK(!health->ok());
  CAF_CHECK(contains(health->get().reason, "test: connection refused"));
  // Retries: at once (already done), then after 100, 200, 400 ms.
  auto pings = db->pings;
  wait(milliseconds(99));
  CAF_CHECK_EQUAL(db->pings, pings);
  wait(milliseconds(1));
  CAF_CHECK_EQUAL(db->pings, pings + 1);
  db->down = false;
  wait(milliseconds(200));
  CAF_CHECK_EQUAL(replies(), (strings{"ok", "ok"}));
  CAF_CHECK(health->ok());
  CAF_CHECK_EQUAL(health->get().reason, "");
  CAF_CHECK_EQUAL(stored(), 2u);
}

CAF_TEST(backoff doubles up to its cap and resets after recovery) {
  auto opts = options();
  opts.min_backoff = milliseconds(100);
  opts.max_backoff = milliseconds(1000);
  start(opts);
  db->down = true;
  ask(save_message{make_message("a")});
  sched.run();
  auto pings_at = [&](int ms) {
    wait(milliseconds(ms));
    return db->pings;
  };
  auto p0 = db->pings; // the immediate retry
  CAF_CHECK_EQUAL(p0, 1);
  CAF_CHECK_EQUAL(pings_at(100), 2);  // +100
  CAF_CHECK_EQUAL(pings_at(200), 3);  // +200
  CAF_CHECK_EQUAL(pings_at(400), 4);  // +400
  CAF_CHECK_EQUAL(pings_at(800), 5);  // +800
  CAF_CHECK_EQUAL(pings_at(999), 5);  // capped at 1000
  CAF_CHECK_EQUAL(pings_at(1), 6);
  db->down = false;
  CAF_CHECK_EQUAL(pings_at(1000), 7);
  CAF_CHECK(health->ok());
  // The next outage starts over with an immediate retry.
  db->down = true;
  ask(save_message{make_message("b")});
  sched.run();
  CAF_CHECK_EQUAL(db->pings, 8);
}

CAF_TEST(writes give up after max_wait and are not written later) {
  auto opts = options();
  opts.max_wait = milliseconds(1000);
  start(opts);
  db->down = true;
  ask(save_message{make_message("a")});
  sched.run();
  wait(milliseconds(999));
  CAF_CHECK(replies().empty());
  wait(milliseconds(1));
  auto xs = replies();
  CAF_REQUIRE_EQUAL(xs.size(), 1u);
  CAF_CHECK(contains(xs[0], "gave up waiting for the database: test: "
                            "connection refused"));
  db->down = false;
  wait(milliseconds(5000));
  CAF_CHECK(health->ok());
  CAF_CHECK_EQUAL(stored(), 0u);
}

CAF_TEST(writes beyond max_waiting fail at once) {
  auto opts = options();
  opts.max_waiting = 2;
  start(opts);
  db->down = true;
  ask(save_message{make_message("a")});
  sched.run(); // now the actor knows the database is down
  ask(save_message{make_message("b")}, save_message{make_message("c")});
  sched.run();
  auto xs = replies();
  CAF_REQUIRE_EQUAL(xs.size(), 1u);
  CAF_CHECK(contains(xs[0], "too many writes waiting"));
  db->down = false;
  wait(milliseconds(100));
  CAF_CHECK_EQUAL(replies(), (strings{"ok", "ok"}));
}

CAF_TEST(reads fail at once while the database is down) {
  start(options());
  db->down = true;
  ask_messages();
  sched.run();
  auto xs = replies();
  CAF_REQUIRE_EQUAL(xs.size(), 1u);
  CAF_CHECK(contains(xs[0], "test: connection refused"));
  ask_messages();
  sched.run();
  xs = replies();
  CAF_REQUIRE_EQUAL(xs.size(), 1u);
  CAF_CHECK(contains(xs[0], "the database is unavailable"));
  db->down = false;
  wait(milliseconds(100));
  ask_messages();
  sched.run();
  CAF_CHECK_EQUAL(replies(), strings{"n=0"});
}

CAF_TEST(a commit lost before it happened is retried) {
  start(options());
  db->lose_next_commit = true;
  ask(save_message{make_message("a")}, save_message{make_message("b")});
  sched.run(); // the immediate retry finds the database back
  CAF_CHECK_EQUAL(replies(), (strings{"ok", "ok"}));
  CAF_CHECK_EQUAL(db->batches, std::vector<std::size_t>{2});
  CAF_CHECK_EQUAL(stored(), 2u);
  CAF_CHECK(health->ok());
}

CAF_TEST(a commit lost after it happened is acknowledged once) {
  start(options());
  db->commit_then_lose = true;
  ask(save_message{make_message("a")}, save_message{make_message("b")});
  sched.run();
  CAF_CHECK_EQUAL(replies(), (strings{"ok", "ok"}));
  // Found committed: not written a second time.
  CAF_CHECK_EQUAL(db->batches, std::vector<std::size_t>{2});
  CAF_CHECK_EQUAL(stored(), 2u);
}

CAF_TEST(a write in doubt that times out says it may be stored) {
  auto opts = options();
  opts.max_wait = milliseconds(1000);
  start(opts);
  db->commit_then_lose = true;
  db->then_down = true;
  ask(save_message{make_message("a")}, save_message{make_message("b")});
  sched.run();
  CAF_CHECK(replies().empty());
  wait(milliseconds(1000));
  auto xs = replies();
  CAF_REQUIRE_EQUAL(xs.size(), 2u);
  for (auto& x : xs)
    CAF_CHECK(contains(x, "the write may have been stored"));
}

CAF_TEST(an idle actor probes the database when asked to) {
  auto opts = options();
  opts.probe_interval = milliseconds(2000);
  start(opts);
  CAF_CHECK_EQUAL(db->pings, 0);
  wait(milliseconds(2000));
  CAF_CHECK_EQUAL(db->pings, 1);
  CAF_CHECK(health->ok());
  db->down = true;
  wait(milliseconds(2000));
  // The probe and the immediate retry.
  CAF_CHECK_EQUAL(db->pings, 3);
  CAF_CHECK(!health->ok());
  db->down = false;
  wait(milliseconds(100));
  CAF_CHECK(health->ok());
}

CAF_TEST(stopping fails the writes still waiting for the database) {
  start(options());
  db->down = true;
  ask(save_message{make_message("a")});
  sched.run();
  self->send_exit(storage, caf::exit_reason::user_shutdown);
  sched.run();
  auto xs = replies();
  CAF_REQUIRE_EQUAL(xs.size(), 1u);
  CAF_CHECK(contains(xs[0], "shutting down"));
}

// -- lanes --------------------------------------------------------------------

CAF_TEST(lanes split sessions and keep each session in order) {
  // Two lanes on one database; the second lane's store is `other`.
  auto other = std::make_shared<scripted_store>(db->inner());
  auto opts = options();
  opts.detached = false;
  opts.lanes = 2;
  opts.connect = [other] { return other; };
  storage = spawn_storage(sys, opts);
  sched.run();
  auto lane_of = [](const std::string& id) {
    return std::hash<std::string>{}(id) % 2;
  };
  // Sessions on both lanes.
  std::vector<std::string> ids;
  for (int i = 0; ids.size() < 6; ++i) {
    auto id = "s" + std::to_string(i);
    if (std::count_if(ids.begin(), ids.end(),
                      [&](auto& x) { return lane_of(x) == lane_of(id); })
        < 3) {
      ids.push_back(id);
      db->insert_session(make_session(id));
    }
  }
  db->batches.clear();
  auto msg = [](std::string session, std::string id) {
    auto x = make_message(id, 7);
    x.session_id = std::move(session);
    return save_message{x};
  };
  for (auto& id : ids)
    ask(msg(id, id + "-1"), msg(id, id + "-2"), msg(id, id + "-3"));
  sched.run();
  CAF_CHECK_EQUAL(replies(), strings(18, "ok"));
  std::size_t total = 0;
  for (auto* lane : {db.get(), other.get()}) {
    CAF_CHECK(!lane->batches.empty());
    for (auto n : lane->batches)
      total += n;
  }
  CAF_CHECK_EQUAL(total, 18u);
  for (auto& id : ids) {
    auto xs = db->messages(id);
    CAF_REQUIRE_EQUAL(xs.size(), 3u);
    CAF_CHECK_EQUAL(xs[0].id, id + "-1");
    CAF_CHECK_EQUAL(xs[2].id, id + "-3");
  }
  // One lane down: health says so, the other lane goes on.
  auto& down_lane = lane_of(ids[0]) == 0 ? *db : *other;
  std::string up_id;
  for (auto& id : ids)
    if (lane_of(id) != lane_of(ids[0]))
      up_id = id;
  down_lane.down = true;
  ask(msg(ids[0], "late"));
  sched.run();
  CAF_CHECK(replies().empty());
  CAF_CHECK(!health->ok());
  ask(msg(up_id, "meanwhile"));
  sched.run();
  CAF_CHECK_EQUAL(replies(), strings{"ok"});
  CAF_CHECK(!health->ok());
  down_lane.down = false;
  wait(milliseconds(100));
  CAF_CHECK_EQUAL(replies(), strings{"ok"});
  CAF_CHECK(health->ok());
  ask_messages(ids[0]);
  sched.run();
  CAF_CHECK_EQUAL(replies(), strings{"n=4"});
}

CAF_TEST_FIXTURE_SCOPE_END()
