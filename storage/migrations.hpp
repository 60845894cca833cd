#pragma once

#include <cstdint>
#include <vector>

namespace parley::storage {

// One step of the schema. Versions only grow; a released migration is never
// edited, a change is a new migration.
struct migration {
  std::int64_t version;
  const char* sql; // one or more statements, run in one transaction
};

// All migrations of the SQLite schema, oldest first.
const std::vector<migration>& sqlite_migrations();

} // namespace parley::storage
