#define CAF_SUITE provider_client
#include <caf/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/llm_client.hpp"

using namespace parley::agent;
using namespace std::chrono_literals;

namespace {

// A loopback HTTP server for one test. Each connection gets its own thread,
// which reads one request and runs the script with the socket and the
// request's number (0, 1, ...). Plain blocking sockets: this is the test's
// side, not parley's.
class tiny_server {
public:
  using script = std::function<void(int fd, int index)>;

  explicit tiny_server(script f) : script_(std::move(f)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(fd_, 512);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread{[this] { accept_loop(); }};
  }

  ~tiny_server() {
    stopping_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    acceptor_.join();
    for (auto& t : workers_)
      t.join();
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }

  int requests() const {
    return count_;
  }

private:
  void accept_loop() {
    for (;;) {
      int conn = ::accept(fd_, nullptr, nullptr);
      if (conn < 0)
        return;
      int index = count_++;
      workers_.emplace_back([this, conn, index] {
        read_request(conn);
        script_(conn, index);
        ::close(conn);
      });
    }
  }

  static void read_request(int fd) {
    std::string in;
    char buf[4096];
    std::size_t body_at = std::string::npos;
    std::size_t length = 0;
    for (;;) {
      auto n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0)
        return;
      in.append(buf, static_cast<std::size_t>(n));
      if (body_at == std::string::npos) {
        auto end = in.find("\r\n\r\n");
        if (end == std::string::npos)
          continue;
        body_at = end + 4;
        auto cl = in.find("Content-Length: ");
        if (cl != std::string::npos)
          length = std::stoul(in.substr(cl + 16));
      }
      if (in.size() >= body_at + length)
        return;
    }
  }

  script script_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> count_{0};
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::vector<std::thread> workers_; // only the acceptor touches it
};

void send_all(int fd, const std::string& x) {
  ::send(fd, x.data(), x.size(), MSG_NOSIGNAL);
}

// A streaming answer that ends when the connection closes.
const std::string sse_head = "HTTP/1.1 200 OK\r\nContent-Type: "
                             "text/event-stream\r\nConnection: close\r\n\r\n";

std::string token(const std::string& text) {
  return "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + text
         + "\"},\"finish_reason\":null}]}\n\n";
}

const std::string stream_end = "data: {\"choices\":[{\"index\":0,\"delta\":{},"
                               "\"finish_reason\":\"stop\"}]}\n\n"
                               "data: [DONE]\n\n";

std::string error_answer(int status, const std::string& extra_headers = {}) {
  std::string body = R"({"error":{"message":"no","type":"x"}})";
  return "HTTP/1.1 " + std::to_string(status) + " Oops\r\nContent-Type: "
         + "application/json\r\nContent-Length: " + std::to_string(body.size())
         + "\r\nConnection: close\r\n" + extra_headers + "\r\n" + body;
}

// Blocks until the peer closes (or 10 s pass).
void wait_for_close(int fd) {
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char c;
  while (::recv(fd, &c, 1, 0) > 0) {
    // drain
  }
}

// What a stream told us, collected from the loop thread.
struct recorder {
  std::mutex mtx;
  std::condition_variable cv;
  std::string text;
  int done = 0;
  int errors = 0;
  int retries = 0;
  failure last_error;
  stream_summary summary;

  stream_callbacks callbacks() {
    stream_callbacks cb;
    cb.on_text = [this](std::string x) {
      std::lock_guard<std::mutex> guard{mtx};
      text += x;
      cv.notify_all();
    };
    cb.on_done = [this](stream_summary s) {
      std::lock_guard<std::mutex> guard{mtx};
      summary = std::move(s);
      ++done;
      cv.notify_all();
    };
    cb.on_error = [this](failure f) {
      std::lock_guard<std::mutex> guard{mtx};
      last_error = std::move(f);
      ++errors;
      cv.notify_all();
    };
    cb.on_retry = [this](const failure&, int, std::chrono::milliseconds) {
      std::lock_guard<std::mutex> guard{mtx};
      ++retries;
    };
    return cb;
  }

  // Waits until the stream ended one way or the other.
  bool wait_end(std::chrono::milliseconds limit = 10s) {
    std::unique_lock<std::mutex> guard{mtx};
    return cv.wait_for(guard, limit, [this] { return done + errors > 0; });
  }

  bool wait_text(std::size_t n, std::chrono::milliseconds limit = 10s) {
    std::unique_lock<std::mutex> guard{mtx};
    return cv.wait_for(guard, limit, [&] { return text.size() >= n; });
  }
};

llm_client_options options(const std::string& url) {
  llm_client_options opts;
  opts.provider = "openai";
  opts.upstream.base_url = url;
  opts.upstream.api_key = "sk-unit-test-key-0123456789";
  opts.limits.connect_timeout = 2000ms;
  opts.limits.first_token_timeout = 2000ms;
  opts.limits.idle_timeout = 2000ms;
  opts.limits.max_retries = 2;
  opts.limits.retry_base = 10ms;
  opts.limits.retry_max = 2000ms;
  return opts;
}

const llm_request hello{"sys", {{"user", "hello"}}, {}};

} // namespace

CAF_TEST(a stream delivers its text then completes) {
  tiny_server server{[](int fd, int) {
    send_all(fd, sse_head);
    send_all(fd, token("Hel"));
    std::this_thread::sleep_for(20ms);
    send_all(fd, token("lo"));
    send_all(fd, stream_end);
  }};
  llm_client client{options(server.url())};
  recorder r;
  client.start(hello, r.callbacks());
  CAF_REQUIRE(r.wait_end());
  CAF_CHECK_EQUAL(r.done, 1);
  CAF_CHECK_EQUAL(r.errors, 0);
  CAF_CHECK_EQUAL(r.text, "Hello");
  CAF_CHECK_EQUAL(r.summary.finish_reason, "stop");
}

CAF_TEST(5xx before the first token is retried) {
  tiny_server server{[](int fd, int index) {
    if (index < 2)
      return send_all(fd, error_answer(index == 0 ? 500 : 503));
    send_all(fd, sse_head + token("ok") + stream_end);
  }};
  llm_client client{options(server.url())};
  recorder r;
  client.start(hello, r.callbacks());
  CAF_REQUIRE(r.wait_end());
  CAF_CHECK_EQUAL(r.done, 1);
  CAF_CHECK_EQUAL(r.text, "ok");
  CAF_CHECK_EQUAL(r.retries, 2);
  CAF_CHECK_EQUAL(server.requests(), 3);
}

CAF_TEST(retries end with the last failure) {
  tiny_server server{[](int fd, int) { send_all(fd, error_answer(502)); }};
  llm_client client{options(server.url())};
  recorder r;
  client.start(hello, r.callbacks());
  CAF_REQUIRE(r.wait_end());
  CAF_CHECK_EQUAL(r.errors, 1);
  CAF_CHECK(r.last_error.kind == failure_kind::unavailable);
  CAF_CHECK_EQUAL(server.requests(), 3);
}

CAF_TEST(401 is not retried and its text names no key) {
  tiny_server server{[](int fd, int) { send_all(fd, error_answer(401)); }};
  llm_client client{options(server.url())};
  recorder r;
  client.start(hello, r.callbacks());
  CAF_REQUIRE(r.wait_end());
  CAF_CHECK_EQUAL(r.errors, 1);
  CAF_CHECK(r.last_error.kind == failure_kind::auth);
  CAF_CHECK_EQUAL(r.last_error.text,
                  "The AI service rejected the API key (HTTP 401)");
  CAF_CHECK_EQUAL(server.requests(), 1);
}

CAF_TEST(retry after in milliseconds is honoured) {
  tiny_server server{[](int fd, int index) {
    if (index == 0)
      return send_all(fd, error_answer(429, "retry-after-ms: 300\r\n"));
    send_all(fd, sse_head + token("late") + stream_end);
  }};
  llm_client client{options(server.url())};
  recorder r;
  auto start = std::chrono::steady_clock::now();
  client.start(hello, r.callbacks());
  CAF_REQUIRE(r.wait_end());
  CAF_CHECK_EQUAL(r.text, "late");
  CAF_CHECK(std::chrono::steady_clock::now() - start >= 300ms);
}

CAF_TEST(a cut after the first token is not retried) {
  tiny_server server{[](int fd, int) {
    send_all(fd, sse_head + token("par") + token("tial"));
    // close without [DONE]
  }};
  llm_client client{options(server.url())};
  recorder r;
  client.start(hello, r.callbacks());
  CAF_REQUIRE(r.wait_end());
  CAF_CHECK_EQUAL(r.errors, 1);
  CAF_CHECK(r.last_error.kind == failure_kind::cut);
  CAF_CHECK_EQUAL(r.text, "partial");
  CAF_CHECK_EQUAL(server.requests(), 1);
}

CAF_TEST(no first token in time) {
  tiny_server server{[](int fd, int) {
    send_all(fd, sse_head + ": thinking\n\n");
    wait_for_close(fd);
  }};
  auto opts = options(server.url());
  opts.limits.first_token_timeout = 200ms;
  llm_client client{opts};
  recorder r;
  client.start(hello, r.callbacks());
  CAF_REQUIRE(r.wait_end());
  CAF_CHECK(r.last_error.kind == failure_kind::first_token);
  CAF_CHECK_EQUAL(r.last_error.text,
                  "The AI service did not start answering within 200 ms");
}

CAF_TEST(silence mid - stream) {
  tiny_server server{[](int fd, int) {
    send_all(fd, sse_head + token("Hi"));
    wait_for_close(fd);
  }};
  auto opts = options(server.url());
  opts.limits.idle_timeout = 200ms;
  llm_client client{opts};
  recorder r;
  client.start(hello, r.callbacks());
  CAF_REQUIRE(r.wait_end());
  CAF_CHECK(r.last_error.kind == failure_kind::silence);
  CAF_CHECK_EQUAL(r.text, "Hi");
  CAF_CHECK_EQUAL(server.requests(), 1);
}

CAF_TEST(cancel aborts the request and silences the callbacks) {
  std::atomic<bool> closed{false};
  tiny_server server{[&closed](int fd, int) {
    send_all(fd, sse_head + token("one"));
    wait_for_close(fd);
    closed = true;
  }};
  llm_client client{options(server.url())};
  recorder r;
  auto id = client.start(hello, r.callbacks());
  CAF_REQUIRE(r.wait_text(3));
  client.cancel(id);
  for (int i = 0; i < 200 && !closed; ++i)
    std::this_thread::sleep_for(10ms);
  CAF_CHECK(closed);
  CAF_CHECK(!r.wait_end(300ms));
  client.cancel(id);    // twice is fine
  client.cancel(12345); // unknown is fine
}

CAF_TEST(an unreachable server) {
  std::string url;
  { // a port that was free a moment ago
    tiny_server gone{[](int, int) {}};
    url = gone.url();
  }
  llm_client client{options(url)};
  recorder r;
  client.start(hello, r.callbacks());
  CAF_REQUIRE(r.wait_end());
  CAF_CHECK(r.last_error.kind == failure_kind::unreachable);
  CAF_CHECK_EQUAL(r.last_error.text, "Could not reach the AI service");
  CAF_CHECK_EQUAL(r.retries, 2);
}

CAF_TEST(after stop a start fails at once) {
  llm_client client{options("http://127.0.0.1:9")};
  client.stop();
  recorder r;
  client.start(hello, r.callbacks());
  CAF_CHECK_EQUAL(r.errors, 1);
  CAF_CHECK(r.last_error.kind == failure_kind::shutdown);
}

CAF_TEST(many streams share one loop) {
  constexpr int n = 200;
  tiny_server server{[](int fd, int) {
    send_all(fd, sse_head + token("a"));
    std::this_thread::sleep_for(50ms); // all of them open at once
    send_all(fd, token("b") + stream_end);
  }};
  llm_client client{options(server.url())};
  std::vector<recorder> rs(n);
  for (auto& r : rs)
    client.start(hello, r.callbacks());
  int ok = 0;
  for (auto& r : rs)
    if (r.wait_end() && r.done == 1 && r.text == "ab")
      ++ok;
  CAF_CHECK_EQUAL(ok, n);
}
