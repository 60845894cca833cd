#include "net/http_session.hpp"

#include <chrono>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "config/settings.hpp"
#include "net/context.hpp"
#include "net/cors.hpp"
#include "net/log.hpp"
#include "net/caller.hpp"
#include "net/conversation_api.hpp"
#include "net/ids.hpp"
#include "net/query.hpp"
#include "net/sse_session.hpp"
#include "net/ws_session.hpp"

namespace parley::net {

namespace {

// Idle keep-alive connections and slow clients give up their socket then.
constexpr auto io_timeout = std::chrono::seconds(30);

bool is_http_error(beast::error_code ec) {
  return ec.category()
         == http::make_error_code(http::error::bad_target).category();
}

} // namespace

http_session::http_session(socket_type&& socket, context& ctx)
  : stream_(std::move(socket)), ctx_(ctx) {
  // nop
}

http_session::~http_session() {
  ctx_.http_sessions.remove(this);
}

void http_session::run() {
  ctx_.http_sessions.add(shared_from_this());
  asio::dispatch(stream_.get_executor(),
                 beast::bind_front_handler(&http_session::do_read,
                                           shared_from_this()));
}

void http_session::shutdown() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    self->stopping_ = true;
    if (!self->busy_)
      self->stream_.cancel(); // the pending read ends, and so the session
  });
}

void http_session::do_read() {
  busy_ = false;
  if (stopping_ || ctx_.stopping)
    return do_close();
  parser_.emplace();
  allow_origin_.clear();
  // Beast checks Content-Length against the limit while it parses the
  // header, before the path is known: the largest any path allows here,
  // the path's own in on_header.
  parser_->body_limit(max_body_limit(ctx_.cfg));
  stream_.expires_after(io_timeout);
  http::async_read_header(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&http_session::on_header,
                                                    shared_from_this()));
}

void http_session::on_header(beast::error_code ec, std::size_t) {
  if (ec)
    return on_read_error(ec);
  allow_origin_ = allowed_origin(parser_->get()[http::field::origin],
                                 ctx_.cfg.cors_origins);
  // Known from the path: a message may carry an image.
  auto limit = conversation_body_limit(
    split_target(parser_->get().target()).path, ctx_.cfg);
  auto length = parser_->content_length();
  if (length && *length > limit)
    return respond(413, "Request body too large", true);
  auto small = ctx_.cfg.max_frame_bytes;
  if (limit <= small || (length ? *length <= small : !parser_->chunked()))
    return read_body(limit);
  // Only a signed-in user's message (with an image) may be this large: the
  // token is checked before megabytes are read and held, not after.
  auto& req = parser_->get();
  identify(request_token(req[http::field::authorization],
                         split_target(req.target()).query),
           ctx_.auth, [self = shared_from_this(), limit](caller who) {
             asio::post(self->stream_.get_executor(),
                        [self, limit, who = std::move(who)] {
                          if (!who.ok())
                            return self->respond(401, who.error, true);
                          self->read_body(limit);
                        });
           });
}

void http_session::read_body(std::size_t limit) {
  parser_->body_limit(limit);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&http_session::on_read,
                                             shared_from_this()));
}

void http_session::on_read(beast::error_code ec, std::size_t) {
  if (ec)
    return on_read_error(ec);
  busy_ = true;
  if (websocket::is_upgrade(parser_->get()))
    return upgrade();
  if (is_preflight(parser_->get()))
    return on_response(preflight_response(parser_->get(), allow_origin_));
  if (ctx_.stopping)
    return respond(503, "Server is shutting down", true);
  auto path = split_target(parser_->get().target()).path;
  if (is_chat_room_path(path))
    return signed_in(&http_session::chat_room);
  if (is_conversation_path(path))
    return signed_in(&http_session::conversations);
  handle_request(ctx_.eng, ctx_.cfg, parser_->release(), responder());
}

void http_session::signed_in(void (http_session::*next)(caller)) {
  auto& req = parser_->get();
  auto token = request_token(req[http::field::authorization],
                             split_target(req.target()).query);
  // The answer may come from the JWKS worker: back onto this connection's
  // thread.
  identify(std::move(token), ctx_.auth,
           [self = shared_from_this(), next](caller who) {
             asio::post(self->stream_.get_executor(),
                        [self, next, who = std::move(who)]() mutable {
                          ((*self).*next)(std::move(who));
                        });
           });
}

respond_fn http_session::responder() {
  // The engine answers on its own threads: back onto this connection's.
  return [self = shared_from_this()](http_response res) {
    asio::post(self->stream_.get_executor(),
               [self, res = std::move(res)]() mutable {
                 self->on_response(std::move(res));
               });
  };
}

void http_session::on_read_error(beast::error_code ec) {
  if (ec == http::error::end_of_stream)
    return do_close();
  if (ec == http::error::body_limit)
    return respond(413, "Request body too large", true);
  if (ec == http::error::header_limit)
    return respond(431, "Request header too large", true);
  if (is_http_error(ec) && ec != http::error::partial_message)
    return respond(400, "Bad request", true);
  return fail(ec, "http read");
}

void http_session::upgrade() {
  auto target = split_target(parser_->get().target());
  if (notification_socket_id(target.path))
    return signed_in(&http_session::open_notifications);
  if (match_route(target.path).kind != route_kind::ws_chat)
    return respond(404, "Not found", true);
  auto sid = query_param(target.query, "session_id").value_or("");
  auto vid = query_param(target.query, "visitor_id").value_or("");
  // The WebSocket has timeouts of its own; this session ends here.
  stream_.expires_never();
  std::make_shared<ws_session>(stream_.release_socket(), ctx_, visitor_socket)
    ->run(parser_->release(), visitor_start(std::move(sid), std::move(vid)),
          beast::buffers_to_string(buffer_.data()));
}

void http_session::open_notifications(caller who) {
  // Refused before the 101: a client never holds a socket it may not use.
  auto& req = parser_->get();
  auto target = split_target(req.target());
  auto id = *notification_socket_id(target.path);
  if (!who.ok())
    return respond(401, who.error, true);
  if (!is_uuid(id))
    return respond(404, "Conversation not found", true);
  if (ctx_.stopping)
    return respond(503, "Server is shutting down", true);
  auto stream = query_param(target.query, "stream").value_or("");
  const ws_dialect* dialect = stream == "1" || stream == "true"
                                ? &notification_stream_socket
                                : &notification_socket;
  auto conversation = canonical_uuid(id);
  auto sub = who.sub;
  ctx_.eng.get_conversation(
    conversation, std::move(sub),
    [self = shared_from_this(), conversation, sub = who.sub,
     dialect](session_reply r) mutable {
      asio::post(self->stream_.get_executor(), [self, conversation, sub,
                                                dialect, r = std::move(r)] {
        if (r.status >= 400)
          return self->respond(static_cast<unsigned>(r.status), r.error, true);
        self->stream_.expires_never();
        std::make_shared<ws_session>(self->stream_.release_socket(),
                                     self->ctx_, *dialect)
          ->run(self->parser_->release(),
                notification_start(conversation, sub),
                beast::buffers_to_string(self->buffer_.data()));
      });
    },
    false);
}

void http_session::conversations(caller who) {
  auto req = parser_->release();
  auto call = parse_conversation_request(req, std::move(who), ctx_.cfg);
  handle_conversation_rest(ctx_.eng, std::move(call), req.version(),
                           req.keep_alive(), responder());
}

void http_session::chat_room(caller who) {
  auto req = parser_->release();
  auto version = req.version();
  auto keep_alive = req.keep_alive();
  auto call = parse_chat_request(req, std::move(who));
  if (call.what != chat_request::action::stream)
    return handle_chat_rest(ctx_.eng, std::move(call), version, keep_alive,
                            responder());
  // The engine answers on its own threads: back onto this connection's.
  auto back = [self = shared_from_this()](auto f) {
    asio::post(self->stream_.get_executor(), std::move(f));
  };
  // Only the room's owner may stream into it; anyone else learns nothing.
  auto room = call.room_id;
  auto owner = call.owner;
  ctx_.eng.get_conversation(
    std::move(room), std::move(owner),
    [back, self = shared_from_this(), call = std::move(call), version,
     keep_alive](session_reply r) mutable {
      back([self, call = std::move(call), r = std::move(r), version,
            keep_alive]() mutable {
        if (r.status == 404)
          return self->on_response(room_not_found(version, keep_alive));
        if (r.status >= 400)
          return self->on_response(error_response(r, version, keep_alive));
        self->open_stream(std::move(call), version);
      });
    },
    false);
}

void http_session::open_stream(chat_request call, unsigned version) {
  // The stream has timeouts of its own; this session ends here.
  stream_.expires_never();
  std::make_shared<sse_session>(stream_.release_socket(), ctx_)
    ->run(version, std::move(call), allow_origin_);
}

void http_session::respond(unsigned status, std::string_view error,
                           bool close) {
  busy_ = true;
  unsigned version = 11;
  if (parser_ && parser_->is_header_done())
    version = parser_->get().version();
  auto res = json_response(status, error_json(error), version, !close);
  on_response(std::move(res));
}

void http_session::on_response(http_response res) {
  bool close = !res.keep_alive() || stopping_ || ctx_.stopping;
  res.keep_alive(!close);
  if (!allow_origin_.empty()) {
    res.set(http::field::access_control_allow_origin, allow_origin_);
    if (allow_origin_ != "*")
      res.set(http::field::vary, "Origin");
  }
  res_.emplace(std::move(res));
  stream_.expires_after(io_timeout);
  http::async_write(stream_, *res_,
                    beast::bind_front_handler(&http_session::on_write,
                                              shared_from_this(), close));
}

void http_session::on_write(bool close, beast::error_code ec, std::size_t) {
  if (ec)
    return fail(ec, "http write");
  res_.reset();
  if (close)
    return do_close();
  do_read();
}

void http_session::do_close() {
  // Send a FIN and let the peer close; the socket goes with the session.
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
}

} // namespace parley::net
