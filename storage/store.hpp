#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/errors.hpp"
#include "storage/records.hpp"
#include "storage/write_op.hpp"

namespace parley::storage {

// The blocking storage interface. Only the storage actor calls it, on its own
// thread, so implementations need no locking. Errors throw std::runtime_error
// or one of the subclasses in storage/errors.hpp.
//
// The public calls check their input first (text must be valid UTF-8 without
// NUL characters) so that both backends accept and refuse the same records;
// backends implement the protected do_* calls.
class store {
public:
  virtual ~store() = default;

  // Creates or upgrades the schema to the newest version. Safe when several
  // processes migrate the same database at once.
  virtual void migrate() = 0;

  // The newest applied migration, 0 for a database never migrated.
  virtual std::int64_t schema_version() = 0;

  // Checks that the database answers, reconnecting if the connection was
  // lost; throws unavailable when it does not.
  virtual void ping() = 0;

  // Whether the database can become unreachable while nobody uses it (a
  // server over the network), which makes a periodic ping() worth its
  // wake-ups. A local file has nothing for ping() to check.
  virtual bool needs_probe() const {
    return false;
  }

  // How many connections writing at once make writes faster overall: a
  // server runs each on a core of its own; SQLite has one writer at a time.
  virtual std::size_t write_parallelism() const {
    return 1;
  }

  // Applies all `ops` in one transaction, all or none, in the order
  // plan_batch() describes. Durable once it returns. Throws invalid_input
  // (nothing written) if any record holds unstorable text.
  void write_batch(const std::vector<write_op>& ops);

  // One-write batches.
  void insert_session(const session_record& x);
  // Updates status, last_activity_at, warning_sent, conversation_data and
  // title;
  // throws if no session has that id.
  void update_session(const session_record& x);
  void insert_message(const message_record& x);

  // After a batch threw commit_unknown: whether it did commit, judged by
  // its first insert. A batch of updates, member changes and deletes only
  // counts as not committed: applying it again changes nothing.
  bool committed(const std::vector<write_op>& ops);

  // Ids that hold unstorable text match nothing.
  std::optional<session_record> find_session(const std::string& id);
  // The signed-in conversations (kind "conversation") `owner_id` owns or
  // is a member of, newest first.
  std::vector<session_record> conversations_of(const std::string& owner_id);
  // All messages of a session, oldest first (created_at, then insertion
  // order).
  std::vector<message_record> messages(const std::string& session_id);

protected:
  // `ops` is checked and not empty.
  virtual void do_write_batch(const std::vector<write_op>& ops) = 0;
  virtual std::optional<session_record> do_find_session(const std::string& id)
    = 0;
  virtual std::vector<message_record>
  do_messages(const std::string& session_id) = 0;
  virtual std::vector<session_record>
  do_conversations_of(const std::string& owner_id) = 0;
};

// Opens the store named by a PARLEY_DATABASE_URL: "sqlite:PATH" or
// "postgresql://user:pass@host:port/db" (also "postgres://"); other schemes
// throw std::runtime_error naming the URL scheme. Does not migrate.
std::unique_ptr<store> open_store(const std::string& url);

} // namespace parley::storage
