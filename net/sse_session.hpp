#pragma once

// One Server-Sent Events stream (seed 001): the reply to one chat-room
// message. Takes the socket over from the HTTP session, writes the response
// head and the start line, then every engine event of the room as the SSE
// dialect encodes it, each flushed at once as an HTTP chunk, until the end
// or error event. A client that goes away only ends this stream: the reply
// goes on and is stored for everyone else.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "actors/event.hpp"
#include "net/asio.hpp"
#include "net/chat_room_api.hpp"
#include "net/frame_inbox.hpp"
#include "net/ready_queue.hpp"

namespace parley::net {

struct context;

class sse_session : public sink,
                    public std::enable_shared_from_this<sse_session>,
                    public inbox_owner {
public:
  // A comment line goes out when nothing else did for this long, so that
  // proxies and clients do not give up on a silent model.
  static constexpr std::chrono::seconds heartbeat_after{15};

  sse_session(socket_type&& socket, context& ctx);
  ~sse_session() override;

  // Starts the stream and posts the call's message to the room as its
  // owner, or resumes the reply it names.
  // `allow_origin`: the CORS header's value for the request, "" for none.
  void run(unsigned http_version, chat_request call,
           std::string_view allow_origin);

  // parley::sink; any thread.
  void send(frame_ptr frame) override;

private:
  void take_inbox() override;
  // Queues a frame and starts writing.
  void deliver(frame_ptr frame);
  void enqueue(frame_ptr frame);
  void do_write();
  void on_write(boost::system::error_code ec, std::size_t);
  void watch();
  void on_readable(boost::system::error_code ec);
  void arm_heartbeat();
  void finish();

  socket_type socket_;
  asio::steady_timer timer_;
  context& ctx_;
  std::string head_;             // the response head until written
  frame_inbox inbox_;
  ready_queue& ready_; // of the socket's io_context
  std::vector<frame_ptr> queue_; // queue_[0, writing_) in flight
  std::size_t writing_ = 0;
  std::vector<std::string> sizes_; // chunk size lines in flight
  std::uint64_t conn_ = 0;
  bool chunked_ = true;   // HTTP/1.1; 1.0 gets the bare stream
  bool ending_ = false;   // the final event is queued
  bool finished_ = false; // the socket is closed
  bool wrote_ = false;    // something went out since the last heartbeat
};

} // namespace parley::net
