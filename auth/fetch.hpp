#pragma once

// Reads a JWKS document from file:// (the disk) or http(s):// (libcurl).
// BLOCKING: up to `timeout` per call. Never call it on a CAF scheduler
// thread or an io thread; jwks_cache runs it on its own worker thread.

#include <chrono>
#include <cstddef>
#include <string>

namespace parley::auth {

struct fetch_limits {
  std::chrono::milliseconds timeout{5000}; // whole transfer, connect included
  std::size_t max_bytes = 1024 * 1024;     // a JWKS is a few KiB
};

struct fetch_result {
  std::string body;  // valid when `error` is empty
  std::string error; // one line naming the URL and the cause
};

// Supported: file:///abs/path, file://localhost/abs/path, http://, https://.
// HTTP answers other than 200 are errors; redirects are followed (at most 3,
// http(s) only, so a redirect cannot reach file:// or another scheme).
fetch_result fetch_document(const std::string& url,
                            const fetch_limits& limits = {});

// `url` without "user:password@", for logs and errors.
std::string redact_url(const std::string& url);

} // namespace parley::auth
