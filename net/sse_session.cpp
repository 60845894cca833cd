#include "net/sse_session.hpp"

#include <array>
#include <cstddef>
#include <cstdio>

#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>

#include "actors/engine.hpp"
#include "net/context.hpp"
#include "net/log.hpp"
#include "net/sse_dialect.hpp"

namespace parley::net {

namespace {

constexpr std::size_t max_gather = 64;

// Marks the end of the stream: the last chunk, or nothing for HTTP/1.0.
const frame_ptr& end_marker() {
  static const frame_ptr x = std::make_shared<const std::string>();
  return x;
}

} // namespace

sse_session::sse_session(socket_type&& socket, context& ctx)
    : socket_(std::move(socket)), timer_(socket_.get_executor()), ctx_(ctx),
      ready_(asio::use_service<ready_queue>(socket_.get_executor().context())) {
  // nop
}

sse_session::~sse_session() {
  if (conn_ != 0)
    ctx_.eng.detach(conn_);
}

void sse_session::run(unsigned http_version, chat_request call,
                      std::string_view allow_origin) {
  chunked_ = http_version >= 11;
  std::string head = http_version >= 11 ? "HTTP/1.1" : "HTTP/1.0";
  head += " 200 OK\r\n"
          "Content-Type: text/event-stream\r\n"
          "Cache-Control: no-cache\r\n"
          "X-Accel-Buffering: no\r\n"
          "Connection: close\r\n";
  if (!allow_origin.empty()) {
    head += "Access-Control-Allow-Origin: ";
    head += allow_origin;
    head += "\r\n";
  }
  if (chunked_)
    head += "Transfer-Encoding: chunked\r\n";
  head += "\r\n";
  // The head goes out raw with the first write; the start line is the
  // first chunk.
  head_ = std::move(head);
  bool resume = !call.resume_id.empty();
  if (!resume) // a resumed stream continues one that had the start line
    deliver(std::make_shared<const std::string>(sse_start()));
  boost::system::error_code ignored;
  socket_.non_blocking(true, ignored);
  watch();
  arm_heartbeat();
  conn_ = ctx_.eng.attach(weak_from_this(), &encode_sse);
  if (resume)
    ctx_.eng.resume_as_user(conn_, std::move(call.room_id),
                            std::move(call.owner), std::move(call.resume_id),
                            call.resume_after);
  else
    ctx_.eng.post_as_user(conn_, std::move(call.room_id),
                          std::move(call.owner), std::move(call.message));
}

void sse_session::send(frame_ptr frame) {
  if (inbox_.put(std::move(frame)))
    ready_.add(shared_from_this());
}

void sse_session::take_inbox() {
  for (auto& frame : inbox_.take())
    enqueue(std::move(frame));
  if (writing_ == 0 && !queue_.empty())
    do_write();
}

void sse_session::deliver(frame_ptr frame) {
  enqueue(std::move(frame));
  if (writing_ == 0 && !queue_.empty())
    do_write();
}

void sse_session::enqueue(frame_ptr frame) {
  if (!frame || ending_ || finished_)
    return;
  if (sse_final(*frame)) {
    ending_ = true;
    queue_.push_back(std::move(frame));
    queue_.push_back(end_marker());
  } else {
    queue_.push_back(std::move(frame));
  }
}

void sse_session::do_write() {
  auto n = std::min(queue_.size(), max_gather);
  writing_ = n;
  wrote_ = true;
  sizes_.clear();
  sizes_.reserve(n);
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(3 * n);
  if (!head_.empty())
    buffers.emplace_back(asio::buffer(head_));
  for (std::size_t i = 0; i < n; ++i) {
    auto& x = queue_[i];
    if (!chunked_) {
      buffers.emplace_back(asio::buffer(*x));
      continue;
    }
    if (x == end_marker()) {
      sizes_.emplace_back("0\r\n\r\n");
      buffers.emplace_back(asio::buffer(sizes_.back()));
      continue;
    }
    char line[24];
    auto len = std::snprintf(line, sizeof(line), "%zx\r\n", x->size());
    sizes_.emplace_back(line, static_cast<std::size_t>(len));
    buffers.emplace_back(asio::buffer(sizes_.back()));
    buffers.emplace_back(asio::buffer(*x));
    buffers.emplace_back(asio::buffer("\r\n", 2));
  }
  asio::async_write(
      socket_, buffers,
      beast::bind_front_handler(&sse_session::on_write, shared_from_this()));
}

void sse_session::on_write(boost::system::error_code ec, std::size_t) {
  if (finished_)
    return;
  if (ec) {
    fail(ec, "sse write");
    return finish();
  }
  std::string().swap(head_);
  bool done = queue_[writing_ - 1] == end_marker();
  queue_.erase(queue_.begin(),
               queue_.begin() + static_cast<std::ptrdiff_t>(writing_));
  writing_ = 0;
  if (done) {
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    return finish();
  }
  if (!queue_.empty())
    return do_write();
  std::vector<frame_ptr>().swap(queue_);
  std::vector<std::string>().swap(sizes_);
}

// The client sends nothing after its request; a readable socket means it
// closed (or sent junk, which is read and dropped).
void sse_session::watch() {
  socket_.async_wait(
      tcp::socket::wait_read,
      beast::bind_front_handler(&sse_session::on_readable, shared_from_this()));
}

void sse_session::on_readable(boost::system::error_code ec) {
  if (finished_)
    return;
  if (ec)
    return finish();
  std::array<char, 512> junk;
  auto n = socket_.read_some(asio::buffer(junk), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again
      || (!ec && n > 0))
    return watch();
  finish(); // end of stream or reset: the client went away
}

void sse_session::arm_heartbeat() {
  timer_.expires_after(heartbeat_after);
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->finished_ || self->ending_)
      return;
    if (!self->wrote_)
      self->deliver(std::make_shared<const std::string>(sse_heartbeat()));
    self->wrote_ = false;
    self->arm_heartbeat();
  });
}

void sse_session::finish() {
  if (finished_)
    return;
  finished_ = true;
  boost::system::error_code ignored;
  timer_.cancel();
  socket_.close(ignored);
  queue_.clear();
  writing_ = 0;
  // Leave the room now: the conversation stops sending here.
  if (conn_ != 0) {
    ctx_.eng.detach(conn_);
    conn_ = 0;
  }
}

} // namespace parley::net
