#pragma once

// The REST endpoints of CONTRACT.md for the visitor chat (seed 002), in the
// shape of Beast's advanced server `handle_request(req, send)`: no socket in
// here, so routing and validation are unit-testable. Included by net/ and by
// tests only (Beast's HTTP message headers are not light).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "actors/engine.hpp"

namespace parley {
struct settings;
} // namespace parley

namespace parley::net {

using http_request
  = boost::beast::http::request<boost::beast::http::string_body>;
using http_response
  = boost::beast::http::response<boost::beast::http::string_body>;

// Receives the one response to a request. May run on an engine thread: the
// connection posts it back onto its own io thread.
using respond_fn = std::function<void(http_response)>;

// -- routing ------------------------------------------------------------------

enum class route_kind {
  not_found,
  healthz,  // GET /healthz
  sessions, // POST /api/chats/sessions/
  session,  // GET /api/chats/sessions/{id}/
  ws_chat,  // GET /ws/chat/ (WebSocket)
};

struct route {
  route_kind kind = route_kind::not_found;
  std::string_view id; // session: the {id} segment, not yet checked
};

// Routes a path (no query string); the trailing slash is optional.
route match_route(std::string_view path);

// -- requests -----------------------------------------------------------------

// A request after routing and validation: either an answer right away, or
// the engine call to make.
struct rest_call {
  enum class action { respond, health, create_session, get_session };
  action what = action::respond;
  http_response response;        // respond: the answer
  std::string session_id;        // get_session: lowercase UUID
  std::string visitor_id;        // create_session: UUID or ""; get: as sent
  std::string conversation_data; // create_session: object text or ""
};

// Routes and validates `req`; never touches the engine.
rest_call parse_request(const http_request& req, std::size_t max_body);

// Answers `req` through `send`, calling the engine when needed.
void handle_request(engine& eng, const settings& cfg, http_request&& req,
                    respond_fn send);

// -- responses ----------------------------------------------------------------

// A JSON response with Content-Type application/json.
http_response json_response(unsigned status, std::string body, unsigned version,
                            bool keep_alive);

// {"error": text}
std::string error_json(std::string_view text);

// The answer to an engine reply that failed (status >= 400): its status and
// error text, or a generic one for the status.
http_response error_response(const session_reply& reply, unsigned version,
                             bool keep_alive);

// The session as the REST API shows it: session_id, visitor_id, status,
// created_at, expires_at, and with `with_messages` also conversation_data and
// messages [{id, role, content, type, state, created_at}], oldest first.
std::string session_json(const session_reply& reply, bool with_messages);

// Epoch milliseconds as ISO 8601 UTC: 2026-11-22T06:35:52.123Z.
std::string iso8601_utc_ms(std::int64_t epoch_ms);

} // namespace parley::net
