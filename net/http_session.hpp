#pragma once

// One HTTP connection: reads requests one at a time (keep-alive), answers
// them through rest.hpp, chat_room_api.hpp or conversation_api.hpp, or hands
// the socket to a ws_session (an upgrade) or an sse_session (a stream).

#include <memory>
#include <optional>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "net/asio.hpp"
#include "net/caller.hpp"
#include "net/chat_room_api.hpp"
#include "net/rest.hpp"

namespace parley::net {

struct context;

class http_session : public std::enable_shared_from_this<http_session> {
public:
  http_session(socket_type&& socket, context& ctx);
  ~http_session();

  void run();

  // For shutdown, from any thread: an idle connection closes now, a busy
  // one after its response.
  void shutdown();

private:
  void do_read();
  void on_header(beast::error_code ec, std::size_t bytes);
  void read_body(std::size_t limit);
  void on_read(beast::error_code ec, std::size_t bytes);
  // Posts an engine's answer back onto this connection's thread.
  respond_fn responder();
  void on_read_error(beast::error_code ec);
  void upgrade();
  // Identifies the caller of a signed-in request, then runs `next`.
  void signed_in(void (http_session::*next)(caller));
  void open_notifications(caller who);
  void chat_room(caller who);
  void conversations(caller who);
  void open_stream(chat_request call, unsigned version);
  void respond(unsigned status, std::string_view error, bool close);
  void on_response(http_response res);
  void on_write(bool close, beast::error_code ec, std::size_t bytes);
  void do_close();

  beast::basic_stream<tcp, executor_type> stream_;
  beast::flat_buffer buffer_;
  context& ctx_;
  // A fresh parser per request: Beast parsers are single use.
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http_response> res_; // alive while it is written
  std::string allow_origin_; // the request's CORS answer, "" for none
  bool busy_ = false;        // between a request and its response
  bool stopping_ = false;
};

} // namespace parley::net
