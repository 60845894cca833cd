#include "agent/curl_loop.hpp"

#include <algorithm>
#include <stdexcept>

namespace parley::agent {

namespace {

// curl_global_init is not thread-safe; everything else may follow it.
void init_curl_once() {
  static const bool ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!ok)
    throw std::runtime_error("curl_global_init failed");
}

// The longest sleep between checks of stopping_; wakeups make it rare.
constexpr int max_wait_ms = 1000;

} // namespace

curl_loop::curl_loop() {
  init_curl_once();
  multi_ = curl_multi_init();
  if (multi_ == nullptr)
    throw std::runtime_error("curl_multi_init failed");
  // Many streams to one host share HTTP/2 connections when the server
  // offers it; over HTTP/1.1 each stream needs its own connection.
  curl_multi_setopt(multi_, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  // Keep enough idle connections that a burst of replies reuses them.
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, 256L);
  thread_ = std::thread{[this] { run(); }};
}

curl_loop::~curl_loop() {
  stop();
  for (auto& [easy, handler] : handlers_)
    curl_multi_remove_handle(multi_, easy);
  handlers_.clear();
  timers_.clear();
  curl_multi_cleanup(multi_);
}

bool curl_loop::post(std::function<void()> f) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (closed_)
      return false;
    posted_.push_back(std::move(f));
  }
  curl_multi_wakeup(multi_);
  return true;
}

void curl_loop::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (closed_)
      return;
    closed_ = true;
  }
  stopping_ = true;
  curl_multi_wakeup(multi_);
  if (thread_.joinable())
    thread_.join();
  // Functions posted but never run may hold resources (actor handles):
  // release them here, on the stopping thread, while their owners live.
  std::vector<std::function<void()>> dropped;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    dropped.swap(posted_);
  }
}

void curl_loop::add(CURL* easy, transfer_handler* handler) {
  handlers_.emplace(easy, handler);
  curl_multi_add_handle(multi_, easy);
}

void curl_loop::remove(CURL* easy) {
  if (handlers_.erase(easy) > 0)
    curl_multi_remove_handle(multi_, easy);
}

curl_loop::timer_key curl_loop::schedule(clock::time_point at,
                                         std::function<void()> f) {
  timer_key key{at, ++next_timer_};
  timers_.emplace(key, std::move(f));
  return key;
}

void curl_loop::cancel(const timer_key& key) {
  timers_.erase(key);
}

void curl_loop::run() {
  while (!stopping_) {
    run_posted();
    run_timers();
    int running = 0;
    curl_multi_perform(multi_, &running);
    collect_finished();
    int numfds = 0;
    curl_multi_poll(multi_, nullptr, 0, wait_ms(), &numfds);
  }
}

void curl_loop::run_posted() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    batch.swap(posted_);
  }
  for (auto& f : batch)
    f();
}

void curl_loop::run_timers() {
  auto now = clock::now();
  // A timer may schedule or cancel others: take one at a time.
  while (!timers_.empty() && timers_.begin()->first.first <= now) {
    auto f = std::move(timers_.begin()->second);
    timers_.erase(timers_.begin());
    f();
  }
}

void curl_loop::collect_finished() {
  int left = 0;
  while (auto msg = curl_multi_info_read(multi_, &left)) {
    if (msg->msg != CURLMSG_DONE)
      continue;
    auto easy = msg->easy_handle;
    auto result = msg->data.result;
    auto i = handlers_.find(easy);
    if (i == handlers_.end())
      continue;
    auto handler = i->second;
    handlers_.erase(i);
    curl_multi_remove_handle(multi_, easy);
    handler->on_complete(result);
  }
}

int curl_loop::wait_ms() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!posted_.empty())
      return 0;
  }
  long wait = max_wait_ms;
  long curl_wait = -1;
  curl_multi_timeout(multi_, &curl_wait);
  if (curl_wait >= 0)
    wait = std::min(wait, curl_wait);
  if (!timers_.empty()) {
    auto due = timers_.begin()->first.first - clock::now();
    auto ms
      = std::chrono::duration_cast<std::chrono::milliseconds>(due).count();
    // Round up: waking a little early would only spin until the deadline.
    wait = std::min<long>(wait, std::max<long>(0, ms + 1));
  }
  return static_cast<int>(wait);
}

} // namespace parley::agent
