#include "net/ws_handshake.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <boost/beast/websocket/rfc6455.hpp>

namespace parley::net::ws {

namespace {

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3), '\0');
  auto n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data,
                           static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// A key is the base64 form of 16 bytes: 24 characters ending in "==".
bool valid_key(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==")
    return false;
  unsigned char raw[18];
  return EVP_DecodeBlock(raw,
                         reinterpret_cast<const unsigned char*>(key.data()), 24)
         == 18;
}

std::string refuse(unsigned status, const char* reason, const char* extra) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason
                    + "\r\nContent-Type: application/json\r\n" + extra
                    + "Connection: close\r\nContent-Length: ";
  std::string body = std::string{R"({"error":")"} + reason + "\"}";
  out += std::to_string(body.size()) + "\r\n\r\n" + body;
  return out;
}

} // namespace

std::string accept_key(std::string_view key) {
  static constexpr std::string_view guid
      = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string text{key};
  text.append(guid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(),
       digest);
  return base64(digest, sizeof(digest));
}

handshake accept(const http_request& req) {
  handshake out;
  if (!boost::beast::websocket::is_upgrade(req)) {
    out.response = refuse(400, "Bad WebSocket upgrade", "");
    return out;
  }
  auto version = req[boost::beast::http::field::sec_websocket_version];
  if (version != "13") {
    out.response
        = refuse(426, "Upgrade Required", "Sec-WebSocket-Version: 13\r\n");
    return out;
  }
  auto key = req[boost::beast::http::field::sec_websocket_key];
  if (!valid_key(key)) {
    out.response = refuse(400, "Bad Sec-WebSocket-Key", "");
    return out;
  }
  out.ok = true;
  out.response = "HTTP/1.1 101 Switching Protocols\r\n"
                 "Upgrade: websocket\r\n"
                 "Connection: Upgrade\r\n"
                 "Sec-WebSocket-Accept: "
                 + accept_key(key) + "\r\n\r\n";
  return out;
}

} // namespace parley::net::ws
