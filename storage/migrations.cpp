#include "storage/migrations.hpp"

#include <stdexcept>
#include <string>

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
      {2, R"sql(
ALTER TABLE sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'visitor';
ALTER TABLE sessions ADD COLUMN owner_id TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN title TEXT NOT NULL DEFAULT '';
CREATE INDEX sessions_by_owner ON sessions(owner_id, created_at);
ALTER TABLE messages ADD COLUMN tool_call_id TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN tool_calls TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN image TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN html TEXT NOT NULL DEFAULT '';
)sql"},
      {3, R"sql(
CREATE TABLE knowledge_sources (
  id      TEXT PRIMARY KEY,
  title   TEXT NOT NULL,
  content TEXT NOT NULL
);
CREATE TABLE message_knowledge (
  message_id   TEXT NOT NULL REFERENCES messages(id),
  knowledge_id TEXT NOT NULL REFERENCES knowledge_sources(id),
  position     INTEGER NOT NULL, -- the order the message cites them in
  PRIMARY KEY (message_id, knowledge_id)
);
CREATE INDEX message_knowledge_by_source ON message_knowledge(knowledge_id);
)sql"},
      {4, R"sql(
CREATE TABLE conversation_members (
  session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  user_id    TEXT NOT NULL,
  added_at   INTEGER NOT NULL,
  PRIMARY KEY (session_id, user_id)
);
CREATE INDEX conversation_members_by_user ON conversation_members(user_id);
)sql"},
  };
  return all;
}

const std::vector<migration>& postgresql_migrations() {
  // Version 1 is SQLite's version 1 in PostgreSQL's types. seq is global
  // rather than per session: it only has to order a session's messages by
  // insertion, and an identity needs no max() per insert, so a whole batch
  // of messages goes in with one statement. Ids compare bytewise (COLLATE
  // "C"): they are only ever matched, never sorted, and the database's
  // default collation would make every index lookup slower.
  static const std::vector<migration> all{
      {1, R"sql(
CREATE TABLE sessions (
  id                TEXT COLLATE "C" PRIMARY KEY,
  visitor_id        TEXT NOT NULL,
  status            TEXT NOT NULL,
  created_at        BIGINT NOT NULL,
  expires_at        BIGINT NOT NULL,
  last_activity_at  BIGINT NOT NULL,
  warning_sent      BOOLEAN NOT NULL DEFAULT false,
  conversation_data TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE messages (
  id         TEXT COLLATE "C" PRIMARY KEY,
  session_id TEXT COLLATE "C" NOT NULL REFERENCES sessions(id),
  seq        BIGINT GENERATED ALWAYS AS IDENTITY, -- insertion order
  role       TEXT NOT NULL,
  kind       TEXT NOT NULL,
  content    TEXT NOT NULL,
  state      TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX messages_by_session ON messages(session_id, created_at, seq);
)sql"},
      {2, R"sql(
ALTER TABLE sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'visitor',
                     ADD COLUMN owner_id TEXT COLLATE "C" NOT NULL DEFAULT '',
                     ADD COLUMN title TEXT NOT NULL DEFAULT '';
CREATE INDEX sessions_by_owner ON sessions(owner_id, created_at);
ALTER TABLE messages ADD COLUMN tool_call_id TEXT NOT NULL DEFAULT '',
                     ADD COLUMN tool_calls TEXT NOT NULL DEFAULT '',
                     ADD COLUMN image TEXT NOT NULL DEFAULT '',
                     ADD COLUMN html TEXT NOT NULL DEFAULT '';
)sql"},
      {3, R"sql(
CREATE TABLE knowledge_sources (
  id      TEXT COLLATE "C" PRIMARY KEY,
  title   TEXT NOT NULL,
  content TEXT NOT NULL
);
CREATE TABLE message_knowledge (
  message_id   TEXT COLLATE "C" NOT NULL REFERENCES messages(id),
  knowledge_id TEXT COLLATE "C" NOT NULL REFERENCES knowledge_sources(id),
  position     INTEGER NOT NULL, -- the order the message cites them in
  PRIMARY KEY (message_id, knowledge_id)
);
CREATE INDEX message_knowledge_by_source ON message_knowledge(knowledge_id);
)sql"},
      {4, R"sql(
CREATE TABLE conversation_members (
  session_id TEXT COLLATE "C" NOT NULL REFERENCES sessions(id)
                               ON DELETE CASCADE,
  user_id    TEXT COLLATE "C" NOT NULL,
  added_at   BIGINT NOT NULL,
  PRIMARY KEY (session_id, user_id)
);
CREATE INDEX conversation_members_by_user ON conversation_members(user_id);
)sql"},
  };
  return all;
}

std::vector<const migration*>
pending_migrations(const std::vector<migration>& all, std::int64_t current,
                   std::string_view backend) {
  auto newest = all.empty() ? 0 : all.back().version;
  if (current > newest)
    throw std::runtime_error(
        std::string{backend} + ": migrating failed: the database has schema "
        + "version " + std::to_string(current) + " but this build knows only "
        + "up to " + std::to_string(newest));
  std::vector<const migration*> result;
  for (auto& m : all)
    if (m.version > current)
      result.push_back(&m);
  return result;
}

} // namespace parley::storage
