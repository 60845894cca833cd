#pragma once

// A cache of the issuer's signing keys (PARLEY_JWKS_URL), looked up by kid
// on every verification and refreshed when a token names a kid it lacks, as
// Clerk-style issuers rotate keys. Thread-safe.
//
// Threads: keys() never blocks on the network. refresh() does (file read or
// HTTP request): call it at start-up or from a thread of your own, never on a
// CAF scheduler thread or an io thread. refresh_async() runs the fetch on the
// cache's own worker thread instead and calls back there.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "auth/fetch.hpp"
#include "auth/jwk.hpp"

namespace parley::auth {

class jwks_cache {
public:
  using clock = std::chrono::steady_clock;

  struct options {
    // At most one fetch per interval, whatever tokens arrive: a client that
    // sends random kids cannot turn us into a load generator for the issuer.
    std::chrono::seconds min_refresh_interval{30};
    // Keys older than this are refetched in the background on the next
    // lookup, so that a key the issuer withdrew stops working eventually.
    std::chrono::seconds max_age{3600};
    fetch_limits limits;
    // The time source; empty means clock::now. Tests pass a fake.
    std::function<clock::time_point()> now;
  };

  // Runs on the worker thread once a fetch ended; `error` is empty on
  // success. Must not destroy or stop() the cache (it would join itself).
  using done_fn = std::function<void(const std::string& error)>;

  explicit jwks_cache(std::string url);

  jwks_cache(std::string url, options opts);

  jwks_cache(const jwks_cache&) = delete;

  jwks_cache& operator=(const jwks_cache&) = delete;

  // Calls stop().
  ~jwks_cache();

  const std::string& url() const noexcept {
    return url_;
  }

  // The current keys, never nullptr (empty before the first good fetch).
  // When they are missing or older than max_age, also starts a background
  // refresh if the rate limit allows. Never blocks on the network.
  std::shared_ptr<const jwk_set> keys();

  // BLOCKING: fetches now, ignoring the rate limit (but counting as an
  // attempt for it). Returns an empty string on success, else the reason;
  // on failure the previous keys stay in use.
  std::string refresh();

  // Non-blocking. Starts a fetch on the worker thread when the rate limit
  // allows, or joins the fetch under way; `done` (may be empty) then runs on
  // the worker thread after it. Returns false, and never calls `done`, when
  // no fetch is allowed now or the cache is stopping.
  bool refresh_async(done_fn done);

  // Ends the worker thread: a fetch under way finishes first, waiters of a
  // fetch not yet started are called with an error. Idempotent.
  void stop();

  // Fetches finished so far (successful or not), for tests and metrics.
  std::size_t fetch_count() const;

private:
  clock::time_point now() const;

  // Fetches, parses and installs; returns the error text or "".
  std::string load();

  void run();

  const std::string url_;
  const options opts_;
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::shared_ptr<const jwk_set> keys_;           // guarded by mtx_
  std::optional<clock::time_point> last_attempt_; // guarded by mtx_
  std::optional<clock::time_point> loaded_at_;    // guarded by mtx_
  bool requested_ = false;                        // the worker should fetch
  bool in_flight_ = false;                        // requested or fetching
  bool stop_ = false;
  std::vector<done_fn> waiters_; // of the fetch in flight
  std::size_t fetches_ = 0;
  std::thread worker_; // started by the first refresh_async()
};

} // namespace parley::auth
