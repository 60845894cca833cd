#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "storage/sqlite_connection.hpp"

namespace parley::storage {

// Copies a WAL database's log back into its main file on a thread of its own.
// sqlite's automatic checkpoint runs inside the commit that crosses its
// threshold, and a checkpoint syncs the log and the database: milliseconds on
// a virtual disk, during which every write waiting behind that commit (and
// every reply waiting for its user message to be stored) waits too. A
// PASSIVE checkpoint on another connection runs beside the writer instead.
class sqlite_checkpointer {
public:
  // Opens a connection of its own to `path`, which must be in WAL mode,
  // waiting up to `busy_timeout_ms` for another connection's lock.
  sqlite_checkpointer(const std::string& path, int busy_timeout_ms);
  // Stops the thread; a checkpoint under way finishes first.
  ~sqlite_checkpointer();

  sqlite_checkpointer(const sqlite_checkpointer&) = delete;
  sqlite_checkpointer& operator=(const sqlite_checkpointer&) = delete;

  // Wakes the thread for a checkpoint.
  void wake();

  // Checkpoints run so far, successful or not.
  std::uint64_t runs() const {
    return runs_.load();
  }

private:
  void loop();

  sqlite_connection db_;
  std::mutex mutex_;
  std::condition_variable wakeup_;
  bool due_ = false;
  bool stopping_ = false;
  std::atomic<std::uint64_t> runs_{0};
  // Last: starts once everything above is ready.
  std::thread thread_;
};

} // namespace parley::storage
