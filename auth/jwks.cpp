#include "auth/jwks.hpp"

#include "config/log.hpp"

namespace parley::auth {

jwks_cache::jwks_cache(std::string url) : jwks_cache(std::move(url), {}) {
  // nop
}

jwks_cache::jwks_cache(std::string url, options opts)
    : url_(std::move(url)), opts_(std::move(opts)),
      keys_(std::make_shared<const jwk_set>()) {
  // nop
}

jwks_cache::~jwks_cache() {
  stop();
}

jwks_cache::clock::time_point jwks_cache::now() const {
  return opts_.now ? opts_.now() : clock::now();
}

std::shared_ptr<const jwk_set> jwks_cache::keys() {
  std::shared_ptr<const jwk_set> result;
  bool stale = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    result = keys_;
    stale = !loaded_at_ || now() - *loaded_at_ >= opts_.max_age;
  }
  if (stale)
    refresh_async(nullptr);
  return result;
}

std::string jwks_cache::refresh() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    last_attempt_ = now();
  }
  return load();
}

bool jwks_cache::refresh_async(done_fn done) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (stop_)
    return false;
  if (!in_flight_) {
    auto t = now();
    if (last_attempt_ && t - *last_attempt_ < opts_.min_refresh_interval)
      return false;
    last_attempt_ = t;
    in_flight_ = true;
    requested_ = true;
    if (!worker_.joinable())
      worker_ = std::thread{[this] { run(); }};
    cv_.notify_one();
  }
  if (done)
    waiters_.push_back(std::move(done));
  return true;
}

void jwks_cache::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stop_ = true;
  }
  cv_.notify_one();
  if (worker_.joinable())
    worker_.join();
}

std::size_t jwks_cache::fetch_count() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return fetches_;
}

std::string jwks_cache::load() {
  auto fetched = fetch_document(url_, opts_.limits);
  auto error = std::move(fetched.error);
  std::shared_ptr<const jwk_set> fresh;
  if (error.empty()) {
    auto parsed = parse_jwks(fetched.body);
    for (auto& line : parsed.skipped)
      log_warn("JWKS ", redact_url(url_), ": skipped ", line);
    if (parsed.keys)
      fresh = std::move(parsed.keys);
    else
      error = "JWKS " + redact_url(url_) + ": " + parsed.error;
  }
  {
    std::lock_guard<std::mutex> guard{mtx_};
    ++fetches_;
    if (fresh) {
      keys_ = fresh;
      loaded_at_ = now();
    }
  }
  if (fresh)
    log_debug("JWKS ", redact_url(url_), ": ", fresh->size(), " keys loaded");
  else
    log_warn(error, " (keeping the previous keys)");
  return error;
}

void jwks_cache::run() {
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || requested_; });
    std::string error;
    if (requested_ && !stop_) {
      requested_ = false;
      lock.unlock();
      error = load();
      lock.lock();
    } else if (requested_) {
      requested_ = false;
      error = "JWKS cache is shutting down";
    }
    in_flight_ = false;
    auto waiters = std::move(waiters_);
    waiters_.clear();
    lock.unlock();
    for (auto& f : waiters)
      f(error);
    lock.lock();
    if (stop_)
      return;
  }
}

} // namespace parley::auth
