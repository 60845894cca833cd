#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <curl/curl.h>

namespace parley::agent {

// Told when a transfer that was added to the loop has finished.
class transfer_handler {
public:
  virtual ~transfer_handler() = default;
  // Runs on the loop thread after the easy handle left the multi handle.
  virtual void on_complete(CURLcode result) = 0;
};

// One thread running libcurl's multi interface: every upstream transfer of
// the process shares it, so 1,000 streams cost 1,000 sockets, not 1,000
// threads. Other threads talk to it only through post(); everything else
// runs on the loop thread (in posted functions, timers and curl callbacks).
//
//   any thread ── post(f) ──> queue ── curl_multi_wakeup ──┐
//                                                          v
//   loop thread:  posted fs -> due timers -> curl_multi_perform
//                 (write/header callbacks) -> finished transfers
//                 -> curl_multi_poll(sockets, next deadline)
class curl_loop {
public:
  using clock = std::chrono::steady_clock;

  // A timer's name, for cancel(): its deadline and a unique number.
  using timer_key = std::pair<clock::time_point, std::uint64_t>;

  curl_loop();
  ~curl_loop();
  curl_loop(const curl_loop&) = delete;
  curl_loop& operator=(const curl_loop&) = delete;

  // Any thread: runs `f` on the loop thread soon. After stop(), `f` is
  // destroyed without running. Returns false then.
  bool post(std::function<void()> f);

  // Any thread but the loop's: stops the loop and joins its thread.
  // Transfers still running are abandoned (their handlers are not told).
  void stop();

  // -- loop thread only
  // --------------------------------------------------------

  // Starts `easy`; `handler` hears of its end unless remove() comes first.
  // Not from inside a curl callback.
  void add(CURL* easy, transfer_handler* handler);

  // Stops `easy` early. Not from inside a curl callback.
  void remove(CURL* easy);

  timer_key schedule(clock::time_point at, std::function<void()> f);
  void cancel(const timer_key& key);

  std::size_t transfers() const {
    return handlers_.size();
  }

private:
  void run();
  void run_posted();
  void run_timers();
  void collect_finished();
  int wait_ms();

  CURLM* multi_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};

  std::mutex mtx_; // guards posted_ and closed_
  std::vector<std::function<void()>> posted_;
  bool closed_ = false;

  std::unordered_map<CURL*, transfer_handler*> handlers_;
  std::map<timer_key, std::function<void()>> timers_;
  std::uint64_t next_timer_ = 0;
};

} // namespace parley::agent
