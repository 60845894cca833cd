#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "storage/store.hpp"

namespace parley::storage {

class pg_connection;

// The PostgreSQL backend, through libpqxx: one connection, made on first use
// and again after it broke. A batch is one transaction of at most three
// statements (new sessions, new messages, session updates), whatever its
// size.
class pg_store : public store {
public:
  // `url` is postgresql://user:pass@host:port/db (or postgres://, with any
  // libpq URI parameters). Does not connect yet.
  explicit pg_store(const std::string& url);
  ~pg_store() override;

  // Serialized across processes by a transaction-level advisory lock.
  void migrate() override;
  std::int64_t schema_version() override;
  void ping() override;
  // One connection per core, at least two: while one waits for its commit
  // to reach the disk, the other works.
  std::size_t write_parallelism() const override;
  bool needs_probe() const override {
    return true;
  }

protected:
  void do_write_batch(const std::vector<write_op>& ops) override;
  std::optional<session_record> do_find_session(const std::string& id) override;
  std::vector<message_record>
  do_messages(const std::string& session_id) override;
  std::vector<session_record>
  do_conversations_of(const std::string& owner_id) override;

private:
  std::unique_ptr<pg_connection> conn_;
};

} // namespace parley::storage
