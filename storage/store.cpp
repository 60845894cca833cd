#include "storage/store.hpp"

#include <stdexcept>
#include <string_view>

#include "storage/pg_store.hpp"
#include "storage/sqlite_store.hpp"

namespace parley::storage {

namespace {

bool starts_with(std::string_view x, std::string_view prefix) {
  return x.substr(0, prefix.size()) == prefix;
}

} // namespace

std::unique_ptr<store> open_store(const std::string& url) {
  if (starts_with(url, "postgresql://") || starts_with(url, "postgres://"))
    return std::make_unique<pg_store>(url);
  if (starts_with(url, "sqlite:")) {
    // sqlite:PATH, sqlite://PATH (so sqlite:///abs/path is absolute), and
    // sqlite::memory: or sqlite://:memory: for an in-memory database.
    std::string_view path = url;
    path.remove_prefix(7);
    if (starts_with(path, "//"))
      path.remove_prefix(2);
    if (path.empty())
      throw std::runtime_error("database URL \"" + url + "\" names no file");
    return std::make_unique<sqlite_store>(std::string{path});
  }
  // Name only the scheme: the rest of a URL may hold a password.
  auto colon = url.find(':');
  auto scheme = colon == std::string::npos ? url : url.substr(0, colon);
  throw std::runtime_error("unsupported database URL scheme \"" + scheme
                           + "\" (expected sqlite:PATH or postgresql://...)");
}

} // namespace parley::storage
