#pragma once

// One visitor WebSocket (seed 002). It is the engine's sink for its
// connection: frames arrive from engine threads, are posted onto the
// session's io thread and queued, with one write in flight. Kept small: an
// idle session holds no read buffer and no write queue.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "actors/event.hpp"
#include "net/asio.hpp"
#include "net/rest.hpp"

namespace parley::net {

struct context;

class ws_session : public sink,
                   public std::enable_shared_from_this<ws_session> {
public:
  // Outgoing queue bounds. Past `max_queue` frames, while the frame being
  // written has been in flight for `stall` already, the peer is not reading:
  // the session drops what waits and closes with 1008 (policy violation).
  // A burst from the engine fills the queue before any write completion can
  // run on the session's thread, so a long queue alone proves nothing; past
  // `hard_max_queue` it closes anyway.
  static constexpr std::size_t max_queue = 4096;
  static constexpr std::size_t hard_max_queue = 65536;
  static constexpr std::chrono::milliseconds stall{1000};

  ws_session(socket_type&& socket, context& ctx);
  ~ws_session() override;

  // Accepts the upgrade request; `session_id` and `visitor_id` come from its
  // query string (empty when absent).
  void run(http_request req, std::string session_id, std::string visitor_id);

  // parley::sink; any thread.
  void send(frame_ptr frame) override;

  // For shutdown, from any thread: write what is queued, then close 1001.
  void shutdown();

private:
  void on_accept(std::string session_id, std::string visitor_id,
                 beast::error_code ec);
  void do_read();
  void on_read(beast::error_code ec, std::size_t bytes);
  void on_message();
  void deliver(frame_ptr frame);
  void do_write();
  void on_write(beast::error_code ec, std::size_t bytes);
  void close(websocket::close_code code);
  void do_close();
  void on_close(beast::error_code ec);

  // No permessage-deflate: `false` compiles it out (and its state).
  // On the bare socket: the websocket stream has a timer of its own, and
  // basic_stream would add an impl with three more (~470 bytes a session).
  websocket::stream<socket_type, false> ws_;
  beast::flat_buffer buffer_;
  std::vector<frame_ptr> queue_; // queue_[head_] is being written
  std::size_t head_ = 0;
  std::chrono::steady_clock::time_point write_started_;
  context& ctx_;
  std::uint64_t conn_ = 0; // the engine's id; 0 until attached
  websocket::close_code close_code_ = websocket::close_code::normal;
  bool closing_ = false; // no more frames are queued
  bool close_sent_ = false;
};

} // namespace parley::net
