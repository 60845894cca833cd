#pragma once

#include <memory>
#include <string>
#include <string_view>

struct sqlite3;

namespace parley::storage {

struct sqlite_closer {
  void operator()(sqlite3* db) const noexcept;
};

// A connection handle, closed with it.
using sqlite_connection = std::unique_ptr<sqlite3, sqlite_closer>;

// Opens the database at `path` for use by one thread at a time (without
// sqlite's mutex) through the gathering VFS (storage/sqlite_gather_vfs.hpp),
// creating it if `create`, and waiting up to `busy_timeout_ms` for another
// connection's lock in every later call.
// Throws std::runtime_error naming `what` when it cannot.
sqlite_connection open_sqlite(const std::string& path, bool create,
                              int busy_timeout_ms, std::string_view what);

} // namespace parley::storage
