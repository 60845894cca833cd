#pragma once

#include <chrono>
#include <sstream>
#include <string>
#include <string_view>

namespace parley {

// A tiny leveled logger: one line per call on stderr, safe from any thread.
// Debian's CAF build compiles CAF_LOG_* away, so parley logs through this.
enum class log_level { debug, info, warn, error };

// Sets the threshold from "debug", "info", "warn" or "error"; any other text
// leaves it unchanged (settings validate PARLEY_LOG_LEVEL before this).
void set_log_level(std::string_view name);
void set_log_level(log_level level);
log_level current_log_level();

// Whether a message at `level` would be written; lets callers skip costly
// formatting.
bool log_enabled(log_level level);

// Writes one line, e.g. "2024-05-01T12:00:00.123Z WARN text", when enabled.
void log_write(log_level level, std::string_view text);

// The line log_write() would print (without the newline): exposed for tests.
// Control characters in `text` are escaped so a call never spans lines.
std::string format_log_line(std::chrono::system_clock::time_point at,
                            log_level level, std::string_view text);

// Streams every argument into one line: log_info("port ", port, " open").
// Arguments are only formatted when the level is enabled.
// (Not named plain `log`: that would hide std::log inside namespace parley.)
template <class... Ts>
void log_at(log_level level, const Ts&... xs) {
  if (!log_enabled(level))
    return;
  std::ostringstream out;
  (out << ... << xs);
  log_write(level, out.str());
}

template <class... Ts>
void log_debug(const Ts&... xs) {
  log_at(log_level::debug, xs...);
}

template <class... Ts>
void log_info(const Ts&... xs) {
  log_at(log_level::info, xs...);
}

template <class... Ts>
void log_warn(const Ts&... xs) {
  log_at(log_level::warn, xs...);
}

template <class... Ts>
void log_error(const Ts&... xs) {
  log_at(log_level::error, xs...);
}

} // namespace parley
