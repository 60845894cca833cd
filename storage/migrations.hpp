#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace parley::storage {

// One step of the schema. Versions only grow; a released migration is never
// edited, a change is a new migration. Both backends have the same versions,
// each in its own SQL dialect.
struct migration {
  std::int64_t version;
  const char* sql; // one or more statements, run in one transaction
};

// All migrations of the SQLite schema, oldest first.
const std::vector<migration>& sqlite_migrations();

// All migrations of the PostgreSQL schema, oldest first.
const std::vector<migration>& postgresql_migrations();

// The migrations of `all` newer than `current`, oldest first. Throws
// std::runtime_error("BACKEND: migrating failed: ...") when the database is
// newer than this build.
std::vector<const migration*>
pending_migrations(const std::vector<migration>& all, std::int64_t current,
                   std::string_view backend);

} // namespace parley::storage
