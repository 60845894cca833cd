#pragma once

// Where the storage contract suites keep their data. PARLEY_TEST_DATABASE_URL
// names a PostgreSQL database (scripts/pg-test-env.sh starts a server and
// sets it, with PARLEY_TEST_DB_STOP/START to stop and restart the server);
// without it, SQLite files in a temp dir. Each fresh_url() is an empty
// database of its own: a new file, or a new PostgreSQL schema.

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <pqxx/pqxx>
#include <unistd.h>

namespace parley::test {

class test_database {
public:
  test_database() {
    if (auto url = std::getenv("PARLEY_TEST_DATABASE_URL"); url && *url)
      url_ = url;
    if (auto cmd = std::getenv("PARLEY_TEST_DB_STOP"); cmd && *cmd)
      stop_ = cmd;
    if (auto cmd = std::getenv("PARLEY_TEST_DB_START"); cmd && *cmd)
      start_ = cmd;
    if (!is_postgres()) {
      dir_ = std::filesystem::temp_directory_path()
             / ("parley-store-test-" + std::to_string(::getpid()) + "-"
                + std::to_string(counter()++));
      std::filesystem::create_directories(dir_);
    }
  }

  ~test_database() {
    std::error_code ec;
    if (!dir_.empty())
      std::filesystem::remove_all(dir_, ec);
    if (schemas_.empty())
      return;
    try {
      pqxx::connection c{url_};
      pqxx::nontransaction tx{c};
      for (auto& s : schemas_)
        tx.exec("DROP SCHEMA IF EXISTS " + tx.quote_name(s) + " CASCADE");
    } catch (const std::exception&) {
      // Best effort: the test server is thrown away anyway.
    }
  }

  test_database(const test_database&) = delete;
  test_database& operator=(const test_database&) = delete;

  bool is_postgres() const {
    return url_.rfind("postgres", 0) == 0;
  }

  std::string backend() const {
    return is_postgres() ? "postgresql" : "sqlite";
  }

  // The URL of a new, empty database.
  std::string fresh_url() {
    auto n = std::to_string(counter()++);
    if (!is_postgres())
      return "sqlite:" + (dir_ / ("db-" + n + ".sqlite")).string();
    auto schema = "contract_" + std::to_string(::getpid()) + "_" + n;
    {
      pqxx::connection c{url_};
      pqxx::nontransaction tx{c};
      tx.exec("CREATE SCHEMA " + tx.quote_name(schema));
    }
    schemas_.push_back(schema);
    auto sep = url_.find('?') == std::string::npos ? "?" : "&";
    return url_ + sep + "options=-c%20search_path%3D" + schema
           + "%20-c%20client_min_messages%3Dwarning";
  }

  // Whether the server can be stopped and started (PostgreSQL under
  // scripts/pg-test-env.sh).
  bool can_restart() const {
    return !stop_.empty() && !start_.empty();
  }

  void stop_server() {
    run(stop_, "stopping the database server");
  }

  void start_server() {
    run(start_, "starting the database server");
  }

  // Ends every other session on the server, as a proxy or firewall cutting
  // connections would (PostgreSQL only).
  void cut_connections() {
    pqxx::connection c{url_};
    pqxx::nontransaction tx{c};
    tx.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE pid <> pg_backend_pid() AND datname = current_database()");
  }

private:
  static std::atomic<int>& counter() {
    static std::atomic<int> n{0};
    return n;
  }

  static void run(const std::string& cmd, const char* what) {
    if (cmd.empty() || std::system(cmd.c_str()) != 0)
      throw std::runtime_error(std::string{what} + " failed: " + cmd);
  }

  std::string url_;
  std::string stop_;
  std::string start_;
  std::filesystem::path dir_;
  std::vector<std::string> schemas_;
};

} // namespace parley::test
