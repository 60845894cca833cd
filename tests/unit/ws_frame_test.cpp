#define CAF_SUITE ws_frame
#include <caf/test/unit_test.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "net/ws_frame.hpp"
#include "net/ws_handshake.hpp"

namespace ws = parley::net::ws;

namespace {

// What a reader reported, in order, as text: "text:hello", "ping:x",
// "close:1000", "violation:1002".
struct recorder : ws::frame_reader::handler {
  std::vector<std::string> seen;
  void on_message(bool text, std::string payload) override {
    seen.push_back((text ? "text:" : "binary:") + payload);
  }
  void on_ping(std::string payload) override {
    seen.push_back("ping:" + payload);
  }
  void on_close(std::uint16_t code) override {
    seen.push_back("close:" + std::to_string(code));
  }
  void on_violation(std::uint16_t code, const char*) override {
    seen.push_back("violation:" + std::to_string(code));
  }
};

// A client frame: masked with a fixed key unless told otherwise.
std::string client_frame(unsigned first_byte, const std::string& payload,
                         bool masked = true) {
  std::string out;
  out += static_cast<char>(first_byte);
  auto n = payload.size();
  auto mask_bit = masked ? 0x80 : 0x00;
  if (n < 126) {
    out += static_cast<char>(mask_bit | n);
  } else if (n <= 0xFFFF) {
    out += static_cast<char>(mask_bit | 126);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xFF);
  } else {
    out += static_cast<char>(mask_bit | 127);
    for (int i = 7; i >= 0; --i)
      out += static_cast<char>((static_cast<std::uint64_t>(n) >> (8 * i))
                               & 0xFF);
  }
  const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
  if (masked)
    out.append(reinterpret_cast<const char*>(key), 4);
  for (std::size_t i = 0; i < n; ++i)
    out += masked ? static_cast<char>(payload[i] ^ key[i % 4]) : payload[i];
  return out;
}

std::string close_payload(std::uint16_t code, const std::string& reason = "") {
  std::string out;
  out += static_cast<char>(code >> 8);
  out += static_cast<char>(code & 0xFF);
  return out + reason;
}

std::vector<std::string> read_all(const std::string& bytes,
                                  std::size_t max = 1 << 20,
                                  std::size_t piece = 0) {
  ws::frame_reader reader{max};
  recorder rec;
  if (piece == 0) {
    reader.feed(bytes.data(), bytes.size(), rec);
  } else {
    for (std::size_t i = 0; i < bytes.size(); i += piece)
      reader.feed(bytes.data() + i, std::min(piece, bytes.size() - i), rec);
  }
  return rec.seen;
}

using strings = std::vector<std::string>;

} // namespace

CAF_TEST(the RFC example key gets the RFC example answer) {
  CAF_CHECK_EQUAL(ws::accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
                  "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

CAF_TEST(server headers use the shortest length form) {
  unsigned char h[ws::max_header_size];
  CAF_CHECK_EQUAL(ws::write_header(h, ws::opcode::text, 125), 2u);
  CAF_CHECK_EQUAL(h[0], 0x81);
  CAF_CHECK_EQUAL(h[1], 125);
  CAF_CHECK_EQUAL(ws::write_header(h, ws::opcode::text, 126), 4u);
  CAF_CHECK_EQUAL(h[1], 126);
  CAF_CHECK_EQUAL((h[2] << 8) | h[3], 126);
  CAF_CHECK_EQUAL(ws::write_header(h, ws::opcode::text, 65536), 10u);
  CAF_CHECK_EQUAL(h[1], 127);
  CAF_CHECK_EQUAL(h[7], 1); // 65536 = 0x00..010000
  CAF_CHECK_EQUAL(ws::close_frame(1009), std::string("\x88\x02\x03\xf1", 4));
}

CAF_TEST(messages of every length form are unmasked) {
  for (auto n : {0, 1, 125, 126, 65535, 65536, 200000}) {
    std::string payload(static_cast<std::size_t>(n), 'x');
    for (std::size_t i = 0; i < payload.size(); ++i)
      payload[i] = static_cast<char>('a' + i % 26);
    CAF_CHECK_EQUAL(read_all(client_frame(0x81, payload)),
                    strings{"text:" + payload});
  }
}

CAF_TEST(bytes may arrive one at a time) {
  auto bytes = client_frame(0x81, "hello") + client_frame(0x89, "p")
               + client_frame(0x82, std::string(300, 'b'));
  for (std::size_t piece : {1u, 2u, 3u, 7u, 64u}) {
    CAF_CHECK_EQUAL(
        read_all(bytes, 1 << 20, piece),
        (strings{"text:hello", "ping:p", "binary:" + std::string(300, 'b')}));
  }
}

CAF_TEST(a reader between messages holds nothing) {
  ws::frame_reader reader{1 << 20};
  recorder rec;
  auto bytes = client_frame(0x81, std::string(5000, 'z'));
  reader.feed(bytes.data(), 100, rec);
  CAF_CHECK(!reader.idle());
  reader.feed(bytes.data() + 100, bytes.size() - 100, rec);
  CAF_CHECK(reader.idle());
  CAF_CHECK_EQUAL(rec.seen.size(), 1u);
}

CAF_TEST(fragments join and control frames may come between them) {
  auto bytes = client_frame(0x01, "Hel") + client_frame(0x89, "x")
               + client_frame(0x00, "lo ") + client_frame(0x80, "world");
  CAF_CHECK_EQUAL(read_all(bytes), (strings{"ping:x", "text:Hello world"}));
}

CAF_TEST(protocol violations close with 1002) {
  auto bad = [](const std::string& bytes) { return read_all(bytes); };
  CAF_CHECK_EQUAL(bad(client_frame(0x81, "x", false)),
                  strings{"violation:1002"}); // unmasked
  CAF_CHECK_EQUAL(bad(client_frame(0xC1, "x")),
                  strings{"violation:1002"}); // RSV1 without an extension
  CAF_CHECK_EQUAL(bad(client_frame(0x83, "x")),
                  strings{"violation:1002"}); // reserved opcode
  CAF_CHECK_EQUAL(bad(client_frame(0x80, "x")),
                  strings{"violation:1002"}); // continuation of nothing
  CAF_CHECK_EQUAL(bad(client_frame(0x01, "a") + client_frame(0x81, "b")),
                  strings{"violation:1002"}); // new message inside one
  CAF_CHECK_EQUAL(bad(client_frame(0x09, "x")),
                  strings{"violation:1002"}); // fragmented ping
  CAF_CHECK_EQUAL(bad(client_frame(0x89, std::string(126, 'x'))),
                  strings{"violation:1002"}); // control frame too long
  CAF_CHECK_EQUAL(bad(client_frame(0x88, "x")),
                  strings{"violation:1002"}); // one-byte close payload
  CAF_CHECK_EQUAL(bad(client_frame(0x88, close_payload(1005))),
                  strings{"violation:1002"}); // reserved close code
  // Nothing is read after a violation.
  CAF_CHECK_EQUAL(bad(client_frame(0x83, "x") + client_frame(0x81, "y")),
                  strings{"violation:1002"});
}

CAF_TEST(text must be utf8 and messages must fit) {
  CAF_CHECK_EQUAL(read_all(client_frame(0x81, "caf\xc3")),
                  strings{"violation:1007"});
  CAF_CHECK_EQUAL(read_all(client_frame(0x81, "caf\xc3\xa9")),
                  strings{"text:caf\xc3\xa9"});
  // A character split across fragments is fine once joined.
  CAF_CHECK_EQUAL(
      read_all(client_frame(0x01, "caf\xc3") + client_frame(0x80, "\xa9")),
      strings{"text:caf\xc3\xa9"});
  CAF_CHECK_EQUAL(read_all(client_frame(0x81, std::string(101, 'x')), 100),
                  strings{"violation:1009"});
  CAF_CHECK_EQUAL(read_all(client_frame(0x01, std::string(60, 'x'))
                               + client_frame(0x80, std::string(41, 'x')),
                           100),
                  strings{"violation:1009"});
  // A claimed 2^62-byte frame fails on its header, before any allocation.
  std::string huge{"\x81\xff\x40\x00\x00\x00\x00\x00\x00\x00\x01\x02\x03\x04",
                   14};
  CAF_CHECK_EQUAL(read_all(huge), strings{"violation:1009"});
}

CAF_TEST(close frames report their code and end the reading) {
  CAF_CHECK_EQUAL(read_all(client_frame(0x88, close_payload(1000, "bye"))
                           + client_frame(0x81, "ignored")),
                  strings{"close:1000"});
  CAF_CHECK_EQUAL(read_all(client_frame(0x88, "")), strings{"close:1005"});
  CAF_CHECK_EQUAL(read_all(client_frame(0x88, close_payload(4000))),
                  strings{"close:4000"});
  CAF_CHECK_EQUAL(read_all(client_frame(0x88, close_payload(1000, "\xff"))),
                  strings{"violation:1007"});
}

CAF_TEST(random bytes never crash the reader) {
  std::mt19937 gen{20261122};
  std::uniform_int_distribution<int> byte{0, 255};
  std::uniform_int_distribution<std::size_t> len{0, 64};
  for (int round = 0; round < 20000; ++round) {
    std::string bytes(len(gen), '\0');
    for (auto& c : bytes)
      c = static_cast<char>(byte(gen));
    // Half of the rounds start with a valid masked header, to get deeper.
    if (round % 2 == 0)
      bytes = client_frame(0x81, "ok") + bytes;
    ws::frame_reader reader{1000};
    recorder rec;
    reader.feed(bytes.data(), bytes.size(), rec);
    CAF_CHECK(rec.seen.size() <= bytes.size());
  }
}
