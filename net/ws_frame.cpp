#include "net/ws_frame.hpp"

#include <algorithm>

#include "net/utf8.hpp"

namespace parley::net::ws {

std::size_t write_header(unsigned char* out, opcode op, std::size_t length) {
  out[0] = static_cast<unsigned char>(0x80 | static_cast<unsigned>(op));
  if (length < 126) {
    out[1] = static_cast<unsigned char>(length);
    return 2;
  }
  if (length <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<unsigned char>(length >> 8);
    out[3] = static_cast<unsigned char>(length);
    return 4;
  }
  out[1] = 127;
  auto n = static_cast<std::uint64_t>(length);
  for (int i = 0; i < 8; ++i)
    out[2 + i] = static_cast<unsigned char>(n >> (56 - 8 * i));
  return 10;
}

std::string control_frame(opcode op, std::string_view payload) {
  payload = payload.substr(0, 125);
  unsigned char header[max_header_size];
  auto n = write_header(header, op, payload.size());
  std::string out(reinterpret_cast<const char*>(header), n);
  out.append(payload);
  return out;
}

std::string close_frame(std::uint16_t code) {
  const char payload[2]
      = {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
  return control_frame(opcode::close, std::string_view{payload, 2});
}

namespace {

bool is_control(opcode op) {
  return static_cast<unsigned>(op) >= 0x8;
}

bool known(unsigned op) {
  return op <= 0x2 || (op >= 0x8 && op <= 0xA);
}

// Codes a peer may put in a close frame (RFC 6455, 7.4).
bool valid_close_code(std::uint16_t code) {
  if (code >= 3000 && code <= 4999)
    return true;
  return code >= 1000 && code <= 1014 && code != 1004 && code != 1005
         && code != 1006;
}

// How long the header that starts with these two bytes is.
std::size_t header_size(const unsigned char* h) {
  auto len7 = h[1] & 0x7F;
  auto ext = len7 == 126 ? 2u : len7 == 127 ? 8u : 0u;
  auto mask = (h[1] & 0x80) != 0 ? 4u : 0u;
  return 2 + ext + mask;
}

} // namespace

void frame_reader::fail(handler& h, std::uint16_t code, const char* why) {
  done_ = true;
  message_ = std::string();
  control_ = std::string();
  h.on_violation(code, why);
}

void frame_reader::feed(const char* data, std::size_t size, handler& h) {
  while (size > 0 && !done_) {
    if (!in_frame_) {
      // Two bytes tell the header's full size; then read the rest of it.
      auto want = header_len_ < 2 ? 2 : header_size(header_);
      auto take = std::min(want - header_len_, size);
      std::copy_n(data, take, header_ + header_len_);
      header_len_ += take;
      data += take;
      size -= take;
      if (header_len_ < 2 || header_len_ < header_size(header_))
        continue;
      header_len_ = 0;
      begin_frame(h);
      if (!done_ && remaining_ == 0)
        end_frame(h);
      continue;
    }
    auto take
        = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, size));
    auto& into = is_control(op_) ? control_ : message_;
    auto at = into.size();
    into.append(data, take);
    for (std::size_t i = 0; i < take; ++i)
      into[at + i]
          = static_cast<char>(into[at + i] ^ mask_[(unmasked_ + i) & 3]);
    unmasked_ += take;
    remaining_ -= take;
    data += take;
    size -= take;
    if (remaining_ == 0)
      end_frame(h);
  }
}

void frame_reader::begin_frame(handler& h) {
  const unsigned char* p = header_;
  fin_ = (p[0] & 0x80) != 0;
  auto op = static_cast<unsigned>(p[0] & 0x0F);
  if ((p[0] & 0x70) != 0)
    return fail(h, close_code::protocol_error, "reserved bits set");
  if (!known(op))
    return fail(h, close_code::protocol_error, "unknown opcode");
  if ((p[1] & 0x80) == 0)
    return fail(h, close_code::protocol_error, "client frame not masked");
  op_ = static_cast<opcode>(op);
  std::uint64_t len = p[1] & 0x7F;
  std::size_t at = 2;
  if (len == 126) {
    len = (std::uint64_t{p[2]} << 8) | p[3];
    at = 4;
  } else if (len == 127) {
    len = 0;
    for (int i = 0; i < 8; ++i)
      len = (len << 8) | p[2 + i];
    at = 10;
    if ((len >> 63) != 0)
      return fail(h, close_code::protocol_error, "frame length too large");
  }
  std::copy_n(p + at, 4, mask_);
  if (is_control(op_)) {
    if (!fin_ || len > 125)
      return fail(h, close_code::protocol_error, "bad control frame");
  } else {
    if (op_ == opcode::continuation && !in_message_)
      return fail(h, close_code::protocol_error, "continuation of nothing");
    if (op_ != opcode::continuation && in_message_)
      return fail(h, close_code::protocol_error, "unfinished message");
    if (len > max_message_ - message_.size())
      return fail(h, close_code::too_big, "message too big");
    if (op_ != opcode::continuation) {
      in_message_ = true;
      text_ = op_ == opcode::text;
    }
    message_.reserve(message_.size() + static_cast<std::size_t>(len));
  }
  in_frame_ = true;
  remaining_ = len;
  unmasked_ = 0;
}

void frame_reader::end_frame(handler& h) {
  in_frame_ = false;
  if (is_control(op_)) {
    auto payload = std::move(control_);
    control_ = std::string();
    if (op_ == opcode::ping)
      return h.on_ping(std::move(payload));
    if (op_ == opcode::pong)
      return;
    std::uint16_t code = 1005; // no status code present
    if (payload.size() == 1)
      return fail(h, close_code::protocol_error, "bad close frame");
    if (payload.size() >= 2) {
      code = static_cast<std::uint16_t>(
          (static_cast<unsigned char>(payload[0]) << 8)
          | static_cast<unsigned char>(payload[1]));
      if (!valid_close_code(code))
        return fail(h, close_code::protocol_error, "bad close code");
      if (!is_utf8(std::string_view{payload}.substr(2)))
        return fail(h, close_code::bad_payload, "close reason not UTF-8");
    }
    done_ = true;
    return h.on_close(code);
  }
  if (!fin_)
    return;
  in_message_ = false;
  auto msg = std::move(message_);
  message_ = std::string(); // an idle reader holds no buffer
  if (text_ && !is_utf8(msg))
    return fail(h, close_code::bad_payload, "text message not UTF-8");
  h.on_message(text_, std::move(msg));
}

} // namespace parley::net::ws
