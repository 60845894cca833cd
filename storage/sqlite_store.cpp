#include "storage/sqlite_store.hpp"

#include <chrono>
#include <stdexcept>
#include <thread>

#include <sqlite3.h>

#include "storage/migrations.hpp"
#include "storage/sqlite_checkpointer.hpp"
#include "storage/source_links.hpp"
#include "storage/sqlite_statement.hpp"

namespace parley::storage {

namespace {

constexpr int busy_timeout_ms = 5000;

constexpr std::size_t max_known_sources = 100000;

// sqlite's defaults suit connections shared between threads: a mutex taken
// on every call, and a global one around every allocation to keep memory
// statistics nobody reads here. A store is used by one thread at a time (its
// storage actor), so each connection opens without its mutex, and the
// statistics go before the library initialises (sqlite refuses the setting
// later; the connection then works as before).
void configure_sqlite_once() {
  [[maybe_unused]] static const int rc
    = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
      .count();
}

} // namespace

sqlite_store::sqlite_store(const std::string& path, sqlite_wal_policy wal)
  : wal_(wal) {
  configure_sqlite_once();
  // Waits for another connection's lock instead of failing at once, the
  // pragmas below included.
  db_ = open_sqlite(path, true, busy_timeout_ms,
                    "opening database \"" + path + "\"");
  auto* raw = db_.get();
  // WAL: readers never block the writer. In WAL mode synchronous=NORMAL
  // loses nothing when the process crashes (a commit is in the WAL file
  // once it returns); only an OS crash or power cut may drop the last
  // commits, without corrupting the file.
  enable_wal();
  exec("PRAGMA synchronous = NORMAL", "setting synchronous=NORMAL");
  exec("PRAGMA foreign_keys = ON", "enabling foreign keys");
  // An in-memory database has no file, no log and no second connection.
  const char* file = sqlite3_db_filename(raw, "main");
  if (file == nullptr || *file == '\0')
    return;
  checkpointer_
    = std::make_unique<sqlite_checkpointer>(file, busy_timeout_ms);
  // Replaces sqlite's automatic checkpoint, which is a WAL hook too.
  sqlite3_wal_hook(raw, wal_hook, this);
}

sqlite_store::~sqlite_store() = default;

std::uint64_t sqlite_store::background_checkpoints() const {
  return checkpointer_ ? checkpointer_->runs() : 0;
}

int sqlite_store::wal_hook(void* self, sqlite3* db, const char*, int frames) {
  auto& st = *static_cast<sqlite_store*>(self);
  if (frames < st.woken_at_frames_)
    st.woken_at_frames_ = 0; // the log started again
  if (frames >= st.wal_.writer_limit) {
    // Fails at once, without harm, while the thread checkpoints.
    sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                              nullptr);
  } else if (frames - st.woken_at_frames_ >= st.wal_.checkpoint_every) {
    st.woken_at_frames_ = frames;
    st.checkpointer_->wake();
  }
  return SQLITE_OK;
}

void sqlite_store::enable_wal() {
  // Turning a new file to WAL upgrades a read lock to a write lock. When two
  // connections do so at once, sqlite fails one with SQLITE_BUSY at once
  // instead of waiting (waiting would deadlock), so retry until the busy
  // timeout runs out.
  using clock = std::chrono::steady_clock;
  auto give_up = clock::now() + std::chrono::milliseconds{busy_timeout_ms};
  for (;;) {
    auto rc = sqlite3_exec(db_.get(), "PRAGMA journal_mode = WAL", nullptr,
                           nullptr, nullptr);
    if (rc == SQLITE_OK)
      return;
    if ((rc & 0xff) != SQLITE_BUSY || clock::now() >= give_up)
      throw_sqlite_error(db_.get(), "setting journal_mode=WAL");
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
}

void sqlite_store::exec(const char* sql, std::string_view what) {
  char* message = nullptr;
  auto rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &message);
  if (rc == SQLITE_OK)
    return;
  std::string text = message != nullptr ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  throw std::runtime_error("sqlite: " + std::string{what} + " failed: " + text);
}

sqlite_statement& sqlite_store::cached(const char* sql, const char* what) {
  auto& slot = statements_[sql];
  if (!slot)
    slot = std::make_unique<sqlite_statement>(db_.get(), sql, what);
  return *slot;
}

void sqlite_store::run_cached(const char* sql, const char* what) {
  auto& st = cached(sql, what);
  statement_scope scope{st};
  st.run();
}

// -- schema -------------------------------------------------------------------

std::int64_t sqlite_store::schema_version() {
  auto& has_table = cached("SELECT count(*) FROM sqlite_master "
                           "WHERE type = 'table' "
                           "AND name = 'schema_migrations'",
                           "reading the schema version");
  statement_scope scope1{has_table};
  if (!has_table.step() || has_table.column_int64(0) == 0)
    return 0;
  auto& newest = cached("SELECT coalesce(max(version), 0) "
                        "FROM schema_migrations",
                        "reading the schema version");
  statement_scope scope2{newest};
  return newest.step() ? newest.column_int64(0) : 0;
}

void sqlite_store::migrate() {
  // IMMEDIATE takes the write lock before reading the version, so of two
  // processes starting at once the second waits, then sees it applied.
  exec("BEGIN IMMEDIATE", "starting the migration transaction");
  try {
    exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
         "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
         "creating schema_migrations");
    for (auto* m :
         pending_migrations(sqlite_migrations(), schema_version(), "sqlite")) {
      exec(m->sql, "applying migration " + std::to_string(m->version));
      auto& record = cached("INSERT INTO schema_migrations "
                            "(version, applied_at) VALUES (?1, ?2)",
                            "recording a migration");
      statement_scope scope{record};
      record.bind(1, m->version);
      record.bind(2, now_ms());
      record.run();
    }
    exec("COMMIT", "committing the migration");
  } catch (...) {
    // Undo the partial schema; ROLLBACK's own failure must not hide the
    // original error.
    sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void sqlite_store::ping() {
  // nop
}

// -- writes -------------------------------------------------------------------

void sqlite_store::do_write_batch(const std::vector<write_op>& ops) {
  auto plan = plan_batch(ops);
  // IMMEDIATE: take the write lock now (waiting for it up to the busy
  // timeout) rather than fail halfway when upgrading a read lock.
  run_cached("BEGIN IMMEDIATE", "starting a write transaction");
  new_sources_.clear();
  try {
    for (auto* x : plan.new_sessions)
      insert_session_row(*x);
    for (auto* x : plan.new_messages)
      insert_message_row(*x);
    for (auto* x : plan.session_updates)
      update_session_row(*x);
    for (auto* x : plan.member_changes)
      change_member_row(*x);
    for (auto* x : plan.deleted_sessions)
      delete_session_rows(*x);
    run_cached("COMMIT", "committing writes");
  } catch (...) {
    sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  // Bounded by the knowledge base; the cap only guards against surprises.
  for (auto& id : new_sources_)
    if (known_sources_.size() < max_known_sources)
      known_sources_.insert(std::move(id));
}

// -- sessions -----------------------------------------------------------------

void sqlite_store::insert_session_row(const session_record& x) {
  auto& st = cached("INSERT INTO sessions (id, visitor_id, status, "
                    "created_at, expires_at, last_activity_at, warning_sent, "
                    "conversation_data, kind, owner_id, title) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    "inserting a session");
  statement_scope scope{st};
  st.bind(1, x.id);
  st.bind(2, x.visitor_id);
  st.bind(3, x.status);
  st.bind(4, x.created_at);
  st.bind(5, x.expires_at);
  st.bind(6, x.last_activity_at);
  st.bind(7, std::int64_t{x.warning_sent ? 1 : 0});
  st.bind(8, x.conversation_data);
  st.bind(9, x.kind);
  st.bind(10, x.owner_id);
  st.bind(11, x.title);
  st.run();
}

namespace {

#define PARLEY_SESSION_FIELDS                                                  \
  "id, visitor_id, status, created_at, expires_at, last_activity_at, "         \
  "warning_sent, conversation_data, kind, owner_id, title"
#define PARLEY_SESSION_COLUMNS "SELECT " PARLEY_SESSION_FIELDS " FROM sessions "

session_record session_row(sqlite_statement& st) {
  session_record x;
  x.id = st.column_text(0);
  x.visitor_id = st.column_text(1);
  x.status = st.column_text(2);
  x.created_at = st.column_int64(3);
  x.expires_at = st.column_int64(4);
  x.last_activity_at = st.column_int64(5);
  x.warning_sent = st.column_int64(6) != 0;
  x.conversation_data = st.column_text(7);
  x.kind = st.column_text(8);
  x.owner_id = st.column_text(9);
  x.title = st.column_text(10);
  return x;
}

} // namespace

std::optional<session_record>
sqlite_store::do_find_session(const std::string& id) {
  std::optional<session_record> result;
  {
    // Then the newest user message's time (NULL, read as 0, for none):
    // the index read backwards stops at it.
    auto& st = cached("SELECT " PARLEY_SESSION_FIELDS ", "
                      "(SELECT created_at FROM messages "
                      "WHERE session_id = ?1 AND role = 'user' "
                      "ORDER BY created_at DESC LIMIT 1) "
                      "FROM sessions WHERE id = ?1",
                      "finding a session");
    statement_scope scope{st};
    st.bind(1, id);
    if (!st.step())
      return result;
    result = session_row(st);
    take_activity_from(*result, st.column_int64(11));
  }
  auto& st = cached("SELECT user_id FROM conversation_members "
                    "WHERE session_id = ?1 ORDER BY added_at, rowid",
                    "reading members");
  statement_scope scope{st};
  st.bind(1, id);
  while (st.step())
    result->members.push_back(st.column_text(0));
  return result;
}

std::vector<session_record>
sqlite_store::do_conversations_of(const std::string& owner_id) {
  auto& st = cached(PARLEY_SESSION_COLUMNS
                    "WHERE kind = 'conversation' AND (owner_id = ?1 OR id IN "
                    "(SELECT session_id FROM conversation_members "
                    "WHERE user_id = ?1)) "
                    "ORDER BY created_at DESC, id",
                    "listing conversations");
  statement_scope scope{st};
  st.bind(1, owner_id);
  std::vector<session_record> result;
  while (st.step())
    result.push_back(session_row(st));
  return result;
}

void sqlite_store::update_session_row(const session_record& x) {
  auto& st = cached("UPDATE sessions SET status = ?2, "
                    "last_activity_at = ?3, warning_sent = ?4, "
                    "conversation_data = ?5, title = ?6 WHERE id = ?1",
                    "updating a session");
  statement_scope scope{st};
  st.bind(1, x.id);
  st.bind(2, x.status);
  st.bind(3, x.last_activity_at);
  st.bind(4, std::int64_t{x.warning_sent ? 1 : 0});
  st.bind(5, x.conversation_data);
  st.bind(6, x.title);
  st.run();
  // An update that matches nothing is a caller bug: say so, do not drop it.
  if (sqlite3_changes(db_.get()) == 0)
    throw std::runtime_error("sqlite: updating a session failed: no session "
                             "with that id");
}

void sqlite_store::change_member_row(const write_op& x) {
  auto& st
    = x.what == write_op::kind::add_member
        ? cached("INSERT OR IGNORE INTO conversation_members "
                 "(session_id, user_id, added_at) VALUES (?1, ?2, ?3)",
                 "adding a member")
        : cached("DELETE FROM conversation_members "
                 "WHERE session_id = ?1 AND user_id = ?2",
                 "removing a member");
  statement_scope scope{st};
  st.bind(1, x.session.id);
  st.bind(2, x.member);
  if (x.what == write_op::kind::add_member)
    st.bind(3, x.at);
  st.run();
}

void sqlite_store::delete_session_rows(const std::string& id) {
  // Children first: the links and messages refer to what goes after them.
  for (auto [sql, what] :
       {std::pair{"DELETE FROM message_knowledge WHERE message_id IN "
                  "(SELECT id FROM messages WHERE session_id = ?1)",
                  "deleting source links"},
        std::pair{"DELETE FROM messages WHERE session_id = ?1",
                  "deleting messages"},
        std::pair{"DELETE FROM sessions WHERE id = ?1", "deleting a session"}}) {
    auto& st = cached(sql, what);
    statement_scope scope{st};
    st.bind(1, id);
    st.run();
  }
}

// -- messages -----------------------------------------------------------------

void sqlite_store::insert_message_row(const message_record& x) {
  // seq numbers messages in insertion order, which breaks ties between
  // equal created_at values. It is global, as in PostgreSQL: max(rowid) is
  // one seek, where the session's own max(seq) read every message of the
  // session on each insert. Rows written before this numbered each session
  // from 1; max(rowid) is at least the row count, so newer rows still sort
  // after them.
  auto& st = cached("INSERT INTO messages (id, session_id, seq, role, kind, "
                    "content, state, created_at, tool_call_id, tool_calls, "
                    "image, html) "
                    "VALUES (?1, ?2, (SELECT coalesce(max(rowid), 0) + 1 "
                    "FROM messages), "
                    "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    "inserting a message");
  statement_scope scope{st};
  st.bind(1, x.id);
  st.bind(2, x.session_id);
  st.bind(3, x.role);
  st.bind(4, x.kind);
  st.bind(5, x.content);
  st.bind(6, x.state);
  st.bind(7, x.created_at);
  st.bind(8, x.tool_call_id);
  st.bind(9, x.tool_calls);
  st.bind(10, x.image);
  st.bind(11, x.html);
  st.run();
  insert_source_rows(x);
}

void sqlite_store::insert_source_rows(const message_record& x) {
  std::int64_t position = 0;
  for (auto& k : x.sources) {
    if (known_sources_.count(k.id) == 0) {
      // A source row never changes: the first writer's row stands.
      auto& source = cached("INSERT OR IGNORE INTO knowledge_sources "
                            "(id, title, content) VALUES (?1, ?2, ?3)",
                            "inserting a knowledge source");
      statement_scope scope{source};
      source.bind(1, k.id);
      source.bind(2, k.title);
      source.bind(3, k.content);
      source.run();
      new_sources_.push_back(k.id);
    }
    auto& link = cached("INSERT OR IGNORE INTO message_knowledge "
                        "(message_id, knowledge_id, position) "
                        "VALUES (?1, ?2, ?3)",
                        "linking a knowledge source");
    statement_scope scope{link};
    link.bind(1, x.id);
    link.bind(2, k.id);
    link.bind(3, position++);
    link.run();
  }
}

std::vector<message_record>
sqlite_store::do_messages(const std::string& session_id) {
  auto& st = cached("SELECT id, session_id, role, kind, content, state, "
                    "created_at, tool_call_id, tool_calls, image, html "
                    "FROM messages WHERE session_id = ?1 "
                    "ORDER BY created_at, seq",
                    "reading messages");
  statement_scope scope{st};
  st.bind(1, session_id);
  std::vector<message_record> result;
  while (st.step()) {
    message_record x;
    x.id = st.column_text(0);
    x.session_id = st.column_text(1);
    x.role = st.column_text(2);
    x.kind = st.column_text(3);
    x.content = st.column_text(4);
    x.state = st.column_text(5);
    x.created_at = st.column_int64(6);
    x.tool_call_id = st.column_text(7);
    x.tool_calls = st.column_text(8);
    x.image = st.column_text(9);
    x.html = st.column_text(10);
    result.push_back(std::move(x));
  }
  attach_sources(result, source_links(session_id));
  return result;
}

std::vector<source_link>
sqlite_store::source_links(const std::string& session_id) {
  auto& st = cached("SELECT mk.message_id, k.id, k.title, k.content "
                    "FROM messages m "
                    "JOIN message_knowledge mk ON mk.message_id = m.id "
                    "JOIN knowledge_sources k ON k.id = mk.knowledge_id "
                    "WHERE m.session_id = ?1 "
                    "ORDER BY mk.message_id, mk.position",
                    "reading knowledge sources");
  statement_scope scope{st};
  st.bind(1, session_id);
  std::vector<source_link> result;
  while (st.step())
    result.push_back({st.column_text(0),
                      {st.column_text(1), st.column_text(2),
                       st.column_text(3)}});
  return result;
}

} // namespace parley::storage
