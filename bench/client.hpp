#pragma once

// The load generator's connections: a keep-alive HTTP client that creates
// visitor sessions (POST /api/chats/sessions/) and a visitor chat WebSocket
// client (seed 002). Both run on one worker's io_context and touch only that
// worker's state, so a worker never needs a lock; what crosses workers is
// the scenario's business (atomics, posts).

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "bench/frames.hpp"

namespace parley::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using time_point = steady::time_point;

// Streams and timers bound to the io_context's own executor type: the
// default polymorphic executor is copied and destroyed on every operation,
// which callgrind showed as a sixth of the generator's instructions per
// frame.
using executor = asio::io_context::executor_type;
using stream_type = beast::basic_stream<tcp, executor>;
using timer_type
    = asio::basic_waitable_timer<steady, asio::wait_traits<steady>, executor>;

inline double ms_between(time_point from, time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// What every connection needs to know; set once before the run.
struct client_config {
  unsigned short port = 8000;
  int words = 50;           // chunks expected per reply; 0 = do not check
  bool verify = false;      // parse every frame fully and check the reply
  bool strict = false;      // --verify also checks CONTRACT.md's extras
  std::string message_json; // the chat message text as a JSON string
};

class rest_client;
class ws_client;

// One thread's share of the load: its io_context, its connections and the
// figures they collect (merged after the threads have joined).
struct worker {
  worker(int index, int connect_limit, int rest_clients,
         const client_config& cfg);
  ~worker();

  // Starts `fn` now if fewer than connect_limit connections are being set
  // up, else when one finishes (release_slot): thousands of simultaneous
  // connects overflow the listen backlog and turn into 1 s SYN retries.
  void admit(std::function<void()> fn);
  void release_slot();

  rest_client& pick_rest();
  void close_rest(); // the keep-alive session clients, once not needed

  void error(const std::string& what) {
    ++errors[what];
  }

  int index;
  const client_config& cfg;
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard;
  // Declared after ioc: destroyed before it.
  std::vector<std::shared_ptr<ws_client>> clients;
  std::vector<std::unique_ptr<rest_client>> rest;
  std::size_t next_rest = 0;
  int connect_limit;
  int connecting = 0;
  std::deque<std::function<void()>> waiting;

  // Figures.
  std::uint64_t frames = 0;
  std::uint64_t chunks = 0;
  std::uint64_t replies = 0;
  std::uint64_t unexpected = 0; // frames the scenario did not ask for
  std::vector<double> ttfc_ms;
  std::vector<double> delay_ms;
  std::vector<double> gap_ms;
  std::vector<double> last_delay_ms; // paced: the last chunk's delay
  std::vector<double> lateness_ms;
  std::vector<double> lateness_send_ms; // timers: against the message sent
  std::vector<double> loop_ms;
  std::map<std::string, std::uint64_t> errors;
};

// Sequential POST /api/chats/sessions/ over one keep-alive connection.
class rest_client {
public:
  // ok, session_id, visitor_id; on failure the worker has the error.
  using callback = std::function<void(bool, std::string, std::string)>;

  explicit rest_client(worker& w);

  void create_session(callback cb);
  void close();

private:
  void next();
  void connect();
  void send();
  void on_read(beast::error_code ec);
  void retry_or_fail(beast::error_code ec, const char* what);
  void deliver(bool ok, std::string sid, std::string vid);

  worker& w_;
  stream_type stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  std::deque<callback> queue_;
  bool busy_ = false;
  bool open_ = false;
  bool retried_ = false;
  int used_ = 0; // exchanges on this connection
};

// What a scenario hears from its connections. Called on the connection's
// worker thread.
class scenario_hooks {
public:
  virtual ~scenario_hooks() = default;
  // The `connected` frame arrived.
  virtual void on_ready(ws_client& c) = 0;
  // Chunk `index` (0-based) of the current reply; c.first_chunk_at and
  // c.prev_chunk_at are set.
  virtual void on_chunk(ws_client&, int, time_point) {}
  // A `complete` frame; c.replies_done counts it already.
  virtual void on_complete(ws_client& c, time_point now) = 0;
  // Any other frame after `connected` (idle_warning, session_end, ...).
  virtual void on_frame(ws_client& c, frame_kind, time_point) {
    ++c_worker(c).unexpected;
  }
  // The connection is over: `clean` after our own close(), otherwise it
  // failed (the worker has the error). Called once.
  virtual void on_end(ws_client& c, bool clean) = 0;

protected:
  static worker& c_worker(ws_client& c);
};

class ws_client : public std::enable_shared_from_this<ws_client> {
public:
  ws_client(worker& w, scenario_hooks& sc, int id);

  // Creates a session over REST unless session_id is set, connects (with
  // ?session_id=&visitor_id= when `join`), waits for `connected`.
  void start();
  void send_chat();
  void send_chat_at(time_point when);
  // WebSocket close handshake, after pending writes; then on_end(clean).
  void close();

  worker& w;
  scenario_hooks& sc;
  int id;
  std::string session_id;
  std::string visitor_id;
  bool join = false;

  bool ready = false;    // `connected` received
  bool ended = false;    // on_end was called
  bool awaiting = false; // a chat message is out, its `complete` is not in
  bool done = false;     // for the scenario's bookkeeping
  int chunk_index = 0;   // chunks of the current reply so far
  int replies_done = 0;
  time_point started_at;
  time_point sent_at;
  time_point first_chunk_at;
  time_point prev_chunk_at;
  time_point due;               // timers: when the idle warning is due
  std::vector<double> arrivals; // fanout: ms since start, per chunk

private:
  void on_session(bool ok, std::string sid, std::string vid);
  void do_connect();
  void on_connect(beast::error_code ec);
  void on_handshake(beast::error_code ec);
  void do_read();
  void on_read(beast::error_code ec);
  void on_frame(std::string_view text, time_point now);
  void verify(frame_kind kind, std::string_view text);
  void do_write();
  void do_close();
  void fail(const std::string& what);
  void end(bool clean);
  void take_slot();
  void give_slot();

  websocket::stream<stream_type, false> ws_;
  beast::flat_buffer buffer_;
  timer_type timer_;
  std::deque<std::string> out_;
  bool writing_ = false;
  bool closing_ = false;
  bool close_after_write_ = false;
  bool has_slot_ = false;
  // --verify: the current reply as the chunks tell it.
  std::string text_;
  std::string message_id_;
};

inline worker& scenario_hooks::c_worker(ws_client& c) {
  return c.w;
}

} // namespace parley::bench
