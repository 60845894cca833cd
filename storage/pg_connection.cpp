#include "storage/pg_connection.hpp"

#include <initializer_list>

namespace parley::storage {

namespace {

// SQLSTATEs that mean the session is gone: class 08 (connection
// exception), and the server shutting down, crashed or still starting.
bool connection_lost(const std::string& state) {
  return state.compare(0, 2, "08") == 0 || state == "57P01"
         || state == "57P02" || state == "57P03";
}

// The server's message without libpq's "ERROR:  " prefix and without the
// DETAIL/HINT lines, which may quote stored values.
std::string first_line(const char* text) {
  std::string_view x{text};
  for (auto prefix : {"ERROR:  ", "FATAL:  "})
    if (x.substr(0, std::string_view{prefix}.size()) == prefix)
      x.remove_prefix(std::string_view{prefix}.size());
  x = x.substr(0, x.find('\n'));
  return std::string{x};
}

} // namespace

std::string pg_conninfo(const std::string& url) {
  std::string result = url;
  auto separator = url.find('?') == std::string::npos ? '?' : '&';
  auto add = [&](std::string_view key, std::string_view value) {
    auto param = std::string{key} + '=';
    if (url.find("?" + param) != std::string::npos
        || url.find("&" + param) != std::string::npos)
      return; // the URL's own setting wins
    result += separator;
    result += param;
    result += value;
    separator = '&';
  };
  add("connect_timeout", "5");
  // A peer that vanished without closing (cable cut, VM paused) is noticed
  // within seconds instead of TCP's minutes: unacknowledged data gives up
  // after 10 s, an idle connection is probed after 10 s.
  add("tcp_user_timeout", "10000");
  add("keepalives_idle", "10");
  add("keepalives_interval", "3");
  add("keepalives_count", "3");
  add("client_encoding", "UTF8");
  add("application_name", "parley");
  // NOTICEs such as "relation already exists, skipping" would go to stderr.
  add("options", "-c%20client_min_messages%3Dwarning");
  return result;
}

pg_connection::pg_connection(std::string url, statement_list statements)
  : conninfo_(pg_conninfo(url)), statements_(std::move(statements)) {
  // nop
}

pg_connection::~pg_connection() = default;

pqxx::connection& pg_connection::get() {
  if (!conn_) {
    auto fresh = std::make_unique<pqxx::connection>(conninfo_);
    // Prepared lazily, on first use on this connection.
    for (auto& [name, sql] : statements_)
      fresh->prepare(name, sql);
    conn_ = std::move(fresh);
  }
  return *conn_;
}

void pg_connection::translate(std::string_view what, bool may_retry) {
  auto text = [&](const std::exception& e) {
    return "postgresql: " + std::string{what} + " failed: "
           + first_line(e.what());
  };
  auto lost = [&](const std::exception& e) {
    conn_.reset();
    if (!may_retry)
      throw unavailable(text(e));
  };
  try {
    throw;
  } catch (const pqxx::in_doubt_error& e) {
    conn_.reset();
    throw commit_unknown(text(e));
  } catch (const pqxx::broken_connection& e) {
    lost(e);
  } catch (const pqxx::sql_error& e) {
    if (!connection_lost(e.sqlstate()) && conn_ && conn_->is_open())
      throw std::runtime_error(text(e));
    lost(e);
  } catch (const pqxx::failure& e) {
    if (conn_ && conn_->is_open())
      throw std::runtime_error(text(e));
    lost(e);
  }
}

} // namespace parley::storage
