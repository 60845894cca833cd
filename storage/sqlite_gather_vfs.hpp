#pragma once

namespace parley::storage {

// The name of a sqlite VFS (registered on first use) that writes each
// transaction's write-ahead log in one system call. sqlite writes a WAL
// frame with two calls, its 24-byte header and then its page: a reply's two
// commits took about 24 pwrite calls, most of the storage thread's time.
// This VFS wraps the default one. Writes to a WAL file that continue the
// previous write are gathered in memory; they go out when the commit frame
// is complete (so an error fails the commit, and a commit is in the file,
// safe from a crash of the process, when it returns), and before anything
// else touches the file or the log's shared index: a write elsewhere in
// the file, a read, sync, size, truncate or close; a lock or memory barrier
// of the database's shared memory. Every other file passes straight
// through.
const char* gathering_vfs();

} // namespace parley::storage
