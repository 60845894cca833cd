#include "storage/sqlite_gather_vfs.hpp"

#include <cstddef>
#include <mutex>
#include <new>
#include <stdexcept>
#include <vector>

#include <sqlite3.h>

namespace parley::storage {

namespace {

// The WAL format (sqlite's fileformat2): a 32-byte header, then frames of a
// 24-byte header and a page. The frame header's second big-endian word is
// the database size after the commit in a commit frame, zero otherwise.
constexpr sqlite3_int64 wal_header_size = 32;
constexpr int frame_header_size = 24;

// The most one write may carry: sqlite's unix VFS masks a write's length
// to 17 bits (seekAndWriteFd), as its own writes are a page at most.
constexpr std::size_t max_write = 0x1ffff;

sqlite3_vfs* base_vfs = nullptr;
sqlite3_vfs gather_vfs;

// Laid out in the memory sqlite gives a file of this VFS; the base VFS's
// file follows it.
struct gather_file {
  sqlite3_file base; // first: sqlite sees this
  sqlite3_file* real = nullptr;
  bool wal = false;
  // WAL: bytes [at, at + gathered.size()) of the file, not written yet.
  std::vector<char> gathered;
  sqlite3_int64 at = 0;
  bool commit_frame = false; // the last write was a commit frame's header
  // A database file and its WAL file point at each other while both are
  // open: the database's shared-memory calls flush the log.
  gather_file* partner = nullptr;
};

constexpr std::size_t real_offset
    = (sizeof(gather_file) + alignof(std::max_align_t) - 1)
      / alignof(std::max_align_t) * alignof(std::max_align_t);

gather_file& of(sqlite3_file* f) {
  return *reinterpret_cast<gather_file*>(f);
}

sqlite3_file* real(sqlite3_file* f) {
  return of(f).real;
}

const sqlite3_io_methods& real_io(sqlite3_file* f) {
  return *real(f)->pMethods;
}

int flush(gather_file& g) {
  if (g.gathered.empty())
    return SQLITE_OK;
  auto rc = g.real->pMethods->xWrite(g.real, g.gathered.data(),
                                     static_cast<int>(g.gathered.size()), g.at);
  g.gathered.clear();
  return rc;
}

// The WAL of a database file, if open (only a WAL file links itself to a
// database file): flushed before its shared memory (the log's index, which
// tells readers how far the log goes) changes.
int flush_partner(sqlite3_file* f) {
  auto* wal = of(f).partner;
  return wal != nullptr ? flush(*wal) : SQLITE_OK;
}

// -- io methods --------------------------------------------------------------

int x_close(sqlite3_file* f) {
  auto& g = of(f);
  auto rc = flush(g);
  if (g.partner != nullptr)
    g.partner->partner = nullptr;
  auto rc2 = real_io(f).xClose(real(f));
  g.~gather_file();
  return rc != SQLITE_OK ? rc : rc2;
}

int x_read(sqlite3_file* f, void* out, int n, sqlite3_int64 offset) {
  if (auto rc = flush(of(f)); rc != SQLITE_OK)
    return rc;
  return real_io(f).xRead(real(f), out, n, offset);
}

int x_write(sqlite3_file* f, const void* data, int n, sqlite3_int64 offset) {
  auto& g = of(f);
  if (!g.wal)
    return real_io(f).xWrite(real(f), data, n, offset);
  if (!g.gathered.empty()
      && (offset != g.at + static_cast<sqlite3_int64>(g.gathered.size())
          || g.gathered.size() + static_cast<std::size_t>(n) > max_write)) {
    if (auto rc = flush(g); rc != SQLITE_OK)
      return rc;
  }
  if (g.gathered.empty())
    g.at = offset;
  auto* bytes = static_cast<const unsigned char*>(data);
  g.gathered.insert(g.gathered.end(), bytes, bytes + n);
  // The page after a commit frame's header ends the transaction.
  auto ends_commit = g.commit_frame;
  g.commit_frame = n == frame_header_size && offset >= wal_header_size
                   && (bytes[4] | bytes[5] | bytes[6] | bytes[7]) != 0;
  if (ends_commit)
    return flush(g);
  return SQLITE_OK;
}

int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  if (auto rc = flush(of(f)); rc != SQLITE_OK)
    return rc;
  return real_io(f).xTruncate(real(f), size);
}

int x_sync(sqlite3_file* f, int flags) {
  if (auto rc = flush(of(f)); rc != SQLITE_OK)
    return rc;
  return real_io(f).xSync(real(f), flags);
}

int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
  if (auto rc = flush(of(f)); rc != SQLITE_OK)
    return rc;
  return real_io(f).xFileSize(real(f), size);
}

int x_lock(sqlite3_file* f, int level) {
  return real_io(f).xLock(real(f), level);
}

int x_unlock(sqlite3_file* f, int level) {
  return real_io(f).xUnlock(real(f), level);
}

int x_check_reserved_lock(sqlite3_file* f, int* out) {
  return real_io(f).xCheckReservedLock(real(f), out);
}

int x_file_control(sqlite3_file* f, int op, void* arg) {
  if (auto rc = flush(of(f)); rc != SQLITE_OK)
    return rc;
  return real_io(f).xFileControl(real(f), op, arg);
}

int x_sector_size(sqlite3_file* f) {
  return real_io(f).xSectorSize(real(f));
}

int x_device_characteristics(sqlite3_file* f) {
  return real_io(f).xDeviceCharacteristics(real(f));
}

int x_shm_map(sqlite3_file* f, int region, int size, int extend,
              void volatile** out) {
  return real_io(f).xShmMap(real(f), region, size, extend, out);
}

int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  if (auto rc = flush_partner(f); rc != SQLITE_OK)
    return rc;
  return real_io(f).xShmLock(real(f), offset, n, flags);
}

void x_shm_barrier(sqlite3_file* f) {
  // A commit flushed in x_write already; this keeps the order for a log
  // written some other way, where an error has no way back to sqlite.
  static_cast<void>(flush_partner(f));
  real_io(f).xShmBarrier(real(f));
}

int x_shm_unmap(sqlite3_file* f, int delete_flag) {
  if (auto rc = flush_partner(f); rc != SQLITE_OK)
    return rc;
  return real_io(f).xShmUnmap(real(f), delete_flag);
}

int x_fetch(sqlite3_file* f, sqlite3_int64 offset, int n, void** out) {
  if (auto rc = flush(of(f)); rc != SQLITE_OK)
    return rc;
  return real_io(f).xFetch(real(f), offset, n, out);
}

int x_unfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) {
  return real_io(f).xUnfetch(real(f), offset, p);
}

const sqlite3_io_methods gather_io = {
    3,
    x_close,
    x_read,
    x_write,
    x_truncate,
    x_sync,
    x_file_size,
    x_lock,
    x_unlock,
    x_check_reserved_lock,
    x_file_control,
    x_sector_size,
    x_device_characteristics,
    x_shm_map,
    x_shm_lock,
    x_shm_barrier,
    x_shm_unmap,
    x_fetch,
    x_unfetch,
};

int x_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags,
           int* out_flags) {
  auto* g = new (f) gather_file{};
  g->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f)
                                            + real_offset);
  g->wal = (flags & SQLITE_OPEN_WAL) != 0;
  auto rc = base_vfs->xOpen(base_vfs, name, g->real, flags, out_flags);
  if (g->real->pMethods == nullptr) {
    // Nothing to close: sqlite will not call x_close either.
    g->~gather_file();
    f->pMethods = nullptr;
    return rc;
  }
  if (g->real->pMethods->iVersion < 3) {
    // Every method of this VFS forwards, shared memory included.
    g->real->pMethods->xClose(g->real);
    g->~gather_file();
    f->pMethods = nullptr;
    return SQLITE_CANTOPEN;
  }
  f->pMethods = &gather_io;
  if (rc == SQLITE_OK && g->wal && name != nullptr) {
    auto* db = sqlite3_database_file_object(name);
    if (db != nullptr && db->pMethods == &gather_io) {
      g->partner = &of(db);
      of(db).partner = g;
    }
  }
  return rc;
}

} // namespace

const char* gathering_vfs() {
  static std::once_flag once;
  std::call_once(once, [] {
    base_vfs = sqlite3_vfs_find(nullptr);
    if (base_vfs == nullptr || base_vfs->iVersion < 2)
      throw std::runtime_error("sqlite has no usable default VFS");
    // The base VFS's other methods serve as they are (sqlite's own shims,
    // test_multiplex.c for one, do the same).
    gather_vfs = *base_vfs;
    gather_vfs.szOsFile = static_cast<int>(real_offset) + base_vfs->szOsFile;
    gather_vfs.pNext = nullptr;
    gather_vfs.zName = "parley-gather";
    gather_vfs.xOpen = x_open;
    if (sqlite3_vfs_register(&gather_vfs, 0) != SQLITE_OK)
      throw std::runtime_error("cannot register the gathering sqlite VFS");
  });
  return gather_vfs.zName;
}

} // namespace parley::storage
