// parley_floor: the least a server can do to play the node-ws peer's
// protocol (../shared/peers/node-ws/server.mjs), in C++ on one thread, so
// that bench/run.sh can show what this machine allows before any server
// logic: no storage, no actors, no sessions kept. Each frame is its own
// write (one syscall), as the peer's are.
//
//   POST /api/chats/sessions/  -> 201 {"session_id":uuid,"visitor_id":uuid}
//   WS   /ws/chat/             -> {"type":"connected",...}; each
//        chat_message -> WORDS chunk frames, chunk i due at i × DELAY_MS
//        after the message was read, then a complete frame.
//
// Env: PORT [8002], HOST [127.0.0.1], WORDS [50], DELAY_MS [0]. Not part of
// the product: a yardstick for the benchmark only.

#include <chrono>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <memory>
#include <random>
#include <string>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using json = nlohmann::json;

namespace {

struct options {
  int words = 50;
  std::chrono::milliseconds delay{0};
};

std::string uuid() {
  static std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string s(36, '-');
  for (std::size_t i = 0; i < s.size(); ++i)
    if (i != 8 && i != 13 && i != 18 && i != 23)
      s[i] = hex[rng() & 15];
  return s;
}

// The peer's vocabulary, so that frames have the same sizes.
const char* const vocabulary[]
    = {"Thanks",   "for",      "reaching", "out!",  "Our",     "support",
       "team",     "is",       "happy",    "to",    "help",    "you",
       "with",     "your",     "question", "about", "opening", "hours,",
       "pricing,", "delivery", "times",    "and",   "account", "settings.",
       "Here",     "is",       "a",        "short", "summary", "of",
       "what",     "we",       "can",      "offer", "today."};

class ws_session : public std::enable_shared_from_this<ws_session> {
public:
  ws_session(tcp::socket socket, const options& opt)
      : ws_(std::move(socket)), opt_(opt), timer_(ws_.get_executor()) {}

  void start(http::request<http::string_body> req) {
    ws_.async_accept(req, [self = shared_from_this()](beast::error_code ec) {
      if (ec)
        return;
      self->send(
          R"({"type":"connected","message":"Connected to chat server"})");
      self->read();
    });
  }

private:
  void read() {
    ws_.async_read(
        in_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
          if (ec) {
            self->timer_.cancel();
            return;
          }
          self->on_message();
          self->read();
        });
  }

  void on_message() {
    auto j = json::parse(beast::buffers_to_string(in_.data()), nullptr, false);
    in_.consume(in_.size());
    if (!j.is_object() || j.value("type", "") != "chat_message")
      return send(R"({"type":"error","error":"Unknown message type"})");
    if (!j["message"].is_string())
      return send(R"({"type":"error","error":"Message is required"})");
    message_id_ = uuid();
    next_ = 0;
    started_ = std::chrono::steady_clock::now();
    step();
  }

  // Chunk i at started + i × delay; with no delay, each chunk in its own
  // turn of the event loop, interleaved with other connections.
  void step() {
    if (next_ < opt_.words) {
      std::string frame = R"({"type":"chunk","chunk":")";
      frame += vocabulary[next_ % std::size(vocabulary)];
      frame += R"( ","done":false,"message_id":")" + message_id_ + "\"}";
      send(std::move(frame));
      if (++next_ < opt_.words) {
        timer_.expires_at(started_ + opt_.delay * next_);
        timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
          if (!ec)
            self->step();
        });
        return;
      }
    }
    send(
        R"({"type":"complete","response_id":")" + uuid() + R"(","message_id":")"
        + message_id_
        + R"(","complete":false,"suggestions":["What are your opening hours?"]})");
  }

  void send(std::string frame) {
    out_.push_back(std::move(frame));
    if (out_.size() == 1)
      write();
  }

  void write() {
    ws_.async_write(
        asio::buffer(out_.front()),
        [self = shared_from_this()](beast::error_code ec, std::size_t) {
          if (ec)
            return;
          self->out_.pop_front();
          if (!self->out_.empty())
            self->write();
        });
  }

  websocket::stream<tcp::socket> ws_;
  const options& opt_;
  asio::steady_timer timer_;
  beast::flat_buffer in_;
  std::deque<std::string> out_;
  std::string message_id_;
  int next_ = 0;
  std::chrono::steady_clock::time_point started_;
};

class http_session : public std::enable_shared_from_this<http_session> {
public:
  http_session(tcp::socket socket, const options& opt)
      : socket_(std::move(socket)), opt_(opt) {}

  void read() {
    req_ = {};
    http::async_read(
        socket_, buf_, req_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) {
          if (!ec)
            self->on_request();
        });
  }

private:
  void on_request() {
    if (websocket::is_upgrade(req_) && req_.target().starts_with("/ws/chat/")) {
      std::make_shared<ws_session>(std::move(socket_), opt_)
          ->start(std::move(req_));
      return;
    }
    res_ = {};
    res_.version(req_.version());
    res_.keep_alive(req_.keep_alive());
    res_.set(http::field::content_type, "application/json");
    if (req_.method() == http::verb::post
        && req_.target() == "/api/chats/sessions/") {
      res_.result(http::status::created);
      res_.body() = R"({"session_id":")" + uuid() + R"(","visitor_id":")"
                    + uuid() + "\"}";
    } else {
      res_.result(http::status::not_found);
      res_.body() = R"({"error":"Not found"})";
    }
    res_.prepare_payload();
    http::async_write(
        socket_, res_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) {
          if (!ec && self->res_.keep_alive())
            self->read();
        });
  }

  tcp::socket socket_;
  const options& opt_;
  beast::flat_buffer buf_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
};

void accept(tcp::acceptor& acceptor, const options& opt) {
  acceptor.async_accept(
      [&acceptor, &opt](beast::error_code ec, tcp::socket socket) {
        if (!ec) {
          socket.set_option(tcp::no_delay(true));
          std::make_shared<http_session>(std::move(socket), opt)->read();
        }
        accept(acceptor, opt);
      });
}

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

} // namespace

int main() {
  options opt;
  opt.words = std::max(1, env_int("WORDS", 50));
  opt.delay = std::chrono::milliseconds{env_int("DELAY_MS", 0)};
  const char* host = std::getenv("HOST");
  auto port = static_cast<unsigned short>(env_int("PORT", 8002));
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  tcp::endpoint at{asio::ip::make_address(host != nullptr ? host : "127.0.0.1"),
                   port};
  acceptor.open(at.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(at);
  acceptor.listen(asio::socket_base::max_listen_connections);
  accept(acceptor, opt);
  asio::signal_set stop{ioc, SIGINT, SIGTERM};
  stop.async_wait([&ioc](beast::error_code, int) { ioc.stop(); });
  std::cout << "parley_floor listening on " << at << " WORDS=" << opt.words
            << " DELAY_MS=" << opt.delay.count() << std::endl;
  ioc.run();
  return 0;
}
