#pragma once

#include <stdexcept>

namespace parley::storage {

// What a failing store call throws, by what the caller can do about it. Any
// other std::runtime_error is about the data (a duplicate id, an unknown
// session) and fails again if retried.

// The text of a record cannot be stored (invalid UTF-8, a NUL character).
// Thrown before the database is touched.
class invalid_input : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// The database cannot be reached or the connection broke. Nothing of the
// failed call was committed, so retrying it later is safe.
class unavailable : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// The connection broke while committing: the writes may or may not be in the
// database, so they must neither be acknowledged nor silently retried.
class commit_unknown : public unavailable {
public:
  using unavailable::unavailable;
};

} // namespace parley::storage
