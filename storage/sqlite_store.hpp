#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "storage/source_links.hpp"
#include "storage/sqlite_connection.hpp"
#include "storage/store.hpp"

struct sqlite3;

namespace parley::storage {

class sqlite_checkpointer;
class sqlite_statement;

// When a file database's log (WAL) is copied back into the main file.
struct sqlite_wal_policy {
  // Frames appended since the last wake that wake the checkpoint thread
  // (sqlite's own automatic checkpoint threshold).
  int checkpoint_every = 1000;
  // A log of this many frames is checkpointed by the writer itself, after
  // the commit that reached it. The log starts again only when a checkpoint
  // copied all of it before the next write; while writes keep coming during
  // background checkpoints it grows, and this bounds it (16,000 pages of
  // 4 KiB: 64 MiB).
  int writer_limit = 16000;
};

// The embedded backend: one SQLite connection, used by one thread at a time,
// and for a file database one more that checkpoints on a thread of its own.
class sqlite_store : public store {
public:
  // Opens (creating if needed) the database file at `path`; ":memory:" opens
  // a private in-memory database. Does not migrate.
  explicit sqlite_store(const std::string& path, sqlite_wal_policy wal = {});
  ~sqlite_store() override;

  // Checkpoints the background thread ran (0 for an in-memory database).
  std::uint64_t background_checkpoints() const;

  void migrate() override;
  std::int64_t schema_version() override;
  // A local file is always there.
  void ping() override;

protected:
  void do_write_batch(const std::vector<write_op>& ops) override;
  std::optional<session_record> do_find_session(const std::string& id) override;
  std::vector<message_record>
  do_messages(const std::string& session_id) override;
  std::vector<session_record>
  do_conversations_of(const std::string& owner_id) override;

private:
  void enable_wal();
  // sqlite's WAL hook, after each commit: the log's length in frames.
  static int wal_hook(void* self, sqlite3* db, const char* name, int frames);

  void insert_session_row(const session_record& x);
  void update_session_row(const session_record& x);
  void change_member_row(const write_op& x);
  void delete_session_rows(const std::string& id);
  void insert_message_row(const message_record& x);
  // The message's sources and its links to them.
  void insert_source_rows(const message_record& x);
  std::vector<source_link> source_links(const std::string& session_id);

  // Runs SQL without parameters (pragmas, DDL, transaction control).
  void exec(const char* sql, std::string_view what);

  // The prepared statement for `sql`, made on first use. `sql` must be a
  // string literal: the cache keys on its address, not its text, which it
  // would hash on every call.
  sqlite_statement& cached(const char* sql, const char* what);

  // Runs a cached statement that returns no rows, and resets it.
  void run_cached(const char* sql, const char* what);

  // Declared first so it is destroyed last, after every statement.
  sqlite_connection db_;
  std::unordered_map<const char*, std::unique_ptr<sqlite_statement>>
      statements_;
  // Knowledge source ids known to be in the database: a source row never
  // changes, so writing it again with every message that cites it only
  // costs. Ids written by the open transaction join once it commits.
  std::unordered_set<std::string> known_sources_;
  std::vector<std::string> new_sources_;
  sqlite_wal_policy wal_;
  // The log's length when the checkpoint thread was last woken.
  int woken_at_frames_ = 0;
  // Last, so it stops before the writer's connection closes; null for an
  // in-memory database.
  std::unique_ptr<sqlite_checkpointer> checkpointer_;
};

} // namespace parley::storage
