#pragma once

// Accepts TCP connections and gives each an http_session on one of the io
// contexts, in turn.

#include <cstddef>
#include <memory>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "net/asio.hpp"

namespace parley::net {

struct context;

class listener : public std::enable_shared_from_this<listener> {
public:
  // Accepts on `iocs[0]`; connections go to each of `iocs` in turn.
  listener(std::vector<asio::io_context*> iocs, context& ctx);

  // Opens, binds and listens on `ep`; the error on failure.
  beast::error_code open(const tcp::endpoint& ep);

  tcp::endpoint local_endpoint() const;

  void run();

  // Stops accepting; callable from any thread.
  void stop();

private:
  void do_accept();
  void on_accept(beast::error_code ec, socket_type socket);
  void on_accept_error(beast::error_code ec);

  std::vector<asio::io_context*> iocs_;
  std::size_t next_ = 0;
  context& ctx_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_;
};

} // namespace parley::net
