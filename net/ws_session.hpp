#pragma once

// One WebSocket, speaking the dialect it was made with (net/ws_dialect.hpp).
// It is the engine's sink for its connection: frames arrive from engine
// threads in its inbox, are taken on the session's io thread (net/
// ready_queue.hpp) and queued; queued frames go out together, in one write. Kept small: an idle session holds no read buffer (reads go through
// a per-thread buffer once the socket is readable) and no write queue.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "actors/event.hpp"
#include "actors/worker_flush.hpp"
#include "net/asio.hpp"
#include "net/frame_inbox.hpp"
#include "net/ready_queue.hpp"
#include "net/rest.hpp"
#include "net/ws_dialect.hpp"
#include "net/ws_frame.hpp"

namespace parley::net {

struct context;

class ws_session : public sink,
                   public std::enable_shared_from_this<ws_session>,
                   public inbox_owner,
                   public flushable,
                   private ws::frame_reader::handler {
public:
  // Outgoing queue bounds. Past `max_queue` frames, while the write in
  // flight has taken `stall` already, the peer is not reading: the session
  // drops what waits and closes with 1008 (policy violation). A burst from
  // the engine fills the queue before any write completion can run on the
  // session's thread, so a long queue alone proves nothing; past
  // `hard_max_queue` it closes anyway.
  static constexpr std::size_t max_queue = 4096;
  static constexpr std::size_t hard_max_queue = 65536;
  static constexpr std::chrono::milliseconds stall{1000};
  // A silent peer is pinged after this long, and dropped after twice it
  // (a visitor who only reads must outlive the session_end timer).
  static constexpr std::chrono::seconds ping_after{150};
  // How long a close handshake may take before the socket is just closed.
  static constexpr std::chrono::seconds close_timeout{5};

  ws_session(socket_type&& socket, context& ctx, const ws_dialect& dialect);
  ~ws_session() override;

  // Answers the upgrade request; `start` joins the connection to its
  // conversation once the 101 is out. `early` holds what the client sent
  // after the request before the 101 (read with it): its first frames.
  void run(http_request req, ws_start start, std::string early);

  // parley::sink; any thread.
  void send(frame_ptr frame) override;

  // For shutdown, from any thread: write what is queued, then close 1001.
  void shutdown();

private:
  // A frame to send: a data frame's payload (the header is written at send
  // time) or a whole control frame.
  struct outgoing {
    frame_ptr bytes;
    bool framed = false;
  };

  void on_handshake(bool ok, ws_start start, boost::system::error_code ec,
                    std::size_t);
  void do_read();
  void on_readable(boost::system::error_code ec);
  void take_inbox() override;
  // parley::flushable: writes the inbox on the worker that filled it.
  void flush(bool busy) override;
  // Queues a data frame and starts writing.
  void deliver(frame_ptr frame);
  // Queues a data frame (or drops it when closing; closes a stalled peer).
  void enqueue(frame_ptr frame);
  // The io thread takes over the output (the inbox into the queue), or
  // hands it back to the workers when it has nothing left to write (false:
  // frames came meanwhile, or the session is closing).
  void claim();
  bool release();
  void push(outgoing x);
  void do_write();
  // The next frames to write, at most max_gather; they are in flight now.
  std::vector<asio::const_buffer> next_batch();
  void on_write(boost::system::error_code ec, std::size_t bytes);
  // The frames in flight are out: true when more are queued.
  bool written();
  void close(std::uint16_t code);
  void send_close();
  void finish();
  void arm_timer(std::chrono::steady_clock::duration after);
  void on_timer(boost::system::error_code ec);

  // ws::frame_reader::handler
  void on_message(bool text, std::string payload) override;
  void on_ping(std::string payload) override;
  void on_close(std::uint16_t code) override;
  void on_violation(std::uint16_t code, const char* why) override;

  socket_type socket_;
  asio::steady_timer timer_;
  ws::frame_reader reader_;
  context& ctx_;
  const ws_dialect& dialect_;
  // Output goes one of two ways. While the io thread has nothing queued,
  // the worker that put frames into the inbox writes them (flush); once a
  // write does not go through, or the io thread has frames of its own, the
  // io thread takes the inbox and writes until its queue is empty again.
  // out_mutex_ guards the inbox, direct_ and partial_, and every write a
  // worker makes.
  std::mutex out_mutex_;
  frame_inbox inbox_;
  bool direct_ = false;
  frame_ptr partial_;  // what a worker's write left: framed bytes, first out
  ready_queue& ready_; // of the socket's io_context
  std::string early_;           // frames that came with the request
  std::string handshake_;       // the 101 response while it is written
  std::vector<outgoing> queue_; // queue_[head_, head_ + writing_) in flight
  std::size_t head_ = 0;
  std::size_t writing_ = 0;
  std::vector<unsigned char> headers_; // the data frame headers in flight
  std::chrono::steady_clock::time_point write_started_;
  std::uint64_t conn_ = 0; // the engine's id; 0 until attached
  std::uint16_t close_code_ = ws::close_code::normal;
  bool reading_ = false;   // a wait for readability is pending
  bool peer_done_ = false; // the peer closed or broke the protocol
  bool violated_ = false;  // ... broke it, and may still be sending
  bool draining_ = false;  // our close is out: what comes is dropped unread
  bool heard_ = false;     // bytes arrived since the timer last fired
  bool pinged_ = false;    // a keep-alive ping is unanswered
  bool closing_ = false;   // no more data frames are queued
  bool close_sent_ = false;
  bool finished_ = false; // the socket is closed
};

} // namespace parley::net
