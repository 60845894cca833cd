#include "storage/sqlite_statement.hpp"

#include <limits>
#include <stdexcept>

#include <sqlite3.h>

namespace parley::storage {

void throw_sqlite_error(sqlite3* db, std::string_view what) {
  std::string message = "sqlite: ";
  message += what;
  message += " failed: ";
  message += db != nullptr ? sqlite3_errmsg(db) : "out of memory";
  throw std::runtime_error(message);
}

sqlite_statement::sqlite_statement(sqlite3* db, std::string_view sql,
                                   std::string what)
    : db_(db), what_(std::move(what)) {
  auto rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()),
                               &handle_, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(handle_);
    throw_sqlite_error(db_, "preparing " + what_);
  }
}

sqlite_statement::~sqlite_statement() {
  sqlite3_finalize(handle_);
}

void sqlite_statement::bind(int index, std::string_view x) {
  if (x.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw std::runtime_error("sqlite: " + what_ + " failed: text too large");
  // SQLITE_STATIC: sqlite reads the caller's bytes, no copy (see the
  // header for how long they must live).
  auto rc = sqlite3_bind_text(handle_, index, x.data(),
                              static_cast<int>(x.size()), SQLITE_STATIC);
  if (rc != SQLITE_OK)
    throw_sqlite_error(db_, what_);
}

void sqlite_statement::bind(int index, std::int64_t x) {
  if (sqlite3_bind_int64(handle_, index, x) != SQLITE_OK)
    throw_sqlite_error(db_, what_);
}

bool sqlite_statement::step() {
  switch (sqlite3_step(handle_)) {
  case SQLITE_ROW:
    return true;
  case SQLITE_DONE:
    return false;
  default:
    throw_sqlite_error(db_, what_);
  }
}

void sqlite_statement::run() {
  while (step()) {
    // Ignore rows: the caller only wants the side effect.
  }
}

std::string sqlite_statement::column_text(int index) const {
  auto data = sqlite3_column_text(handle_, index);
  auto size = sqlite3_column_bytes(handle_, index);
  if (data == nullptr)
    return {};
  return {reinterpret_cast<const char*>(data), static_cast<std::size_t>(size)};
}

std::int64_t sqlite_statement::column_int64(int index) const {
  return sqlite3_column_int64(handle_, index);
}

void sqlite_statement::reset() noexcept {
  sqlite3_reset(handle_);
  sqlite3_clear_bindings(handle_);
}

} // namespace parley::storage
