#include "storage/sqlite_checkpointer.hpp"

#include <sqlite3.h>

#include "storage/sqlite_statement.hpp"

namespace parley::storage {

sqlite_checkpointer::sqlite_checkpointer(const std::string& path,
                                         int busy_timeout_ms)
    // Another process may hold the database while it migrates: the pragma
    // below waits as the writer does.
    : db_(
        open_sqlite(path, false, busy_timeout_ms,
                    "opening the checkpoint connection to \"" + path + "\"")) {
  // A checkpoint syncs as its connection's setting says: as the writer's.
  // The pragma also reads the database, so the connection knows it is in
  // WAL mode; a checkpoint on a connection that does not is a no-op.
  if (sqlite3_exec(db_.get(), "PRAGMA synchronous = NORMAL", nullptr, nullptr,
                   nullptr)
      != SQLITE_OK)
    throw_sqlite_error(db_.get(), "setting synchronous=NORMAL for checkpoints");
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
