#pragma once

// RFC 6455 framing for the server side, without I/O: the frame headers it
// writes (unmasked) and an incremental reader of client frames (masked). Our
// own rather than Beast's stream because Beast keeps a 1.5 KB read buffer and
// more in every connection, idle or not, and writes one frame per syscall;
// the session (ws_session) reads into a per-thread buffer and gathers queued
// frames into one write.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace parley::net::ws {

enum class opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

// Close codes we send (RFC 6455, 7.4.1).
namespace close_code {
constexpr std::uint16_t normal = 1000;
constexpr std::uint16_t going_away = 1001;
constexpr std::uint16_t protocol_error = 1002;
constexpr std::uint16_t bad_payload = 1007; // text that is not UTF-8
constexpr std::uint16_t policy_error = 1008;
constexpr std::uint16_t too_big = 1009;
} // namespace close_code

// The largest header: 2 bytes, 8 of extended length (servers do not mask).
constexpr std::size_t max_header_size = 10;

// Writes the header of a final, unmasked frame into `out`; returns its size.
std::size_t write_header(unsigned char* out, opcode op, std::size_t length);

// A whole close frame (header + code), for the write queue.
std::string close_frame(std::uint16_t code);

// A whole control frame with `payload` (at most 125 bytes).
std::string control_frame(opcode op, std::string_view payload);

// Turns the bytes a client sends into messages. Holds only the frame or
// fragmented message in progress; an idle connection's reader is empty.
class frame_reader {
public:
  struct handler {
    virtual ~handler() = default;
    // A complete data message (fragments joined); text is valid UTF-8.
    virtual void on_message(bool text, std::string payload) = 0;
    virtual void on_ping(std::string payload) = 0;
    // The peer's close frame: its code (1005 if none) and reason.
    virtual void on_close(std::uint16_t code) = 0;
    // The client broke the protocol: close with `code`; read no further.
    virtual void on_violation(std::uint16_t code, const char* why) = 0;
  };

  explicit frame_reader(std::size_t max_message) : max_message_(max_message) {
    // nop
  }

  // Feeds received bytes; calls `h` for what they complete. After
  // on_violation or on_close it ignores everything.
  void feed(const char* data, std::size_t size, handler& h);

  // Whether a frame or message is half-read (for tests).
  bool idle() const noexcept {
    return header_len_ == 0 && !in_frame_ && !in_message_;
  }

private:
  void begin_frame(handler& h);
  void end_frame(handler& h);
  void fail(handler& h, std::uint16_t code, const char* why);

  std::size_t max_message_;
  bool done_ = false; // after close or a violation
  // The header being read.
  unsigned char header_[14] = {};
  std::size_t header_len_ = 0;
  // The frame whose payload is being read.
  bool in_frame_ = false;
  opcode op_ = opcode::continuation;
  bool fin_ = false;
  unsigned char mask_[4] = {};
  std::uint64_t remaining_ = 0;
  std::uint64_t unmasked_ = 0; // payload bytes of this frame so far
  std::string control_;        // a control frame's payload
  // The data message being assembled (fragments).
  bool in_message_ = false;
  bool text_ = false;
  std::string message_;
};

} // namespace parley::net::ws
