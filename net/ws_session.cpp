#include "net/ws_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "actors/engine.hpp"
#include "config/settings.hpp"
#include "net/context.hpp"
#include "net/ids.hpp"
#include "net/log.hpp"
#include "net/visitor_dialect.hpp"

namespace parley::net {

namespace {

frame_ptr error_frame(std::string session_id, std::string text) {
  event ev;
  ev.kind = event_kind::error;
  ev.session_id = std::move(session_id);
  ev.text = std::move(text);
  return encode_visitor(ev);
}

// The same bytes for every connection that names no session.
const frame_ptr& connected_frame() {
  static const frame_ptr frame = [] {
    event ev;
    ev.kind = event_kind::connected;
    return encode_visitor(ev);
  }();
  return frame;
}

} // namespace

ws_session::ws_session(socket_type&& socket, context& ctx)
  : ws_(std::move(socket)), ctx_(ctx) {
  // nop
}

ws_session::~ws_session() {
  ctx_.ws_sessions.remove(this);
  if (conn_ != 0)
    ctx_.eng.detach(conn_);
}

void ws_session::run(http_request req, std::string session_id,
                     std::string visitor_id) {
  using websocket::stream_base;
  auto timeouts = stream_base::timeout::suggested(beast::role_type::server);
  // Ping a silent peer at half the idle timeout instead of dropping it: a
  // visitor who only reads must outlive the session_end timer.
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  // A larger message fails the read and closes with 1009 (too big).
  ws_.read_message_max(ctx_.cfg.max_frame_bytes);
  ws_.auto_fragment(false);
  ws_.text(true);
  ws_.async_accept(req, beast::bind_front_handler(
                          &ws_session::on_accept, shared_from_this(),
                          std::move(session_id), std::move(visitor_id)));
}

void ws_session::send(frame_ptr frame) {
  asio::post(ws_.get_executor(),
             [self = shared_from_this(), frame = std::move(frame)]() mutable {
               self->deliver(std::move(frame));
             });
}

void ws_session::shutdown() {
  asio::post(ws_.get_executor(), [self = shared_from_this()] {
    self->close(websocket::close_code::going_away);
  });
}

void ws_session::on_accept(std::string session_id, std::string visitor_id,
                           beast::error_code ec) {
  if (ec)
    return fail(ec, "ws accept");
  ctx_.ws_sessions.add(shared_from_this());
  do_read();
  if (ctx_.stopping)
    return close(websocket::close_code::going_away);
  conn_ = ctx_.eng.attach(weak_from_this(), &encode_visitor);
  if (session_id.empty())
    return deliver(connected_frame());
  if (!is_uuid(session_id))
    return deliver(error_frame({}, "Session not found"));
  if (is_uuid(visitor_id))
    visitor_id = canonical_uuid(visitor_id);
  ctx_.eng.open(conn_, canonical_uuid(session_id), std::move(visitor_id));
}

void ws_session::do_read() {
  // Beast sizes the buffer for the frame it waits for (about 1.5 KB) before
  // any byte arrives. Asking for one byte keeps an idle socket's buffer
  // empty; on_read fetches the rest of the message.
  ws_.async_read_some(buffer_, 1,
                      beast::bind_front_handler(&ws_session::on_read,
                                                shared_from_this()));
}

void ws_session::on_read(beast::error_code ec, std::size_t) {
  if (ec) {
    // The socket is closed or closing (Beast answered a peer's close, or
    // sent 1009 or 1007 itself): drop further frames, send no close.
    closing_ = close_sent_ = true;
    return fail(ec, "ws read");
  }
  if (!ws_.is_message_done())
    return ws_.async_read(buffer_, beast::bind_front_handler(
                                     &ws_session::on_read, shared_from_this()));
  on_message();
  // Give the message's memory back: idle sockets hold no buffer.
  buffer_.clear();
  buffer_.shrink_to_fit();
  do_read();
}

void ws_session::on_message() {
  if (!ws_.got_text())
    return deliver(error_frame({}, "Binary frames are not supported"));
  auto data = buffer_.cdata();
  auto cmd = decode_visitor(
    std::string_view{static_cast<const char*>(data.data()), data.size()});
  using kind = visitor_command::kind_type;
  switch (cmd.kind) {
    case kind::ping:
      return deliver(visitor_pong());
    case kind::invalid:
      return deliver(
        error_frame(std::move(cmd.session_id), std::move(cmd.error)));
    case kind::chat_message:
      if (ctx_.stopping)
        return deliver(
          error_frame(std::move(cmd.session_id), "Server is shutting down"));
      ctx_.eng.post(conn_, std::move(cmd.session_id), std::move(cmd.visitor_id),
                    std::move(cmd.message));
  }
}

void ws_session::deliver(frame_ptr frame) {
  if (closing_ || !frame)
    return;
  auto pending = queue_.size() - head_;
  if (pending >= hard_max_queue
      || (pending >= max_queue
          && std::chrono::steady_clock::now() - write_started_ > stall)) {
    // The peer reads nothing. Keep only the frame being written (the write
    // refers to it), then close with 1008 once that write ends.
    queue_.resize(head_ + 1);
    return close(websocket::close_code::policy_error);
  }
  queue_.push_back(std::move(frame));
  if (queue_.size() - head_ == 1)
    do_write();
}

void ws_session::do_write() {
  write_started_ = std::chrono::steady_clock::now();
  ws_.async_write(asio::buffer(*queue_[head_]),
                  beast::bind_front_handler(&ws_session::on_write,
                                            shared_from_this()));
}

void ws_session::on_write(beast::error_code ec, std::size_t) {
  if (ec) {
    closing_ = close_sent_ = true;
    queue_.clear();
    head_ = 0;
    return fail(ec, "ws write");
  }
  queue_[head_++].reset();
  if (head_ < queue_.size()) {
    if (head_ >= 1024 && head_ * 2 >= queue_.size()) {
      // A long backlog: drop the written slots now and then.
      queue_.erase(queue_.begin(), queue_.begin() + head_);
      head_ = 0;
    }
    return do_write();
  }
  // Drained: an idle session keeps no queue memory.
  std::vector<frame_ptr>().swap(queue_);
  head_ = 0;
  if (closing_)
    do_close();
}

void ws_session::close(websocket::close_code code) {
  if (closing_)
    return;
  closing_ = true;
  close_code_ = code;
  if (head_ == queue_.size())
    do_close(); // else on_write closes when the queue is drained
}

void ws_session::do_close() {
  if (close_sent_)
    return;
  close_sent_ = true;
  ws_.async_close(close_code_, beast::bind_front_handler(&ws_session::on_close,
                                                         shared_from_this()));
}

void ws_session::on_close(beast::error_code ec) {
  if (ec)
    return fail(ec, "ws close");
}

} // namespace parley::net
