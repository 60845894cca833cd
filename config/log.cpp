#include "config/log.hpp"

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace parley {

namespace {

std::atomic<int> threshold{static_cast<int>(log_level::info)};

// Serializes whole lines so concurrent calls never interleave.
std::mutex output_mutex;

const char* level_name(log_level level) {
  switch (level) {
  case log_level::debug:
    return "DEBUG";
  case log_level::info:
    return "INFO";
  case log_level::warn:
    return "WARN";
  case log_level::error:
    return "ERROR";
  }
  return "?";
}

void append_escaped(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 0xf];
    } else {
      out += c;
    }
  }
}

} // namespace

void set_log_level(std::string_view name) {
  if (name == "debug")
    set_log_level(log_level::debug);
  else if (name == "info")
    set_log_level(log_level::info);
  else if (name == "warn")
    set_log_level(log_level::warn);
  else if (name == "error")
    set_log_level(log_level::error);
}

void set_log_level(log_level level) {
  threshold.store(static_cast<int>(level), std::memory_order_relaxed);
}

log_level current_log_level() {
  return static_cast<log_level>(threshold.load(std::memory_order_relaxed));
}

bool log_enabled(log_level level) {
  return static_cast<int>(level) >= threshold.load(std::memory_order_relaxed);
}

std::string format_log_line(std::chrono::system_clock::time_point at,
                            log_level level, std::string_view text) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(at.time_since_epoch()).count();
  // Floor division keeps times before 1970 well-formed.
  auto secs = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
  auto millis = ms - secs * 1000;
  auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[64];
  std::snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(millis));
  std::string line = stamp;
  line += ' ';
  line += level_name(level);
  line += ' ';
  append_escaped(line, text);
  return line;
}

void log_write(log_level level, std::string_view text) {
  if (!log_enabled(level))
    return;
  auto line = format_log_line(std::chrono::system_clock::now(), level, text);
  line += '\n';
  std::lock_guard<std::mutex> guard{output_mutex};
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

} // namespace parley
