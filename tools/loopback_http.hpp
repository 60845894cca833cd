#pragma once

// Test-only: a tiny HTTP/1.1 server on 127.0.0.1 (any free port) that
// answers every GET with one configurable response, on its own thread.
// Enough to exercise libcurl against a real socket without the network.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace parley::test {

class loopback_http {
public:
  loopback_http() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0)
      throw std::runtime_error("socket failed");
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0
        || ::listen(fd_, 16) != 0
        || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(fd_);
      throw std::runtime_error("bind/listen on 127.0.0.1 failed");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread{[this] { run(); }};
  }

  loopback_http(const loopback_http&) = delete;

  loopback_http& operator=(const loopback_http&) = delete;

  ~loopback_http() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }

  std::uint16_t port() const {
    return port_;
  }

  std::string url(const std::string& path = "/jwks.json") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  // What every following request gets.
  void respond(int status, std::string body) {
    std::lock_guard<std::mutex> guard{mtx_};
    status_ = status;
    body_ = std::move(body);
  }

  // Waits this long before answering (to keep a fetch in flight).
  void delay(std::chrono::milliseconds x) {
    std::lock_guard<std::mutex> guard{mtx_};
    delay_ = x;
  }

  // Requests answered so far.
  std::size_t requests() const {
    return requests_;
  }

  // The request lines received so far ("GET /jwks.json HTTP/1.1").
  std::vector<std::string> request_lines() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return lines_;
  }

private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0)
        continue;
      int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0)
        continue;
      serve(client);
      ::close(client);
    }
  }

  void serve(int client) {
    std::string request;
    char buf[1024];
    while (request.find("\r\n\r\n") == std::string::npos) {
      pollfd p{client, POLLIN, 0};
      if (::poll(&p, 1, 2000) <= 0)
        return;
      auto n = ::recv(client, buf, sizeof(buf), 0);
      if (n <= 0)
        return;
      request.append(buf, static_cast<std::size_t>(n));
    }
    int status;
    std::string body;
    std::chrono::milliseconds wait;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      lines_.push_back(request.substr(0, request.find("\r\n")));
      status = status_;
      body = body_;
      wait = delay_;
    }
    // Counted before answering, so that a client that got the answer
    // always sees it counted.
    ++requests_;
    std::this_thread::sleep_for(wait);
    auto response = "HTTP/1.1 " + std::to_string(status)
                    + (status == 200 ? " OK" : " Error")
                    + "\r\nContent-Type: application/json\r\nContent-Length: "
                    + std::to_string(body.size())
                    + "\r\nConnection: close\r\n\r\n" + body;
    std::size_t sent = 0;
    while (sent < response.size()) {
      auto n = ::send(client, response.data() + sent, response.size() - sent,
                      MSG_NOSIGNAL);
      if (n <= 0)
        break;
      sent += static_cast<std::size_t>(n);
    }
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> requests_{0};
  mutable std::mutex mtx_;
  int status_ = 200;
  std::string body_ = R"({"keys":[]})";
  std::chrono::milliseconds delay_{0};
  std::vector<std::string> lines_;
  std::thread thread_;
};

} // namespace parley::test
