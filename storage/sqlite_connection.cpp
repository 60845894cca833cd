#include "storage/sqlite_connection.hpp"

#include <sqlite3.h>

#include "storage/sqlite_gather_vfs.hpp"
#include "storage/sqlite_statement.hpp"

namespace parley::storage {

void sqlite_closer::operator()(sqlite3* db) const noexcept {
  // close_v2 also copes with statements that outlive the connection.
  sqlite3_close_v2(db);
}

sqlite_connection open_sqlite(const std::string& path, bool create,
                              int busy_timeout_ms, std::string_view what) {
  sqlite3* raw = nullptr;
  auto flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX
               | (create ? SQLITE_OPEN_CREATE : 0);
  auto rc = sqlite3_open_v2(path.c_str(), &raw, flags, gathering_vfs());
  // sqlite returns a handle even on failure; close it too.
  sqlite_connection db{raw};
  if (rc != SQLITE_OK)
    throw_sqlite_error(raw, what);
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  return db;
}

} // namespace parley::storage
