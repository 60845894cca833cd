#include "storage/migrations.hpp"

namespace parley::storage {

const std::vector<migration>& sqlite_migrations() {
  static const std::vector<migration> all{
      {1, R"sql(
CREATE TABLE sessions (
  id                TEXT PRIMARY KEY,
  visitor_id        TEXT NOT NULL,
  status            TEXT NOT NULL,
  created_at        INTEGER NOT NULL,
  expires_at        INTEGER NOT NULL,
  last_activity_at  INTEGER NOT NULL,
  warning_sent      INTEGER NOT NULL DEFAULT 0,
  conversation_data TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE messages (
  id         TEXT PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions(id),
  seq        INTEGER NOT NULL, -- insertion order within the session
  role       TEXT NOT NULL,
  kind       TEXT NOT NULL,
  content    TEXT NOT NULL,
  state      TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX messages_by_session ON messages(session_id, created_at, seq);
)sql"},
  };
  return all;
}

} // namespace parley::storage
