#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pqxx/pqxx>

#include "storage/errors.hpp"

namespace parley::storage {

// A PostgreSQL connection that is made on first use and made again after it
// broke, with its prepared statements. Translates libpqxx's errors into
// storage's: a lost connection becomes `unavailable` (or `commit_unknown`
// when it broke during COMMIT), anything else std::runtime_error, all as
// "postgresql: WHAT failed: <server message>".
class pg_connection {
public:
  // Name and SQL of each prepared statement.
  using statement_list = std::vector<std::pair<std::string, std::string>>;

  // Keeps `url` (never shown in errors: it may hold a password). Does not
  // connect yet.
  pg_connection(std::string url, statement_list statements);
  ~pg_connection();

  pg_connection(const pg_connection&) = delete;
  pg_connection& operator=(const pg_connection&) = delete;

  // Runs f(pqxx::connection&). If a connection that worked before turns out
  // to be dead (the server restarted since), runs f once more on a fresh one:
  // nothing of the first try was committed.
  template <class F>
  auto run(std::string_view what, F&& f) {
    for (bool retried = false;; retried = true) {
      bool may_retry = !retried && conn_ != nullptr;
      try {
        return f(get());
      } catch (...) {
        translate(what, may_retry);
      }
    }
  }

private:
  pqxx::connection& get();

  // Called from a catch block: rethrows the current exception as a storage
  // error, or returns when `may_retry` and the connection was lost.
  void translate(std::string_view what, bool may_retry);

  std::string conninfo_;
  statement_list statements_;
  std::unique_ptr<pqxx::connection> conn_;
};

// `url` with libpq options parley relies on, unless the URL sets them:
// bounded connect time, dead peers noticed, UTF-8, quiet notices.
std::string pg_conninfo(const std::string& url);

} // namespace parley::storage
