#pragma once

#include <cstdint>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace parley::storage {

// Throws std::runtime_error("sqlite: WHAT failed: <sqlite's message>").
[[noreturn]] void throw_sqlite_error(sqlite3* db, std::string_view what);

// Owns one prepared statement. Values are only ever bound as parameters, so
// no text from outside ever becomes part of the SQL.
class sqlite_statement {
public:
  // `what` names the operation in error messages, e.g. "insert session".
  sqlite_statement(sqlite3* db, std::string_view sql, std::string what);
  ~sqlite_statement();

  sqlite_statement(const sqlite_statement&) = delete;
  sqlite_statement& operator=(const sqlite_statement&) = delete;

  // Parameters count from 1, as in SQL's ?1. Bound text is not copied: it
  // must outlive the statement's use, up to reset() (statement_scope).
  void bind(int index, std::string_view x);
  void bind(int index, std::string&& x) = delete; // would dangle
  void bind(int index, std::int64_t x);

  // Advances to the next row: true when a row is ready, false when done.
  bool step();

  // Runs a statement that returns no rows.
  void run();

  // Columns count from 0. Text may hold any bytes, NUL included.
  std::string column_text(int index) const;
  std::int64_t column_int64(int index) const;

  // Makes the statement ready for new bindings. Also ends its implicit read
  // transaction, which would otherwise keep a WAL snapshot alive.
  void reset() noexcept;

private:
  sqlite3* db_;
  sqlite3_stmt* handle_ = nullptr;
  std::string what_;
};

// Resets a (cached) statement when leaving the scope that used it, also when
// the use threw.
class statement_scope {
public:
  explicit statement_scope(sqlite_statement& x) : x_(x) {
    // nop
  }

  ~statement_scope() {
    x_.reset();
  }

  statement_scope(const statement_scope&) = delete;
  statement_scope& operator=(const statement_scope&) = delete;

private:
  sqlite_statement& x_;
};

} // namespace parley::storage
