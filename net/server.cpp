#include "net/server.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <exception>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>

#include "actors/engine.hpp"
#include "config/log.hpp"
#include "config/settings.hpp"
#include "net/asio.hpp"
#include "net/context.hpp"
#include "net/http_session.hpp"
#include "net/listener.hpp"
#include "auth/authenticator.hpp"
#include "net/ws_session.hpp"

namespace parley::net {

namespace {

// The whole shutdown, signal to return, stays within this.
constexpr auto shutdown_budget = std::chrono::milliseconds(4500);

tcp::endpoint resolve(asio::io_context& ioc, const settings& cfg,
                      beast::error_code& ec) {
  auto address = asio::ip::make_address(cfg.host, ec);
  if (!ec)
    return {address, cfg.port};
  tcp::resolver resolver{ioc};
  auto results = resolver.resolve(cfg.host, std::to_string(cfg.port),
                                  tcp::resolver::passive, ec);
  if (ec)
    return {};
  return results.begin()->endpoint();
}

std::string to_string(const tcp::endpoint& ep) {
  auto address = ep.address().to_string();
  if (ep.address().is_v6())
    address = "[" + address + "]";
  return address + ":" + std::to_string(ep.port());
}

// One thread per io_context; wait_until() tells when they all left run().
class io_threads {
public:
  explicit io_threads(const std::vector<asio::io_context*>& iocs)
    : running_(iocs.size()) {
    for (auto* ioc : iocs)
      threads_.emplace_back([this, ioc] { run(*ioc); });
  }

  ~io_threads() {
    for (auto& t : threads_)
      t.join();
  }

  bool wait_until(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock<std::mutex> lock{mutex_};
    return done_.wait_until(lock, deadline, [this] { return running_ == 0; });
  }

private:
  void run(asio::io_context& ioc) {
    for (;;) {
      try {
        ioc.run();
        break;
      } catch (const std::exception& e) {
        // A throwing handler must not take the server down with it.
        log_error("net: ", e.what());
      }
    }
    std::lock_guard<std::mutex> guard{mutex_};
    if (--running_ == 0)
      done_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable done_;
  std::size_t running_;
  std::vector<std::thread> threads_;
};

} // namespace

int serve(engine& eng, const settings& cfg) {
  // Declared before the io_contexts: sessions that die with them use it.
  auth::authenticator auth{cfg};
  if (auto problem = auth.preload(); !problem.empty())
    log_warn("authentication: ", problem);
  log_info("authentication: ", auth.summary());
  context ctx{eng, cfg, auth};
  std::vector<std::unique_ptr<asio::io_context>> owned;
  std::vector<asio::io_context*> iocs;
  for (auto n = std::max(1u, std::thread::hardware_concurrency()); n > 0; --n)
    iocs.push_back(
      owned.emplace_back(std::make_unique<asio::io_context>(1)).get());
  auto& main_ioc = *iocs.front();
  beast::error_code ec;
  auto ep = resolve(main_ioc, cfg, ec);
  auto lst = std::make_shared<listener>(iocs, ctx);
  if (!ec)
    ec = lst->open(ep);
  if (ec) {
    log_error("cannot listen on ", cfg.host, ":", cfg.port, ": ", ec.message());
    return 1;
  }
  lst->run();
  log_info("listening on ", to_string(lst->local_endpoint()));

  std::promise<void> stop;
  asio::signal_set signals{main_ioc, SIGINT, SIGTERM};
  signals.async_wait([&stop](beast::error_code ec, int) {
    if (!ec)
      stop.set_value();
  });
  // The other io_contexts have no work yet: keep them running until the end.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>>
    guards;
  guards.reserve(iocs.size());
  for (auto* ioc : iocs)
    guards.push_back(asio::make_work_guard(*ioc));
  {
    io_threads threads{iocs};
    stop.get_future().wait();
    auto deadline = std::chrono::steady_clock::now() + shutdown_budget;
    log_info("stopping");
    // 1. No new connections, no new work for the engine.
    ctx.stopping = true;
    lst->stop();
    for (auto& s : ctx.http_sessions.snapshot())
      s->shutdown();
    // 2. The engine ends streams and stores partial replies; the frames it
    // sends meanwhile reach the sessions' queues before the close below.
    eng.stop();
    // 3. Every WebSocket writes what it has, then closes with 1001.
    for (auto& s : ctx.ws_sessions.snapshot())
      s->shutdown();
    // 4. Let the io_contexts drain; peers that do not answer the close
    // handshake in time are cut off.
    for (auto& g : guards)
      g.reset();
    if (!threads.wait_until(deadline))
      for (auto* ioc : iocs)
        ioc->stop();
  }
  // 5. The actor system's threads end before the io_contexts and the
  // sessions they hold: a worker may be writing a session's frames.
  eng.finish();
  return 0;
}

} // namespace parley::net
