#include "net/listener.hpp"

#include <chrono>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>

#include "net/context.hpp"
#include "net/http_session.hpp"
#include "net/log.hpp"

namespace parley::net {

listener::listener(std::vector<asio::io_context*> iocs, context& ctx)
  : iocs_(std::move(iocs)),
    ctx_(ctx),
    acceptor_(*iocs_.front()),
    retry_(*iocs_.front()) {
  // nop
}

beast::error_code listener::open(const tcp::endpoint& ep) {
  beast::error_code ec;
  acceptor_.open(ep.protocol(), ec);
  if (ec)
    return ec;
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec)
    return ec;
  acceptor_.bind(ep, ec);
  if (ec)
    return ec;
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  return ec;
}

tcp::endpoint listener::local_endpoint() const {
  beast::error_code ec;
  return acceptor_.local_endpoint(ec);
}

void listener::run() {
  asio::dispatch(acceptor_.get_executor(),
                 beast::bind_front_handler(&listener::do_accept,
                                           shared_from_this()));
}

void listener::stop() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
    beast::error_code ec;
    self->acceptor_.close(ec);
    self->retry_.cancel();
  });
}

void listener::do_accept() {
  // The new socket belongs to the next io context, round robin.
  auto& ioc = *iocs_[next_++ % iocs_.size()];
  acceptor_.async_accept(ioc.get_executor(),
                         beast::bind_front_handler(&listener::on_accept,
                                                   shared_from_this()));
}

void listener::on_accept(beast::error_code ec, socket_type socket) {
  if (ec)
    return on_accept_error(ec);
  if (ctx_.stopping)
    return; // the socket closes as it goes out of scope
  // Chunks are small frames that must leave now, not after Nagle's delay.
  socket.set_option(tcp::no_delay(true), ec);
  std::make_shared<http_session>(std::move(socket), ctx_)->run();
  do_accept();
}

void listener::on_accept_error(beast::error_code ec) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open())
    return; // stopped
  fail(ec, "accept");
  // Out of descriptors (EMFILE) and the like pass: try again shortly
  // instead of giving up listening for good, or spinning.
  retry_.expires_after(std::chrono::milliseconds(100));
  retry_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec)
      return;
    self->do_accept();
  });
}

} // namespace parley::net
