#define CAF_SUITE sqlite_store
#include <caf/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include "storage/migrations.hpp"
#include "storage/sqlite_store.hpp"
#include "storage/store.hpp"

namespace fs = std::filesystem;

using parley::storage::message_record;
using parley::storage::open_store;
using parley::storage::session_record;
using parley::storage::sqlite_migrations;
using parley::storage::sqlite_store;

namespace {

// A fresh directory per test, removed afterwards with the -wal/-shm files.
struct fixture {
  fs::path dir;

  fixture() {
    static std::atomic<int> counter{0};
    dir = fs::temp_directory_path()
          / ("parley-sqlite-test-" + std::to_string(::getpid()) + "-"
             + std::to_string(counter++));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }

  ~fixture() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  std::string file(const std::string& name = "parley.db") const {
    return (dir / name).string();
  }
};

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
  return sqlite_migrations().back().version;
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
  message_record x;
  x.id = id;
  x.session_id = session_id;
  x.role = "user";
  x.kind = "message";
  x.content = content;
  x.state = "complete";
  x.created_at = created_at;
  return x;
}

std::vector<std::string> ids_of(const std::vector<message_record>& xs) {
  std::vector<std::string> result;
  result.reserve(xs.size());
  for (auto& x : xs)
    result.push_back(x.id);
  return result;
}

std::string joined(const std::vector<std::string>& xs) {
  std::string result;
  for (auto& x : xs)
    result += (result.empty() ? "" : ",") + x;
  return result;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(sqlite_store_tests, fixture)

// -- migrations ---------------------------------------------------------------

CAF_TEST(migrations are ordered and start at 1) {
  auto& all = sqlite_migrations();
  CAF_REQUIRE(!all.empty());
  CAF_CHECK_EQUAL(all.front().version, 1);
  for (std::size_t i = 1; i < all.size(); ++i)
    CAF_CHECK_LESS(all[i - 1].version, all[i].version);
}

CAF_TEST(two stores migrating one file at once both succeed) {
  // Several rounds on fresh files, to give a race a chance to show.
  for (int round = 0; round < 20; ++round) {
    auto path = file("race-" + std::to_string(round) + ".db");
    std::promise<void> go;
    auto gate = go.get_future().share();
    auto worker = [&] {
      return std::async(std::launch::async, [gate, path] {
        return error_of([&] {
          // Open and migrate at once, as two processes starting together.
          gate.wait();
          sqlite_store db{path};
          db.migrate();
          if (db.schema_version() != newest_version())
            throw std::runtime_error("wrong schema version");
        });
      });
    };
    auto a = worker();
    auto b = worker();
    go.set_value();
    CAF_CHECK_EQUAL(a.get(), "(no exception)");
    CAF_CHECK_EQUAL(b.get(), "(no exception)");
    // The schema is whole: both tables work.
    sqlite_store db{path};
    CAF_CHECK_EQUAL(db.schema_version(), newest_version());
    db.insert_session(make_session("s"));
    db.insert_message(make_message("m", "s", 1));
    CAF_CHECK_EQUAL(db.messages("s").size(), 1u);
  }
}

CAF_TEST(pending migrations on an existing table race safely) {
  // As when a new release adds a migration: schema_migrations exists, a
  // migration is pending. Both stores read the version before writing, so
  // only a transaction that takes the write lock first keeps them apart.
  for (int round = 0; round < 20; ++round) {
    auto path = file("pending-" + std::to_string(round) + ".db");
    sqlite3* raw = nullptr;
    CAF_REQUIRE_EQUAL(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    auto rc = sqlite3_exec(raw,
                           "PRAGMA journal_mode = WAL;"
                           "CREATE TABLE schema_migrations ("
                           "version INTEGER PRIMARY KEY, applied_at INTEGER)",
                           nullptr, nullptr, nullptr);
    sqlite3_close(raw);
    CAF_REQUIRE_EQUAL(rc, SQLITE_OK);
    std::vector<std::unique_ptr<sqlite_store>> stores;
    stores.reserve(3);
    for (int i = 0; i < 3; ++i)
      stores.push_back(std::make_unique<sqlite_store>(path));
    std::promise<void> go;
    auto gate = go.get_future().share();
    std::vector<std::future<std::string>> results;
    results.reserve(stores.size());
    for (auto& db : stores)
      results.push_back(std::async(std::launch::async, [gate, &db] {
        gate.wait();
        return error_of([&] { db->migrate(); });
      }));
    go.set_value();
    for (auto& r : results)
      CAF_CHECK_EQUAL(r.get(), "(no exception)");
    CAF_CHECK_EQUAL(stores[0]->schema_version(), newest_version());
  }
}

CAF_TEST(a file store runs in wal mode) {
  sqlite_store db{file()};
  db.migrate();
  db.insert_session(make_session("s1"));
  CAF_CHECK(fs::exists(file() + "-wal"));
}

// Messages of one page each (3,000 bytes, pages of 4 KiB): each commits at
// least one frame to the log.
void insert_pages(sqlite_store& db, int n) {
  std::string text(3000, 'x');
  for (int i = 0; i < n; ++i)
    db.insert_message(make_message("m" + std::to_string(i), "s1", i, text));
}

CAF_TEST(a thread of its own copies the log into the database file) {
  sqlite_store db{file()};
  db.migrate();
  db.insert_session(make_session("s1"));
  auto before = fs::file_size(file());
  insert_pages(db, 1500);
  // The thread runs beside the writer; give it up to 20 s.
  for (int i = 0; i < 2000 && db.background_checkpoints() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  CAF_REQUIRE_GREATER(db.background_checkpoints(), 0u);
  // In WAL mode the main file grows only by checkpoints, and the writer
  // itself did none (its limit is far).
  CAF_CHECK_GREATER(fs::file_size(file()), before + 1000000);
}

CAF_TEST(the writer checkpoints a log that reaches its limit) {
  // The thread is never woken, as if it could not keep up.
  sqlite_store db{file(), {1 << 30, 200}};
  db.migrate();
  db.insert_session(make_session("s1"));
  auto before = fs::file_size(file());
  insert_pages(db, 800);
  CAF_CHECK_EQUAL(db.background_checkpoints(), 0u);
  CAF_CHECK_GREATER(fs::file_size(file()), before + 500 * 3000);
  // The log started again after each checkpoint instead of holding all 800
  // pages (a frame is a page and a 24-byte header).
  CAF_CHECK_LESS(fs::file_size(file() + "-wal"), 400u * (4096 + 24));
  CAF_CHECK_EQUAL(db.messages("s1").size(), 800u);
}

// -- the gathering VFS (storage/sqlite_gather_vfs.hpp) ------------------------

// The write system calls this process has made (write, pwrite, ...).
std::uint64_t write_calls() {
  std::ifstream io{"/proc/self/io"};
  std::string key;
  std::uint64_t value = 0;
  while (io >> key >> value)
    if (key == "syscw:")
      return value;
  throw std::runtime_error("no syscw in /proc/self/io");
}

CAF_TEST(a commit goes to the log in one write and is there when it returns) {
  // No checkpoints: nothing else writes meanwhile.
  sqlite_store db{file(), {1 << 30, 1 << 30}};
  db.migrate();
  db.insert_session(make_session("s1"));
  // Five pages and more: sqlite writes each frame's header and page apart.
  std::string text(5 * 4096, 'x');
  auto before = write_calls();
  db.insert_message(make_message("m1", "s1", 1, text));
  auto writes = write_calls() - before;
#if defined(__SANITIZE_ADDRESS__)
  // The sanitizers probe memory by writing to a pipe, which counts too.
  static_cast<void>(writes);
#else
  CAF_CHECK_EQUAL(writes, 1u);
#endif
  // A connection of sqlite's own reads it from the files at once.
  sqlite3* other = nullptr;
  CAF_REQUIRE_EQUAL(sqlite3_open_v2(file().c_str(), &other,
                                    SQLITE_OPEN_READONLY, nullptr),
                    SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  CAF_REQUIRE_EQUAL(sqlite3_prepare_v2(other,
                                       "SELECT length(content) FROM messages"
                                       " WHERE id = 'm1'",
                                       -1, &stmt, nullptr),
                    SQLITE_OK);
  CAF_REQUIRE_EQUAL(sqlite3_step(stmt), SQLITE_ROW);
  CAF_CHECK_EQUAL(sqlite3_column_int(stmt, 0), 5 * 4096);
  sqlite3_finalize(stmt);
  sqlite3_close(other);
}

// The log is written when the commit frame is complete, inside the commit:
// a write that fails there fails the commit. Written later (at the shared
// memory's barrier), the error would have no way back and the commit would
// seem to succeed with its frames missing from the file.
CAF_TEST(a commit whose log write fails is reported and leaves nothing) {
  sqlite_store db{file(), {1 << 30, 1 << 30}};
  db.migrate();
  db.insert_session(make_session("s1"));
  db.insert_message(make_message("m0", "s1", 0));
  // Files of this process may not grow past their size plus a page: the
  // next five-page commit cannot be written.
  auto wal_size = fs::file_size(file() + "-wal");
  auto db_size = fs::file_size(file());
  ::rlimit saved{};
  ::getrlimit(RLIMIT_FSIZE, &saved);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  ::rlimit tight = saved;
  tight.rlim_cur = std::max(wal_size, db_size) + 4096;
  CAF_REQUIRE_EQUAL(::setrlimit(RLIMIT_FSIZE, &tight), 0);
  auto error = error_of([&] {
    db.insert_message(
      make_message("m1", "s1", 1, std::string(5 * 4096, 'x')));
  });
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);
  CAF_CHECK(contains(error, "sqlite: "));
  // The store goes on; the failed message is not there.
  db.insert_message(make_message("m2", "s1", 2));
  CAF_CHECK_EQUAL(joined(ids_of(db.messages("s1"))), "m0,m2");
}

CAF_TEST(a log written through the gathering VFS survives reopening) {
  {
    sqlite_store db{file(), {1 << 30, 1 << 30}};
    db.migrate();
    db.insert_session(make_session("s1"));
    insert_pages(db, 50);
  }
  sqlite_store again{file()};
  CAF_CHECK_EQUAL(again.messages("s1").size(), 50u);
}

// -- sessions -----------------------------------------------------------------

CAF_TEST(errors carry what was attempted and the sqlite message) {
  sqlite_store db{file()};
  db.migrate();
  db.insert_session(make_session("s1"));
  CAF_CHECK_EQUAL(error_of([&] { db.insert_session(make_session("s1")); }),
                  "sqlite: inserting a session failed: UNIQUE constraint "
                  "failed: sessions.id");
  // Foreign keys are on: a message needs its session.
  CAF_CHECK_EQUAL(
      error_of([&] { db.insert_message(make_message("m1", "nope", 1)); }),
      "sqlite: inserting a message failed: FOREIGN KEY constraint failed");
  // The failed statements were reset and still work.
  db.insert_message(make_message("m1", "s1", 1));
  CAF_CHECK_EQUAL(db.messages("s1").size(), 1u);
  auto e = error_of([&] { sqlite_store bad{file("missing-dir/x.db")}; });
  CAF_CHECK(contains(e, "sqlite: opening database"));
  CAF_CHECK(contains(e, "unable to open database file"));
}

CAF_TEST(using a store before migrating fails clearly) {
  sqlite_store db{file()};
  auto e = error_of([&] { db.insert_session(make_session("s1")); });
  CAF_CHECK(contains(e, "no such table: sessions"));
}

// -- messages -----------------------------------------------------------------

CAF_TEST(messages numbered per session by an older release stay first) {
  // Releases before the global seq numbered each session's messages from 1,
  // in rows whose rowids need not follow that order.
  sqlite_store db{file()};
  db.migrate();
  db.insert_session(make_session("s1"));
  {
    sqlite3* raw = nullptr;
    CAF_REQUIRE_EQUAL(sqlite3_open(file().c_str(), &raw), SQLITE_OK);
    auto rc = sqlite3_exec(
      raw,
      "INSERT INTO messages (id, session_id, seq, role, kind, content, state, "
      "created_at) VALUES "
      "('old3', 's1', 3, 'user', 'message', 'x', 'complete', 100),"
      "('old1', 's1', 1, 'user', 'message', 'x', 'complete', 100),"
      "('old2', 's1', 2, 'user', 'message', 'x', 'complete', 100)",
      nullptr, nullptr, nullptr);
    sqlite3_close(raw);
    CAF_REQUIRE_EQUAL(rc, SQLITE_OK);
  }
  db.insert_message(make_message("new1", "s1", 100));
  db.insert_message(make_message("new2", "s1", 100));
  CAF_CHECK_EQUAL(joined(ids_of(db.messages("s1"))),
                  "old1,old2,old3,new1,new2");
}

CAF_TEST(data survives reopening the file) {
  {
    sqlite_store db{file()};
    db.migrate();
    db.insert_session(make_session("s1"));
    db.insert_message(make_message("m1", "s1", 1));
  }
  sqlite_store db{file()};
  db.migrate();
  CAF_CHECK(db.find_session("s1").has_value());
  CAF_CHECK_EQUAL(db.messages("s1").size(), 1u);
}

// -- open_store ---------------------------------------------------------------

CAF_TEST(open store accepts the sqlite url forms) {
  for (auto url : {"sqlite::memory:", "sqlite://:memory:"}) {
    auto db = open_store(url);
    db->migrate();
    db->insert_session(make_session("s1"));
    CAF_CHECK(db->find_session("s1").has_value());
  }
  auto plain = file("plain.db");
  open_store("sqlite:" + plain)->migrate();
  CAF_CHECK(fs::exists(plain));
  auto slashes = file("slashes.db");
  CAF_REQUIRE(!slashes.empty() && slashes[0] == '/');
  open_store("sqlite://" + slashes)->migrate(); // sqlite:///abs/path
  CAF_CHECK(fs::exists(slashes));
}

CAF_TEST(memory stores are private) {
  auto a = open_store("sqlite::memory:");
  auto b = open_store("sqlite::memory:");
  a->migrate();
  b->migrate();
  a->insert_session(make_session("s1"));
  CAF_CHECK(!b->find_session("s1").has_value());
}

CAF_TEST(postgres urls open a postgresql store without connecting) {
  // Connecting waits for the first use, so a bad address is no error yet.
  for (auto url : {"postgresql://u:p@127.0.0.1:1/db", "postgres://h/db"})
    CAF_CHECK(open_store(url) != nullptr);
}

CAF_TEST(other urls are errors that hide the rest of the url) {
  auto e = error_of([] { open_store("mysql://bob:hunter2@h/db"); });
  CAF_CHECK(contains(e, "\"mysql\""));
  CAF_CHECK(!contains(e, "hunter2"));
  CAF_CHECK(contains(error_of([] { open_store("sqlite:"); }), "names no file"));
  CAF_CHECK(
      contains(error_of([] { open_store("sqlite://"); }), "names no file"));
  CAF_CHECK(contains(error_of([] { open_store("parley.db"); }),
                     "unsupported database URL scheme"));
}

CAF_TEST_FIXTURE_SCOPE_END()
