#include "storage/sqlite_checkpointer.hpp"

#include <sqlite3.h>

#include "storage/sqlite_statement.hpp"

namespace parley::storage {

void sqlite_checkpointer::closer::operator()(sqlite3* db) const noexcept {
  sqlite3_close_v2(db);
}

sqlite_checkpointer::sqlite_checkpointer(const std::string& path,
                                         int busy_timeout_ms) {
  sqlite3* raw = nullptr;
  // Used by its own thread only, hence no mutex.
  auto rc = sqlite3_open_v2(
      path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  db_.reset(raw);
  if (rc != SQLITE_OK)
    throw_sqlite_error(raw,
                       "opening the checkpoint connection to \"" + path + "\"");
  // Another process may hold the database while it migrates: wait as the
  // writer does.
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  // A checkpoint syncs as its connection's setting says: as the writer's.
  // The pragma also reads the database, so the connection knows it is in
  // WAL mode; a checkpoint on a connection that does not is a no-op.
  rc = sqlite3_exec(raw, "PRAGMA synchronous = NORMAL", nullptr, nullptr,
                    nullptr);
  if (rc != SQLITE_OK)
    throw_sqlite_error(raw, "setting synchronous=NORMAL for checkpoints");
  thread_ = std::thread{[this] { loop(); }};
}

sqlite_checkpointer::~sqlite_checkpointer() {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    stopping_ = true;
  }
  wakeup_.notify_one();
  thread_.join();
}

void sqlite_checkpointer::wake() {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    due_ = true;
  }
  wakeup_.notify_one();
}

void sqlite_checkpointer::loop() {
  std::unique_lock<std::mutex> lock{mutex_};
  for (;;) {
    wakeup_.wait(lock, [this] { return due_ || stopping_; });
    if (stopping_)
      return;
    due_ = false;
    lock.unlock();
    // PASSIVE copies what no reader still needs and never waits for the
    // writer. A failure (a busy lock, a full disk) leaves the frames in the
    // log, where they are safe; the next wake tries again, and the writer
    // bounds the log itself if they keep failing.
    sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                              nullptr, nullptr);
    ++runs_;
    lock.lock();
  }
}

} // namespace parley::storage
