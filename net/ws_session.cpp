#include "net/ws_session.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>

#include "actors/engine.hpp"
#include "config/log.hpp"
#include "config/settings.hpp"
#include "net/context.hpp"
#include "net/log.hpp"
#include "net/ws_handshake.hpp"
#include "net/write_now.hpp"

namespace parley::net {

namespace {

// Frames per write: a header and a payload each, and one system call takes
// at most 64 buffers.
constexpr std::size_t max_gather = 32;

// Reads per turn before other connections on the thread get theirs.
constexpr int max_reads_per_turn = 4;

} // namespace

ws_session::ws_session(socket_type&& socket, context& ctx,
                       const ws_dialect& dialect)
    : socket_(std::move(socket)), timer_(socket_.get_executor()),
      reader_(ctx.cfg.max_frame_bytes), ctx_(ctx), dialect_(dialect),
      ready_(asio::use_service<ready_queue>(socket_.get_executor().context())) {
  // nop
}

ws_session::~ws_session() {
  ctx_.ws_sessions.remove(this);
  if (conn_ != 0)
    ctx_.eng.detach(conn_);
}

void ws_session::run(http_request req, ws_start start, std::string early) {
  early_ = std::move(early);
  auto hs = ws::accept(req);
  handshake_ = std::move(hs.response);
  asio::async_write(socket_, asio::buffer(handshake_),
                    beast::bind_front_handler(&ws_session::on_handshake,
                                              shared_from_this(), hs.ok,
                                              std::move(start)));
}

void ws_session::send(frame_ptr frame) {
  bool first = false;
  bool direct = false;
  {
    std::lock_guard<std::mutex> lock{out_mutex_};
    first = inbox_.put(std::move(frame));
    direct = direct_;
  }
  if (first && !(direct && flush_on_this_worker(weak_from_this())))
    ready_.add(shared_from_this());
}

// On the worker whose turns filled the inbox. The write happens under the
// lock, so frames put meanwhile, and the io thread's own, come after it.
void ws_session::flush(bool busy) {
  std::unique_lock<std::mutex> lock{out_mutex_};
  if (!direct_ || busy) {
    // The io thread took over since, or gathers better: the frames are its.
    lock.unlock();
    return ready_.add(shared_from_this());
  }
  auto frames = inbox_.take();
  std::array<unsigned char, max_gather * ws::max_header_size> headers;
  // The worker's, reused: a paced chunk is one flush, and no allocation.
  thread_local std::vector<asio::const_buffer> buffers;
  std::size_t done = 0;
  while (done < frames.size()) {
    auto n = std::min(frames.size() - done, max_gather);
    buffers.clear();
    for (std::size_t i = 0; i < n; ++i) {
      auto* h = headers.data() + i * ws::max_header_size;
      auto& bytes = *frames[done + i];
      buffers.emplace_back(
          asio::buffer(h, ws::write_header(h, ws::opcode::text, bytes.size())));
      buffers.emplace_back(asio::buffer(bytes));
    }
    boost::system::error_code ec;
    if (write_now(socket_, buffers, ec)) {
      done += n;
      continue;
    }
    direct_ = false;
    if (ec)
      return; // broken: the io thread's read finds out
    // The socket is full: the io thread writes the rest, first the bytes
    // of this batch not taken (a frame may be cut), then the frames after.
    std::string rest;
    for (auto& b : buffers)
      rest.append(static_cast<const char*>(b.data()), b.size());
    partial_ = std::make_shared<const std::string>(std::move(rest));
    for (auto i = done + n; i < frames.size(); ++i)
      inbox_.put(std::move(frames[i]));
    lock.unlock();
    return ready_.add(shared_from_this());
  }
}

void ws_session::claim() {
  frame_ptr partial;
  std::vector<frame_ptr> frames;
  {
    std::lock_guard<std::mutex> lock{out_mutex_};
    direct_ = false;
    partial = std::move(partial_);
    frames = inbox_.take();
  }
  if (partial)
    queue_.push_back({std::move(partial), true});
  for (auto& frame : frames)
    enqueue(std::move(frame));
}

bool ws_session::release() {
  std::lock_guard<std::mutex> lock{out_mutex_};
  direct_ = !closing_ && !finished_ && !partial_ && inbox_.empty();
  return direct_;
}

void ws_session::take_inbox() {
  claim();
  if (writing_ == 0)
    do_write();
}

void ws_session::shutdown() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->close(ws::close_code::going_away);
  });
}

void ws_session::on_handshake(bool ok, ws_start start,
                              boost::system::error_code ec, std::size_t) {
  std::string().swap(handshake_);
  if (ec)
    return fail(ec, "ws handshake");
  if (!ok)
    return finish(); // an HTTP error went out instead of the 101
  boost::system::error_code ignored;
  socket_.non_blocking(true, ignored);
  ctx_.ws_sessions.add(shared_from_this());
  arm_timer(ping_after);
  do_read();
  if (ctx_.stopping)
    return close(ws::close_code::going_away);
  conn_ = ctx_.eng.attach(weak_from_this(), dialect_.encode);
  deliver(start(ctx_.eng, conn_));
  if (!early_.empty()) {
    auto early = std::move(early_);
    reader_.feed(early.data(), early.size(), *this);
  }
}

// -- reading -----------------------------------------------------------------

void ws_session::do_read() {
  if (finished_ || reading_)
    return;
  reading_ = true;
  socket_.async_wait(
      tcp::socket::wait_read,
      beast::bind_front_handler(&ws_session::on_readable, shared_from_this()));
}

void ws_session::on_readable(boost::system::error_code ec) {
  reading_ = false;
  if (finished_)
    return;
  if (ec)
    return finish();
  // One buffer per io thread, used only inside this handler: an idle
  // connection holds none.
  thread_local std::array<char, 16384> buf;
  for (int i = 0; i < max_reads_per_turn; ++i) {
    auto n = socket_.read_some(asio::buffer(buf), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again)
      return do_read();
    if (ec)
      return finish(); // the peer went away (or reset)
    if (draining_)
      continue;
    heard_ = true;
    pinged_ = false;
    reader_.feed(buf.data(), n, *this);
    if (finished_ || peer_done_)
      return; // nothing more to read: on_write ends the connection
  }
  // More may be waiting: go on after the other connections had a turn.
  asio::post(socket_.get_executor(),
             beast::bind_front_handler(&ws_session::on_readable,
                                       shared_from_this(),
                                       boost::system::error_code{}));
}

void ws_session::on_message(bool text, std::string payload) {
  if (closing_)
    return;
  deliver(dialect_.on_message(ctx_.eng, conn_, ctx_.stopping, text,
                              std::move(payload)));
}

void ws_session::on_ping(std::string payload) {
  if (close_sent_)
    return;
  auto pong = std::make_shared<const std::string>(
    ws::control_frame(ws::opcode::pong, payload));
  // A peer that pings faster than it reads gets one answer, to its latest
  // ping (RFC 6455 5.5.3 allows that), not a pile of pongs.
  for (auto i = head_ + writing_; i < queue_.size(); ++i) {
    auto& x = queue_[i];
    if (x.framed && !x.bytes->empty()
        && static_cast<unsigned char>(x.bytes->front())
             == (0x80 | static_cast<unsigned>(ws::opcode::pong))) {
      x.bytes = std::move(pong);
      return;
    }
  }
  push({std::move(pong), true});
}

void ws_session::on_close(std::uint16_t code) {
  if (close_sent_)
    return finish(); // the answer to our close
  // Echo the peer's code; what was not sent yet is dropped.
  peer_done_ = true;
  queue_.resize(head_ + writing_);
  closing_ = true;
  close_code_ = code == 1005 ? ws::close_code::normal : code;
  send_close();
}

void ws_session::on_violation(std::uint16_t code, const char* why) {
  if (log_enabled(log_level::debug))
    log_debug("net: ws read: ", why);
  peer_done_ = violated_ = true;
  queue_.resize(head_ + writing_);
  closing_ = true;
  close_code_ = code;
  send_close();
}

// -- writing -----------------------------------------------------------------

void ws_session::deliver(frame_ptr frame) {
  claim();
  enqueue(std::move(frame));
  if (writing_ == 0)
    do_write();
  // Nothing to write (a dialect without a greeting): the workers may.
  if (writing_ == 0 && head_ == queue_.size())
    release();
}

void ws_session::enqueue(frame_ptr frame) {
  if (closing_ || finished_ || !frame)
    return;
  auto pending = queue_.size() - head_;
  if (pending >= hard_max_queue
      || (pending >= max_queue
          && std::chrono::steady_clock::now() - write_started_ > stall)) {
    // The peer reads nothing. Keep only what is being written (the write
    // refers to it), then close with 1008.
    queue_.resize(head_ + writing_);
    return close(ws::close_code::policy_error);
  }
  queue_.push_back({std::move(frame), false});
}

void ws_session::push(outgoing x) {
  claim();
  queue_.push_back(std::move(x));
  if (writing_ == 0)
    do_write();
}

// Batches the socket takes at once are done here, in a loop; the first it
// does not take is finished by an asynchronous write.
void ws_session::do_write() {
  while (!finished_ && head_ < queue_.size()) {
    auto buffers = next_batch();
    boost::system::error_code ec;
    if (!write_now(socket_, buffers, ec)) {
      if (ec) {
        fail(ec, "ws write");
        return finish();
      }
      asio::async_write(
          socket_, buffers,
          beast::bind_front_handler(&ws_session::on_write, shared_from_this()));
      return;
    }
    if (!written())
      return;
  }
}

std::vector<asio::const_buffer> ws_session::next_batch() {
  auto n = std::min(queue_.size() - head_, max_gather);
  writing_ = n;
  write_started_ = std::chrono::steady_clock::now();
  headers_.resize(n * ws::max_header_size);
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    auto& x = queue_[head_ + i];
    if (!x.framed) {
      auto* h = headers_.data() + i * ws::max_header_size;
      buffers.emplace_back(asio::buffer(
          h, ws::write_header(h, ws::opcode::text, x.bytes->size())));
    }
    buffers.emplace_back(asio::buffer(*x.bytes));
  }
  return buffers;
}

void ws_session::on_write(boost::system::error_code ec, std::size_t) {
  if (finished_)
    return;
  if (ec) {
    fail(ec, "ws write");
    return finish();
  }
  if (written())
    do_write();
}

bool ws_session::written() {
  for (std::size_t i = 0; i < writing_; ++i)
    queue_[head_ + i].bytes.reset();
  head_ += writing_;
  writing_ = 0;
  if (head_ < queue_.size()) {
    if (head_ >= 1024 && head_ * 2 >= queue_.size()) {
      // A long backlog: drop the written slots now and then.
      queue_.erase(queue_.begin(),
                   queue_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    return true;
  }
  // Drained: an idle session keeps no queue memory.
  std::vector<outgoing>().swap(queue_);
  std::vector<unsigned char>().swap(headers_);
  head_ = 0;
  // The workers write again, unless frames came meanwhile.
  if (!closing_ && !release()) {
    claim();
    return head_ < queue_.size();
  }
  if (close_sent_) {
    // Our close frame is out. If the peer closed there is nothing to wait
    // for; else it answers with its own close frame, or we stop waiting
    // after close_timeout.
    if (peer_done_ && !violated_) {
      finish();
      return false;
    }
    if (peer_done_) {
      // The peer may still be sending (the rest of an oversized frame):
      // closing now would answer that unread data with a reset, which can
      // destroy our close frame before the peer reads it. Half-close, and
      // drop what comes until the peer closes too or close_timeout passes.
      boost::system::error_code ignored;
      socket_.shutdown(tcp::socket::shutdown_send, ignored);
      draining_ = true;
    }
    arm_timer(close_timeout);
    do_read();
    return false;
  }
  if (closing_)
    send_close();
  return false;
}

// -- closing -----------------------------------------------------------------

void ws_session::close(std::uint16_t code) {
  if (closing_ || finished_)
    return;
  claim();
  closing_ = true;
  close_code_ = code;
  if (writing_ == 0 && head_ == queue_.size())
    return send_close();
  // on_write sends it once the queue is drained; a peer that reads nothing
  // never lets that happen, so the wait is bounded here.
  arm_timer(close_timeout);
}

void ws_session::send_close() {
  if (close_sent_ || finished_)
    return;
  close_sent_ = true;
  push({std::make_shared<const std::string>(ws::close_frame(close_code_)),
        true});
}

void ws_session::finish() {
  if (finished_)
    return;
  {
    std::lock_guard<std::mutex> lock{out_mutex_};
    direct_ = false;
    finished_ = true;
  }
  closing_ = close_sent_ = true;
  boost::system::error_code ignored;
  timer_.cancel();
  socket_.close(ignored);
  std::vector<outgoing>().swap(queue_);
  head_ = writing_ = 0;
}

// -- keep-alive --------------------------------------------------------------

void ws_session::arm_timer(std::chrono::steady_clock::duration after) {
  timer_.expires_after(after);
  timer_.async_wait(
      beast::bind_front_handler(&ws_session::on_timer, shared_from_this()));
}

void ws_session::on_timer(boost::system::error_code ec) {
  if (ec || finished_)
    return;
  if (closing_)
    return finish(); // our close never went out, or was never answered
  if (heard_) {
    heard_ = false;
    return arm_timer(ping_after);
  }
  if (pinged_)
    return finish(); // silent for two periods: gone
  pinged_ = true;
  push({std::make_shared<const std::string>(
            ws::control_frame(ws::opcode::ping, {})),
        true});
  arm_timer(ping_after);
}

} // namespace parley::net
