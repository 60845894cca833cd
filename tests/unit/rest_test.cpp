#define CAF_SUITE rest
#include <caf/test/unit_test.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "actors/engine.hpp"
#include "net/query.hpp"
#include "net/rest.hpp"

namespace http = boost::beast::http;

using parley::net::http_request;
using parley::net::match_route;
using parley::net::parse_request;
using parley::net::rest_call;
using parley::net::route_kind;

namespace {

constexpr const char* sid = "550e8400-e29b-41d4-a716-446655440000";
constexpr const char* vid = "660e8400-e29b-41d4-a716-446655440000";
constexpr std::size_t max_body = 65536;

http_request request(http::verb method, std::string target,
                     std::string body = {}) {
  http_request req{method, target, 11};
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

rest_call call(http::verb method, std::string target, std::string body = {}) {
  return parse_request(request(method, std::move(target), std::move(body)),
                       max_body);
}

// The status and {"error"} text of an immediate answer.
std::string answer(const rest_call& c) {
  if (c.what != rest_call::action::respond)
    return "(no answer)";
  auto doc = nlohmann::json::parse(c.response.body());
  return std::to_string(c.response.result_int()) + " "
         + doc.value("error", std::string{});
}

} // namespace

// -- routing ------------------------------------------------------------------

CAF_TEST(routes) {
  CAF_CHECK(match_route("/healthz").kind == route_kind::healthz);
  CAF_CHECK(match_route("/ws/chat/").kind == route_kind::ws_chat);
  CAF_CHECK(match_route("/ws/chat").kind == route_kind::ws_chat);
  CAF_CHECK(match_route("/api/chats/sessions/").kind == route_kind::sessions);
  CAF_CHECK(match_route("/api/chats/sessions").kind == route_kind::sessions);
  auto r = match_route("/api/chats/sessions/abc/");
  CAF_CHECK(r.kind == route_kind::session);
  CAF_CHECK_EQUAL(r.id, "abc");
  CAF_CHECK_EQUAL(match_route("/api/chats/sessions/abc").id, "abc");
  for (auto path :
       {"/", "", "/ws/chat/x", "/ws/chatx", "/api/chats/sessions//",
        "/api/chats/sessions/a/b", "/api/chats/sessionsx", "/healthz//"})
    CAF_CHECK(match_route(path).kind == route_kind::not_found);
}

CAF_TEST(unknown paths and wrong methods) {
  CAF_CHECK_EQUAL(answer(call(http::verb::get, "/nope")), "404 Not found");
  auto c = call(http::verb::post, "/healthz");
  CAF_CHECK_EQUAL(answer(c), "405 Method not allowed");
  CAF_CHECK_EQUAL(c.response[http::field::allow], "GET");
  c = call(http::verb::get, "/api/chats/sessions/");
  CAF_CHECK_EQUAL(answer(c), "405 Method not allowed");
  CAF_CHECK_EQUAL(c.response[http::field::allow], "POST");
  c = call(http::verb::delete_, std::string{"/api/chats/sessions/"} + sid);
  CAF_CHECK_EQUAL(answer(c), "405 Method not allowed");
  CAF_CHECK_EQUAL(answer(call(http::verb::get, "/ws/chat/")),
                  "426 WebSocket upgrade required");
}

CAF_TEST(every answer is JSON) {
  auto c = call(http::verb::get, "/nope");
  CAF_CHECK_EQUAL(c.response[http::field::content_type], "application/json");
  CAF_CHECK(c.response.keep_alive());
  CAF_CHECK_EQUAL(c.response[http::field::content_length],
                  std::to_string(c.response.body().size()));
}

// -- POST /api/chats/sessions/ ----------------------------------------------

CAF_TEST(create session bodies) {
  auto c = call(http::verb::post, "/api/chats/sessions/");
  CAF_CHECK(c.what == rest_call::action::create_session);
  CAF_CHECK_EQUAL(c.visitor_id, "");
  CAF_CHECK_EQUAL(c.conversation_data, "");
  c = call(http::verb::post, "/api/chats/sessions",
           R"({"visitor_id":"660E8400-E29B-41D4-A716-446655440000",)"
           R"("conversation_data":{"name":"Jo","tags":[1]},"extra":1})");
  CAF_CHECK(c.what == rest_call::action::create_session);
  CAF_CHECK_EQUAL(c.visitor_id, vid);
  // CAF_CHECK_EQUAL binds references: no temporaries in its arguments.
  auto data = nlohmann::json::parse(c.conversation_data);
  CAF_CHECK_EQUAL(data["name"], "Jo");
  c = call(http::verb::post, "/api/chats/sessions/",
           R"({"visitor_id":null,"conversation_data":null})");
  CAF_CHECK(c.what == rest_call::action::create_session);
  CAF_CHECK_EQUAL(c.visitor_id, "");
}

CAF_TEST(create session errors) {
  auto bad = [](std::string body) {
    return answer(call(http::verb::post, "/api/chats/sessions/", body));
  };
  CAF_CHECK_EQUAL(bad("{oops"), "400 Invalid JSON");
  CAF_CHECK_EQUAL(bad("[]"), "400 Body must be a JSON object");
  CAF_CHECK_EQUAL(bad(R"({"visitor_id":"nope"})"),
                  "400 visitor_id must be a UUID");
  CAF_CHECK_EQUAL(bad(R"({"visitor_id":7})"), "400 visitor_id must be a UUID");
  CAF_CHECK_EQUAL(bad(R"({"conversation_data":[1]})"),
                  "400 conversation_data must be an object");
  CAF_CHECK_EQUAL(bad(R"({"conversation_data":"{}"})"),
                  "400 conversation_data must be an object");
  CAF_CHECK_EQUAL(bad(std::string(max_body + 1, ' ')),
                  "413 Request body too large");
  // Writing it back would recurse once per level (a crash at a few
  // thousand); 64 levels is the limit.
  auto nested = [](std::size_t depth) {
    return R"({"conversation_data":)" + std::string(depth - 1, '[')
           + std::string(depth - 1, ']') + "}";
  };
  CAF_CHECK_EQUAL(bad(nested(65)),
                  "400 JSON is nested more than 64 levels deep");
  CAF_CHECK_EQUAL(bad(nested(3000)),
                  "400 JSON is nested more than 64 levels deep");
  CAF_CHECK_EQUAL(bad(nested(64)), "400 conversation_data must be an object");
  // Brackets inside strings are text, an escaped quote does not end one.
  CAF_CHECK_EQUAL(bad(R"({"visitor_id":")" + std::string(100, '[') + R"(\""})"),
                  "400 visitor_id must be a UUID");
}

// -- GET /api/chats/sessions/{id}/ --------------------------------------------

CAF_TEST(get session) {
  auto c = call(http::verb::get,
                "/api/chats/sessions/550E8400-E29B-41D4-A716-446655440000/"
                "?visitor_id=660e8400%2De29b-41d4-a716-446655440000&x=1");
  CAF_CHECK(c.what == rest_call::action::get_session);
  CAF_CHECK_EQUAL(c.session_id, sid);
  CAF_CHECK_EQUAL(c.visitor_id, vid);
  c = call(http::verb::get, std::string{"/api/chats/sessions/"} + sid);
  CAF_CHECK(c.what == rest_call::action::get_session);
  CAF_CHECK_EQUAL(c.visitor_id, "");
  CAF_CHECK_EQUAL(answer(call(http::verb::get, "/api/chats/sessions/xyz/")),
                  "404 Session not found");
}

// -- responses ----------------------------------------------------------------

CAF_TEST(timestamps) {
  using parley::net::iso8601_utc_ms;
  CAF_CHECK_EQUAL(iso8601_utc_ms(0), "1970-01-01T00:00:00.000Z");
  CAF_CHECK_EQUAL(iso8601_utc_ms(-1), "1969-12-31T23:59:59.999Z");
  CAF_CHECK_EQUAL(iso8601_utc_ms(951782400000), "2000-02-29T00:00:00.000Z");
  CAF_CHECK_EQUAL(iso8601_utc_ms(1709251199999), "2024-02-29T23:59:59.999Z");
  CAF_CHECK_EQUAL(iso8601_utc_ms(1795329352123), "2026-11-22T06:35:52.123Z");
  CAF_CHECK_EQUAL(iso8601_utc_ms(4102444800000), "2100-01-01T00:00:00.000Z");
}

CAF_TEST(session json) {
  parley::session_reply reply;
  reply.session.id = sid;
  reply.session.visitor_id = vid;
  reply.session.status = "active";
  reply.session.created_at = 1795329352123;
  reply.session.expires_at = 1795415752123;
  reply.session.conversation_data = R"({"name":"Jo"})";
  parley::storage::message_record m;
  m.id = "m1";
  m.session_id = sid;
  m.role = "user";
  m.kind = "message";
  m.content = "hi \"there\"";
  m.state = "complete";
  m.created_at = 1795329353000;
  reply.messages.push_back(m);
  CAF_CHECK_EQUAL(
    parley::net::session_json(reply, false),
    R"({"session_id":"550e8400-e29b-41d4-a716-446655440000",)"
    R"("visitor_id":"660e8400-e29b-41d4-a716-446655440000",)"
    R"("status":"active","created_at":"2026-11-22T06:35:52.123Z",)"
    R"("expires_at":"2026-11-23T06:35:52.123Z"})");
  auto doc = nlohmann::json::parse(parley::net::session_json(reply, true));
  CAF_CHECK_EQUAL(doc["conversation_data"]["name"], "Jo");
  CAF_CHECK_EQUAL(doc["messages"].size(), 1u);
  CAF_CHECK_EQUAL(doc["messages"][0].dump(),
                  R"({"content":"hi \"there\"",)"
                  R"("created_at":"2026-11-22T06:35:53.000Z","id":"m1",)"
                  R"("role":"user","state":"complete","type":"message"})");
  reply.session.conversation_data = "not json";
  doc = nlohmann::json::parse(parley::net::session_json(reply, true));
  CAF_CHECK_EQUAL(doc["conversation_data"].dump(), "{}");
}

// -- query strings ------------------------------------------------------------

CAF_TEST(targets and queries) {
  using parley::net::percent_decode;
  using parley::net::query_param;
  auto t = parley::net::split_target("/ws/chat/?session_id=a&visitor_id=b#f");
  CAF_CHECK_EQUAL(t.path, "/ws/chat/");
  CAF_CHECK_EQUAL(t.query, "session_id=a&visitor_id=b");
  CAF_CHECK_EQUAL(parley::net::split_target("/x").query, "");
  CAF_CHECK_EQUAL(percent_decode("a%20b+c%2B%zz%4"), "a b c+%zz%4");
  CAF_CHECK_EQUAL(query_param("a=1&b=2", "b").value_or("-"), "2");
  CAF_CHECK_EQUAL(query_param("a=1&b", "b").value_or("-"), "");
  CAF_CHECK_EQUAL(query_param("a=1&ab=2", "b").value_or("-"), "-");
  CAF_CHECK_EQUAL(query_param("b=1&b=2", "b").value_or("-"), "1");
  CAF_CHECK_EQUAL(query_param("%62=x%26y", "b").value_or("-"), "x&y");
  CAF_CHECK_EQUAL(query_param("", "b").value_or("-"), "-");
}
