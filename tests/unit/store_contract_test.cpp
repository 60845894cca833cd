// The storage contract: what every backend does, checked unchanged against
// SQLite (default) and PostgreSQL (PARLEY_TEST_DATABASE_URL, see
// tests/db/test_database.hpp).
#define CAF_SUITE store_contract
#include <caf/test/unit_test.hpp>

#include <future>
#include <memory>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "storage/errors.hpp"
#include "storage/migrations.hpp"
#include "storage/store.hpp"
#include "tests/db/test_database.hpp"

using parley::storage::knowledge_record;
using parley::storage::message_record;
using parley::storage::open_store;
using parley::storage::session_record;
using parley::storage::store;
using parley::storage::write_op;

namespace {

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::int64_t newest_version() {
  return parley::storage::sqlite_migrations().back().version;
}

session_record make_session(const std::string& id) {
  session_record x;
  x.id = id;
  x.visitor_id = "visitor-" + id;
  x.status = "active";
  x.created_at = 1700000000000;
  x.expires_at = 1700086400000;
  x.last_activity_at = 1700000000500;
  x.warning_sent = false;
  x.conversation_data = R"({"name":"Ada"})";
  return x;
}

message_record make_message(const std::string& id,
                            const std::string& session_id,
                            std::int64_t created_at,
                            const std::string& content = "hello") {
  return parley::storage::text_message(id, session_id, "user", "message",
                                       content, "complete", created_at);
}

std::string ids_of(const std::vector<message_record>& xs) {
  std::string result;
  for (auto& x : xs)
    result += (result.empty() ? "" : ",") + x.id;
  return result;
}

void check_same(const session_record& x, const session_record& y) {
  CAF_CHECK_EQUAL(x.id, y.id);
  CAF_CHECK_EQUAL(x.visitor_id, y.visitor_id);
  CAF_CHECK_EQUAL(x.status, y.status);
  CAF_CHECK_EQUAL(x.created_at, y.created_at);
  CAF_CHECK_EQUAL(x.expires_at, y.expires_at);
  CAF_CHECK_EQUAL(x.last_activity_at, y.last_activity_at);
  CAF_CHECK_EQUAL(x.warning_sent, y.warning_sent);
  CAF_CHECK_EQUAL(x.conversation_data, y.conversation_data);
  CAF_CHECK_EQUAL(x.kind, y.kind);
  CAF_CHECK_EQUAL(x.owner_id, y.owner_id);
  CAF_CHECK_EQUAL(x.title, y.title);
}

void check_same(const message_record& x, const message_record& y) {
  CAF_CHECK_EQUAL(x.id, y.id);
  CAF_CHECK_EQUAL(x.session_id, y.session_id);
  CAF_CHECK_EQUAL(x.role, y.role);
  CAF_CHECK_EQUAL(x.kind, y.kind);
  CAF_CHECK_EQUAL(x.content, y.content);
  CAF_CHECK_EQUAL(x.state, y.state);
  CAF_CHECK_EQUAL(x.created_at, y.created_at);
  CAF_CHECK_EQUAL(x.tool_call_id, y.tool_call_id);
  CAF_CHECK_EQUAL(x.tool_calls, y.tool_calls);
  CAF_CHECK_EQUAL(x.image, y.image);
  CAF_CHECK_EQUAL(x.html, y.html);
}

// Every test starts on an empty, migrated database of its own.
struct fixture {
  parley::test::test_database env;
  std::string url = env.fresh_url();
  std::unique_ptr<store> db = open_store(url);

  fixture() {
    CAF_MESSAGE("backend: " << env.backend());
    db->migrate();
  }
};

// Texts that break naive quoting in SQL, in array literals or in COPY.
const std::vector<std::string>& hostile_texts() {
  static const std::vector<std::string> all{
      "'); DROP TABLE messages; --",
      "x'); DROP TABLE sessions; --",
      "'; DELETE FROM messages WHERE '1'='1'; --\" ?1 $1 %s",
      "\"",
      "\\",
      "\\\"",
      "\",\"",
      "{",
      "}",
      "{\"a\",\"b\"}",
      "NULL",
      "null",
      "",
      " ",
      "a,b",
      "tab\there",
      "line\nbreak\r\n",
      "back\\slash\\N",
      "E'\\x00'",
      "/* comment",
      "$$ dollar $$",
      "%",
      "_",
      "' OR '1'='1",
  };
  return all;
}

// Ill-formed UTF-8: bad lead, stray continuation, overlong forms, a
// surrogate, beyond U+10FFFF, a truncated sequence at the end, 0xFF.
const std::vector<std::string>& invalid_utf8() {
  static const std::vector<std::string> all{
      "\xC3\x28",         "\xA0\xA1",     "\xC0\xAF",
      "\xE0\x80\xAF",     "\xED\xA0\x80", "\xF4\x90\x80\x80",
      "\xF5\x80\x80\x80", "ok \xE2\x82",  "\xFF",
  };
  return all;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(store_contract_tests, fixture)

// -- migrations ---------------------------------------------------------------

CAF_TEST(both backends have the same migration versions) {
  auto& a = parley::storage::sqlite_migrations();
  auto& b = parley::storage::postgresql_migrations();
  CAF_REQUIRE_EQUAL(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    CAF_CHECK_EQUAL(a[i].version, b[i].version);
}

CAF_TEST(migrating is idempotent and keeps the data) {
  CAF_CHECK_EQUAL(db->schema_version(), newest_version());
  db->insert_session(make_session("s1"));
  db->migrate();
  CAF_CHECK_EQUAL(db->schema_version(), newest_version());
  // A restart: a new store on the same database.
  auto again = open_store(url);
  again->migrate();
  CAF_CHECK_EQUAL(again->schema_version(), newest_version());
  auto s = again->find_session("s1");
  CAF_REQUIRE(s.has_value());
  check_same(*s, make_session("s1"));
}

CAF_TEST(a fresh database has schema version zero) {
  auto fresh = open_store(env.fresh_url());
  CAF_CHECK_EQUAL(fresh->schema_version(), 0);
}

CAF_TEST(threads migrating one database at once all succeed) {
  for (int round = 0; round < 5; ++round) {
    auto fresh = env.fresh_url();
    std::promise<void> go;
    auto gate = go.get_future().share();
    std::vector<std::future<std::string>> results;
    for (int i = 0; i < 4; ++i)
      results.push_back(std::async(std::launch::async, [gate, fresh] {
        return error_of([&] {
          auto db = open_store(fresh);
          gate.wait();
          db->migrate();
          if (db->schema_version() != newest_version())
            throw std::runtime_error("wrong schema version");
        });
      }));
    go.set_value();
    for (auto& r : results)
      CAF_CHECK_EQUAL(r.get(), "(no exception)");
    auto db = open_store(fresh);
    db->insert_session(make_session("s"));
    db->insert_message(make_message("m", "s", 1));
    CAF_CHECK_EQUAL(db->messages("s").size(), 1u);
  }
}

CAF_TEST(processes migrating one database at once all succeed) {
  for (int round = 0; round < 3; ++round) {
    auto fresh = env.fresh_url();
    int gate[2];
    CAF_REQUIRE_EQUAL(::pipe(gate), 0);
    std::vector<pid_t> children;
    for (int i = 0; i < 3; ++i) {
      auto pid = ::fork();
      CAF_REQUIRE(pid >= 0);
      if (pid == 0) {
        // The child: wait for the gate to open, migrate, report by status.
        ::close(gate[1]);
        char c;
        auto n = ::read(gate[0], &c, 1);
        static_cast<void>(n);
        int status = 0;
        try {
          auto db = open_store(fresh);
          db->migrate();
          status = db->schema_version() == newest_version() ? 0 : 2;
        } catch (const std::exception& e) {
          std::fprintf(stderr, "child migrate failed: %s\n", e.what());
          status = 1;
        }
        ::_exit(status);
      }
      children.push_back(pid);
    }
    ::close(gate[0]);
    ::close(gate[1]); // EOF opens the gate for every child at once
    for (auto pid : children) {
      int status = -1;
      CAF_REQUIRE_EQUAL(::waitpid(pid, &status, 0), pid);
      CAF_CHECK(WIFEXITED(status));
      CAF_CHECK_EQUAL(WEXITSTATUS(status), 0);
    }
    auto db = open_store(fresh);
    CAF_CHECK_EQUAL(db->schema_version(), newest_version());
  }
}

CAF_TEST(two stores see the writes of each other) {
  auto other = open_store(url);
  db->insert_session(make_session("s1"));
  CAF_CHECK(other->find_session("s1").has_value());
  other->insert_message(make_message("m1", "s1", 5));
  CAF_CHECK_EQUAL(db->messages("s1").size(), 1u);
}

// -- sessions -----------------------------------------------------------------

CAF_TEST(session round trip) {
  auto x = make_session("0b6f5c3e-8a51-4c1e-9d5e-2f4b8c6d7e8f");
  x.warning_sent = true;
  x.status = "ended";
  x.conversation_data = R"({"cart":[1,2,3],"note":null})";
  db->insert_session(x);
  auto y = db->find_session(x.id);
  CAF_REQUIRE(y.has_value());
  check_same(*y, x);
}

CAF_TEST(a signed - in conversation keeps its owner and title) {
  auto x = make_session("c1");
  x.kind = "conversation";
  x.owner_id = "user_2abc'; --";
  x.title = "Trip \xf0\x9f\x9a\x80 planning";
  db->insert_session(x);
  auto y = db->find_session("c1");
  CAF_REQUIRE(y.has_value());
  check_same(*y, x);
  auto renamed = x;
  renamed.title = "Renamed";
  renamed.owner_id = "someone-else"; // ownership never changes
  db->update_session(renamed);
  y = db->find_session("c1");
  CAF_REQUIRE(y.has_value());
  CAF_CHECK_EQUAL(y->title, "Renamed");
  CAF_CHECK_EQUAL(y->owner_id, x.owner_id);
  CAF_CHECK_EQUAL(make_session("v").kind, "visitor");
}

CAF_TEST(tool calls and results and images and html round trip) {
  db->insert_session(make_session("s1"));
  auto call = make_message("m1", "s1", 1, "");
  call.role = "assistant";
  call.tool_calls
      = R"([{"id":"call_1","name":"search","arguments":"{\"q\":\"x\"}"}])";
  call.html = "<p>a\tb\nc\\d</p>";
  auto result = make_message("m2", "s1", 2, "found it");
  result.role = "tool";
  result.tool_call_id = "call_1";
  auto photo = make_message("m3", "s1", 3, "look");
  photo.image = "data:image/png;base64," + std::string(100000, 'A');
  db->write_batch({write_op::insert(call), write_op::insert(result),
                   write_op::insert(photo)});
  auto xs = db->messages("s1");
  CAF_REQUIRE_EQUAL(xs.size(), 3u);
  check_same(xs[0], call);
  check_same(xs[1], result);
  check_same(xs[2], photo);
  auto bad = make_message("m4", "s1", 4);
  bad.tool_call_id = "\xff";
  CAF_CHECK(contains(error_of([&] { db->insert_message(bad); }),
                     "invalid message: tool_call_id is not valid UTF-8"));
}

CAF_TEST(an owner lists only their conversations newest first) {
  auto conv = [&](const std::string& id, const std::string& owner,
                  std::int64_t at) {
    auto x = make_session(id);
    x.kind = "conversation";
    x.owner_id = owner;
    x.created_at = at;
    db->insert_session(x);
  };
  conv("c1", "alice", 100);
  conv("c2", "bob", 200);
  conv("c3", "alice", 300);
  auto visitor = make_session("v1"); // a visitor session is no conversation
  visitor.owner_id = "alice";
  db->insert_session(visitor);
  auto xs = db->conversations_of("alice");
  CAF_REQUIRE_EQUAL(xs.size(), 2u);
  CAF_CHECK_EQUAL(xs[0].id, "c3");
  CAF_CHECK_EQUAL(xs[1].id, "c1");
  CAF_CHECK_EQUAL(xs[1].owner_id, "alice");
  CAF_CHECK(db->conversations_of("carol").empty());
  CAF_CHECK(db->conversations_of("alice' OR '1'='1").empty());
  CAF_CHECK(db->conversations_of("\xff").empty());
}

CAF_TEST(unknown session is nullopt) {
  db->insert_session(make_session("s1"));
  CAF_CHECK(!db->find_session("s2").has_value());
  CAF_CHECK(!db->find_session("").has_value());
  CAF_CHECK(!db->find_session("%").has_value());
  CAF_CHECK(!db->find_session("S1").has_value());
  CAF_CHECK(db->messages("s2").empty());
}

CAF_TEST(update session changes the five mutable fields only) {
  auto x = make_session("s1");
  db->insert_session(x);
  auto changed = x;
  changed.status = "ended";
  changed.last_activity_at = x.last_activity_at + 120000;
  changed.warning_sent = true;
  changed.conversation_data = R"({"step":2})";
  changed.visitor_id = "someone-else";
  changed.created_at = 1;
  changed.expires_at = 2;
  db->update_session(changed);
  auto y = db->find_session("s1");
  CAF_REQUIRE(y.has_value());
  CAF_CHECK_EQUAL(y->status, "ended");
  CAF_CHECK_EQUAL(y->last_activity_at, x.last_activity_at + 120000);
  CAF_CHECK_EQUAL(y->warning_sent, true);
  CAF_CHECK_EQUAL(y->conversation_data, R"({"step":2})");
  CAF_CHECK_EQUAL(y->visitor_id, x.visitor_id);
  CAF_CHECK_EQUAL(y->created_at, x.created_at);
  CAF_CHECK_EQUAL(y->expires_at, x.expires_at);
}

CAF_TEST(a session read back counts its newest user message as activity) {
  auto x = make_session("s1");
  x.warning_sent = true;
  db->insert_session(x);
  // Older than the row's activity, or not the user's: no change.
  db->insert_message(make_message("old", "s1", x.last_activity_at - 1));
  auto warning = make_message("w", "s1", x.last_activity_at + 60000);
  warning.role = "assistant";
  warning.kind = "idle_warning";
  db->insert_message(warning);
  auto y = db->find_session("s1");
  CAF_REQUIRE(y.has_value());
  CAF_CHECK_EQUAL(y->last_activity_at, x.last_activity_at);
  CAF_CHECK_EQUAL(y->warning_sent, true);
  // A newer user message moves the activity; no warning since then. The
  // newest counts, whatever the insertion order.
  db->insert_message(make_message("new", "s1", x.last_activity_at + 90000));
  db->insert_message(make_message("mid", "s1", x.last_activity_at + 70000));
  y = db->find_session("s1");
  CAF_REQUIRE(y.has_value());
  CAF_CHECK_EQUAL(y->last_activity_at, x.last_activity_at + 90000);
  CAF_CHECK_EQUAL(y->warning_sent, false);
  // Another session's messages are not its activity.
  db->insert_session(make_session("s2"));
  y = db->find_session("s2");
  CAF_REQUIRE(y.has_value());
  CAF_CHECK_EQUAL(y->last_activity_at, x.last_activity_at);
}

CAF_TEST(refused writes name what was attempted) {
  db->insert_session(make_session("s1"));
  auto e = error_of([&] { db->update_session(make_session("nope")); });
  CAF_CHECK(contains(e, env.backend()
                            + ": updating a session failed: no "
                              "session with that id"));
  e = error_of([&] { db->insert_session(make_session("s1")); });
  CAF_CHECK(contains(e, env.backend() + ": inserting a session failed: "));
  e = error_of([&] { db->insert_message(make_message("m1", "nope", 1)); });
  CAF_CHECK(contains(e, env.backend() + ": inserting a message failed: "));
  // The store still works after refusals.
  db->insert_message(make_message("m1", "s1", 1));
  e = error_of([&] { db->insert_message(make_message("m1", "s1", 2)); });
  CAF_CHECK(contains(e, env.backend() + ": inserting a message failed: "));
  CAF_CHECK_EQUAL(db->messages("s1").size(), 1u);
}

// -- messages -----------------------------------------------------------------

CAF_TEST(messages come oldest first then in insertion order) {
  db->insert_session(make_session("s1"));
  db->insert_session(make_session("s2"));
  db->insert_message(make_message("a", "s1", 200));
  db->insert_message(make_message("b", "s1", 100));
  db->insert_message(make_message("other", "s2", 150));
  db->insert_message(make_message("c", "s1", 200));
  db->insert_message(make_message("d", "s1", 100));
  db->insert_message(make_message("e", "s1", 300));
  db->insert_message(make_message("f", "s1", 200));
  CAF_CHECK_EQUAL(ids_of(db->messages("s1")), "b,d,a,c,f,e");
  CAF_CHECK_EQUAL(ids_of(db->messages("s2")), "other");
}

CAF_TEST(message round trip) {
  db->insert_session(make_session("s1"));
  auto x = make_message("m1", "s1", 1700000000123, "the reply so far");
  x.role = "assistant";
  x.kind = "idle_warning";
  x.state = "partial";
  db->insert_message(x);
  auto xs = db->messages("s1");
  CAF_REQUIRE_EQUAL(xs.size(), 1u);
  check_same(xs[0], x);
}

CAF_TEST(hostile text is stored verbatim in every field) {
  int n = 0;
  for (auto& text : hostile_texts()) {
    auto s = make_session("s" + std::to_string(n) + text);
    s.visitor_id = text;
    s.status = text;
    s.conversation_data = text;
    auto m = make_message("m" + std::to_string(n) + text, s.id, n, text);
    m.role = text;
    m.kind = text;
    m.state = text;
    db->insert_session(s);
    db->insert_message(m);
    // The same in one batch, so the batched statements see them too.
    auto s2 = s;
    s2.id = "batch-" + s.id;
    auto m2 = m;
    m2.id = "batch-" + m.id;
    m2.session_id = s2.id;
    auto s3 = s2;
    s3.status = text + "!";
    db->write_batch(
        {write_op::insert(s2), write_op::insert(m2), write_op::update(s3)});
    auto found = db->find_session(s.id);
    CAF_REQUIRE(found.has_value());
    check_same(*found, s);
    auto xs = db->messages(s.id);
    CAF_REQUIRE_EQUAL(xs.size(), 1u);
    check_same(xs[0], m);
    found = db->find_session(s2.id);
    CAF_REQUIRE(found.has_value());
    check_same(*found, s3);
    xs = db->messages(s2.id);
    CAF_REQUIRE_EQUAL(xs.size(), 1u);
    check_same(xs[0], m2);
    ++n;
  }
  // Both tables are still there and whole.
  CAF_CHECK(!db->find_session("' OR '1'='1").has_value());
  CAF_CHECK_EQUAL(db->messages("s0'); DROP TABLE messages; --").size(), 1u);
}

CAF_TEST(unicode round trips) {
  std::string text = "héllo 👋 世界 \u200b مرحبا עברית e\u0301 "
                     "\U0010FFFF \uFFFF \u00A0 \U0001F469\u200D\U0001F4BB";
  auto s = make_session("s-ü-🎉");
  s.conversation_data = R"({"name":"Zoë 🎉"})";
  db->insert_session(s);
  db->insert_message(make_message("m-ß", s.id, 1, text));
  db->write_batch({write_op::insert(make_message("m-漢", s.id, 2, text))});
  auto found = db->find_session(s.id);
  CAF_REQUIRE(found.has_value());
  check_same(*found, s);
  auto xs = db->messages(s.id);
  CAF_REQUIRE_EQUAL(xs.size(), 2u);
  CAF_CHECK_EQUAL(xs[0].content, text);
  CAF_CHECK_EQUAL(xs[0].id, "m-ß");
  CAF_CHECK_EQUAL(xs[1].content, text);
  CAF_CHECK_EQUAL(xs[1].id, "m-漢");
}

CAF_TEST(a long message round trips) {
  db->insert_session(make_session("s1"));
  std::string text;
  for (int i = 0; text.size() < 1000000; ++i)
    text += "line " + std::to_string(i) + " \"quoted\" \\ 世界\n";
  db->insert_message(make_message("m1", "s1", 1, text));
  auto xs = db->messages("s1");
  CAF_REQUIRE_EQUAL(xs.size(), 1u);
  CAF_CHECK(xs[0].content == text);
}

// -- bad input ----------------------------------------------------------------

CAF_TEST(invalid utf8 is refused before it reaches the database) {
  db->insert_session(make_session("s1"));
  auto m = make_message("m1", "s1", 1, "caf\xC3\x28");
  CAF_CHECK_EQUAL(error_of([&] { db->insert_message(m); }),
                  "invalid message: content is not valid UTF-8 (byte 3)");
  try {
    db->insert_message(m);
    CAF_FAIL("no exception");
  } catch (const parley::storage::invalid_input&) {
    // the type callers can tell apart
  }
  for (auto& bad : invalid_utf8()) {
    auto s = make_session("s2");
    s.conversation_data = bad;
    CAF_CHECK(contains(error_of([&] { db->insert_session(s); }),
                       "invalid session: conversation_data is not valid "
                       "UTF-8"));
    s = make_session("s1");
    s.status = bad;
    CAF_CHECK(contains(error_of([&] { db->update_session(s); }),
                       "invalid session: status is not valid UTF-8"));
    auto x = make_message("m2", "s1", 2);
    x.role = bad;
    CAF_CHECK(contains(error_of([&] { db->insert_message(x); }),
                       "invalid message: role is not valid UTF-8"));
    x = make_message("m2" + bad, "s1", 2);
    CAF_CHECK(contains(error_of([&] { db->insert_message(x); }),
                       "invalid message: id is not valid UTF-8"));
    // Lookups by an unstorable id find nothing instead of failing.
    CAF_CHECK(!db->find_session(bad).has_value());
    CAF_CHECK(db->messages(bad).empty());
  }
  auto nul = make_message("m3", "s1", 3, std::string("a\0b", 3));
  CAF_CHECK_EQUAL(error_of([&] { db->insert_message(nul); }),
                  "invalid message: content contains a NUL character "
                  "(byte 1)");
  // One bad record refuses the whole batch, and nothing of it is written.
  CAF_CHECK(contains(error_of([&] {
                       db->write_batch(
                           {write_op::insert(make_session("s3")),
                            write_op::insert(make_message("ok", "s1", 4)),
                            write_op::insert(m)});
                     }),
                     "invalid message"));
  CAF_CHECK(!db->find_session("s3").has_value());
  CAF_CHECK(db->messages("s1").empty());
  CAF_CHECK(!db->find_session("s2").has_value());
  auto s = db->find_session("s1");
  CAF_REQUIRE(s.has_value());
  CAF_CHECK_EQUAL(s->status, "active");
}

// -- batches ------------------------------------------------------------------

CAF_TEST(a batch applies sessions then messages then the last updates) {
  db->insert_session(make_session("old"));
  auto fresh = make_session("new");
  auto update1 = fresh;
  update1.status = "ended";
  auto update2 = fresh;
  update2.conversation_data = R"({"v":2})";
  auto old_update = make_session("old");
  old_update.warning_sent = true;
  db->write_batch({
      write_op::insert(make_message("m1", "old", 10)),
      write_op::insert(fresh),
      write_op::update(update1),
      write_op::insert(make_message("m2", "new", 5)),
      write_op::update(old_update),
      write_op::insert(make_message("m3", "new", 5)),
      write_op::update(update2),
      write_op::insert(make_message("m4", "old", 10)),
  });
  auto s = db->find_session("new");
  CAF_REQUIRE(s.has_value());
  // The last update of a session wins, as if applied in order.
  CAF_CHECK_EQUAL(s->status, "active");
  CAF_CHECK_EQUAL(s->conversation_data, R"({"v":2})");
  auto o = db->find_session("old");
  CAF_REQUIRE(o.has_value());
  CAF_CHECK_EQUAL(o->warning_sent, true);
  CAF_CHECK_EQUAL(ids_of(db->messages("new")), "m2,m3");
  CAF_CHECK_EQUAL(ids_of(db->messages("old")), "m1,m4");
}

CAF_TEST(a batch is all or nothing) {
  db->insert_session(make_session("s1"));
  db->insert_message(make_message("taken", "s1", 1));
  auto e = error_of([&] {
    db->write_batch({write_op::insert(make_session("s2")),
                     write_op::insert(make_message("m1", "s2", 1)),
                     write_op::insert(make_message("taken", "s2", 2))});
  });
  CAF_CHECK(contains(e, env.backend() + ": "));
  CAF_CHECK(!db->find_session("s2").has_value());
  CAF_CHECK(db->messages("s2").empty());
  e = error_of([&] {
    db->write_batch({write_op::insert(make_message("m5", "s1", 5)),
                     write_op::update(make_session("s1")),
                     write_op::update(make_session("missing"))});
  });
  CAF_CHECK(contains(e, "no session with that id"));
  CAF_CHECK_EQUAL(ids_of(db->messages("s1")), "taken");
  // An empty batch is nothing to do.
  db->write_batch({});
}

CAF_TEST(a batch tells whether it was committed) {
  // What settles a commit whose outcome the connection did not report.
  db->insert_session(make_session("s1"));
  std::vector<write_op> sessions{write_op::insert(make_session("s2")),
                                 write_op::update(make_session("s1"))};
  std::vector<write_op> messages{write_op::insert(make_message("m1", "s1", 1)),
                                 write_op::insert(make_message("m2", "s1", 2))};
  std::vector<write_op> updates{write_op::update(make_session("s1"))};
  CAF_CHECK(!db->committed(sessions));
  CAF_CHECK(!db->committed(messages));
  db->write_batch(sessions);
  db->write_batch(messages);
  CAF_CHECK(db->committed(sessions));
  CAF_CHECK(db->committed(messages));
  CAF_CHECK(!db->committed(updates)); // harmless to apply again
}

CAF_TEST(a large batch keeps its order) {
  db->insert_session(make_session("s1"));
  std::vector<write_op> ops;
  std::string expected;
  for (int i = 0; i < 5000; ++i) {
    auto id = "m" + std::to_string(i);
    ops.push_back(write_op::insert(make_message(id, "s1", i / 100)));
    expected += (i == 0 ? "" : ",") + id;
  }
  db->write_batch(ops);
  CAF_CHECK_EQUAL(ids_of(db->messages("s1")), expected);
}


// -- knowledge sources (migration 3) ------------------------------------------

namespace {

std::string sources_of(const message_record& x) {
  std::string result;
  for (auto& k : x.sources)
    result += (result.empty() ? "" : ",") + k.id;
  return result;
}

} // namespace

CAF_TEST(a message keeps its sources in order) {
  db->insert_session(make_session("s1"));
  auto m1 = make_message("m1", "s1", 1);
  m1.role = "assistant";
  m1.sources = {{"pricing.md#1", "Pricing", hostile_texts()[0]},
                {"start.md#2", hostile_texts()[4], "Install \u2615 and run"},
                {"b.md#3", "B", ""}};
  auto m2 = make_message("m2", "s1", 2);
  m2.sources = {{"b.md#3", "B changed", "ignored"}, {"pricing.md#1", "P", "x"}};
  db->insert_message(make_message("m0", "s1", 0));
  db->insert_message(m1);
  db->insert_message(m2);
  auto xs = db->messages("s1");
  CAF_REQUIRE_EQUAL(xs.size(), 3u);
  CAF_CHECK(xs[0].sources.empty());
  CAF_CHECK_EQUAL(sources_of(xs[1]), "pricing.md#1,start.md#2,b.md#3");
  CAF_CHECK_EQUAL(xs[1].sources[0].title, "Pricing");
  CAF_CHECK_EQUAL(xs[1].sources[0].content, hostile_texts()[0]);
  CAF_CHECK_EQUAL(xs[1].sources[1].title, hostile_texts()[4]);
  CAF_CHECK_EQUAL(xs[1].sources[1].content, "Install \u2615 and run");
  CAF_CHECK_EQUAL(xs[1].sources[2].content, "");
  // Many-to-many: a source is stored once; its first row stands.
  CAF_CHECK_EQUAL(sources_of(xs[2]), "b.md#3,pricing.md#1");
  CAF_CHECK_EQUAL(xs[2].sources[0].title, "B");
  CAF_CHECK_EQUAL(xs[2].sources[1].content, hostile_texts()[0]);
}

CAF_TEST(sources of one batch and of other sessions stay apart) {
  db->insert_session(make_session("s1"));
  db->insert_session(make_session("s2"));
  auto a = make_message("a", "s1", 1);
  a.sources = {{"k#1", "K1", "one"}, {"k#1", "K1 again", "dup"}};
  auto b = make_message("b", "s2", 1);
  b.sources = {{"k#1", "K1", "one"}, {"k#2", "K2", "two"}};
  db->write_batch({write_op::insert(a), write_op::insert(b)});
  auto xs = db->messages("s1");
  CAF_REQUIRE_EQUAL(xs.size(), 1u);
  CAF_CHECK_EQUAL(sources_of(xs[0]), "k#1"); // a repeated source counts once
  auto ys = db->messages("s2");
  CAF_REQUIRE_EQUAL(ys.size(), 1u);
  CAF_CHECK_EQUAL(sources_of(ys[0]), "k#1,k#2");
}

CAF_TEST(a source from a batch that failed is stored with the next) {
  db->insert_session(make_session("s1"));
  auto a = make_message("a", "s1", 1);
  a.sources = {{"k#1", "K1", "one"}};
  // a and its source are written, then the update fails: all rolled back.
  auto e = error_of([&] {
    db->write_batch(
      {write_op::insert(a), write_op::update(make_session("missing"))});
  });
  CAF_CHECK(contains(e, "no session with that id"));
  auto b = make_message("b", "s1", 2);
  b.sources = {{"k#1", "K1", "one"}};
  db->insert_message(b);
  auto xs = db->messages("s1");
  CAF_REQUIRE_EQUAL(xs.size(), 1u);
  CAF_CHECK_EQUAL(sources_of(xs[0]), "k#1");
  CAF_CHECK_EQUAL(xs[0].sources[0].content, "one");
}

CAF_TEST(a source with invalid text is refused with its message) {
  db->insert_session(make_session("s1"));
  auto m = make_message("m1", "s1", 1);
  m.sources = {{"ok#1", "fine", "fine"}, {"bad#1", "ok \xE2\x82", "x"}};
  auto err = error_of([&] { db->insert_message(m); });
  CAF_CHECK_EQUAL(err, "invalid source: title is not valid UTF-8 (byte 3)");
  CAF_CHECK(db->messages("s1").empty());
  m.sources = {{"nul#1", "t", std::string{"a\0b", 3}}};
  err = error_of([&] { db->insert_message(m); });
  CAF_CHECK_EQUAL(err, "invalid source: content contains a NUL character "
                       "(byte 1)");
  CAF_CHECK(db->messages("s1").empty());
}

CAF_TEST(deleting a session takes its messages links and members only) {
  for (auto id : {"s1", "s2"}) {
    auto x = make_session(id);
    x.kind = "conversation";
    x.owner_id = "alice";
    db->insert_session(x);
    auto m = make_message(std::string{"m-"} + id, id, 1);
    m.sources = {{"k#1", "K1", "one"}};
    db->write_batch({write_op::insert(m),
                     write_op::add_member(id, "bob", 5)});
  }
  db->write_batch({write_op::remove("s1")});
  CAF_CHECK(!db->find_session("s1").has_value());
  CAF_CHECK(db->messages("s1").empty());
  auto kept = db->find_session("s2");
  CAF_REQUIRE(kept.has_value());
  CAF_CHECK_EQUAL(kept->members, std::vector<std::string>{"bob"});
  auto xs = db->messages("s2");
  CAF_REQUIRE_EQUAL(xs.size(), 1u);
  CAF_CHECK_EQUAL(sources_of(xs[0]), "k#1"); // the shared source stays
  auto bobs = db->conversations_of("bob");
  CAF_REQUIRE_EQUAL(bobs.size(), 1u);
  CAF_CHECK_EQUAL(bobs[0].id, "s2");
  // Deleting again, or a session that never was, changes nothing.
  db->write_batch({write_op::remove("s1"), write_op::remove("nope")});
  // A batch that writes a session and deletes it leaves nothing of it.
  db->write_batch({write_op::insert(make_session("s3")),
                   write_op::insert(make_message("m3", "s3", 1)),
                   write_op::add_member("s3", "carol", 1),
                   write_op::remove("s3")});
  CAF_CHECK(!db->find_session("s3").has_value());
  CAF_CHECK(db->messages("s3").empty());
  CAF_CHECK(db->conversations_of("carol").empty());
}

CAF_TEST(members are kept in the order added and listed as conversations) {
  auto x = make_session("c1");
  x.kind = "conversation";
  x.owner_id = "alice";
  db->insert_session(x);
  auto y = make_session("c2");
  y.kind = "conversation";
  y.owner_id = "dave";
  y.created_at = x.created_at + 1;
  db->insert_session(y);
  db->write_batch({write_op::add_member("c1", "carol", 10),
                   write_op::add_member("c1", "bob", 20),
                   write_op::add_member("c1", "carol", 30), // already one
                   write_op::add_member("c2", "bob", 40)});
  auto s = db->find_session("c1");
  CAF_REQUIRE(s.has_value());
  CAF_CHECK_EQUAL(s->members, (std::vector<std::string>{"carol", "bob"}));
  auto bobs = db->conversations_of("bob");
  CAF_REQUIRE_EQUAL(bobs.size(), 2u);
  CAF_CHECK_EQUAL(bobs[0].id, "c2"); // newest first, owned or not
  CAF_CHECK_EQUAL(bobs[1].id, "c1");
  CAF_CHECK_EQUAL(db->conversations_of("alice").size(), 1u);
  db->write_batch({write_op::remove_member("c1", "carol"),
                   write_op::remove_member("c1", "nobody")});
  auto after = db->find_session("c1");
  CAF_REQUIRE(after.has_value());
  CAF_CHECK_EQUAL(after->members, std::vector<std::string>{"bob"});
  CAF_CHECK(db->conversations_of("carol").empty());
  // An update of the session leaves its members alone.
  auto changed = *db->find_session("c1");
  changed.members.clear();
  changed.title = "renamed";
  db->update_session(changed);
  auto updated = db->find_session("c1");
  CAF_REQUIRE(updated.has_value());
  CAF_CHECK_EQUAL(updated->title, "renamed");
  CAF_CHECK_EQUAL(updated->members, std::vector<std::string>{"bob"});
  auto err = error_of([&] {
    db->write_batch({write_op::add_member("c1", std::string{"a\0b", 3}, 1)});
  });
  CAF_CHECK(contains(err, "invalid member"));
}

CAF_TEST_FIXTURE_SCOPE_END()
