#include "net/rest.hpp"

#include <cstdio>
#include <utility>

#include <nlohmann/json.hpp>

#include "config/settings.hpp"
#include "net/client_json.hpp"
#include "net/ids.hpp"
#include "net/query.hpp"

namespace parley::net {

namespace http = boost::beast::http;

namespace {

constexpr std::string_view sessions_path = "/api/chats/sessions";

// `path` without one trailing slash, except for the root.
std::string_view trim_slash(std::string_view path) {
  if (path.size() > 1 && path.back() == '/')
    path.remove_suffix(1);
  return path;
}

// REST output goes through nlohmann (not a hot path); text that is not
// valid UTF-8 is replaced rather than thrown about.
std::string dump(const nlohmann::ordered_json& doc) {
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The body of POST /api/chats/sessions/: optional {visitor_id?,
// conversation_data?}. Returns an error text, empty when valid.
std::string parse_create_body(const std::string& body, rest_call& call) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos)
    return {};
  if (json_too_deep(body))
    return json_too_deep_text;
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded())
    return "Invalid JSON";
  if (!doc.is_object())
    return "Body must be a JSON object";
  if (auto i = doc.find("visitor_id"); i != doc.end() && !i->is_null()) {
    if (!i->is_string() || !is_uuid(i->get_ref<const std::string&>()))
      return "visitor_id must be a UUID";
    call.visitor_id = canonical_uuid(i->get_ref<const std::string&>());
  }
  if (auto i = doc.find("conversation_data"); i != doc.end() && !i->is_null()) {
    if (!i->is_object())
      return "conversation_data must be an object";
    call.conversation_data = i->dump();
  }
  return {};
}

http_response method_not_allowed(const http_request& req,
                                 std::string_view allow) {
  auto res = json_response(405, error_json("Method not allowed"), req.version(),
                           req.keep_alive());
  res.set(http::field::allow, allow);
  return res;
}

// The text for an engine error that came without one.
std::string_view status_text(int status) {
  switch (status) {
    case 403:
      return "Visitor ID does not match";
    case 404:
      return "Session not found";
    case 503:
      return "Service unavailable";
    default:
      return status < 500 ? "Bad request" : "Internal error";
  }
}

http_response reply_response(const session_reply& reply, unsigned ok_status,
                             bool with_messages, unsigned version,
                             bool keep_alive) {
  if (reply.status >= 400)
    return error_response(reply, version, keep_alive);
  return json_response(ok_status, session_json(reply, with_messages), version,
                       keep_alive);
}

} // namespace

http_response error_response(const session_reply& reply, unsigned version,
                             bool keep_alive) {
  auto text = reply.error.empty() ? status_text(reply.status)
                                  : std::string_view{reply.error};
  return json_response(static_cast<unsigned>(reply.status), error_json(text),
                       version, keep_alive);
}

route match_route(std::string_view path) {
  path = trim_slash(path);
  if (path == "/healthz")
    return {route_kind::healthz, {}};
  if (path == "/ws/chat")
    return {route_kind::ws_chat, {}};
  if (path == sessions_path)
    return {route_kind::sessions, {}};
  if (path.size() > sessions_path.size() + 1
      && path.substr(0, sessions_path.size()) == sessions_path
      && path[sessions_path.size()] == '/') {
    auto id = path.substr(sessions_path.size() + 1);
    if (id.find('/') == std::string_view::npos)
      return {route_kind::session, id};
  }
  return {};
}

rest_call parse_request(const http_request& req, std::size_t max_body) {
  rest_call call;
  auto version = req.version();
  auto keep_alive = req.keep_alive();
  auto answer = [&](unsigned status, std::string_view error) {
    call.what = rest_call::action::respond;
    call.response = json_response(status, error_json(error), version,
                                  keep_alive);
    return std::move(call);
  };
  if (req.body().size() > max_body)
    return answer(413, "Request body too large");
  auto target = split_target(req.target());
  auto r = match_route(target.path);
  switch (r.kind) {
    case route_kind::not_found:
      return answer(404, "Not found");
    case route_kind::healthz:
      if (req.method() != http::verb::get)
        break;
      call.what = rest_call::action::health;
      return call;
    case route_kind::ws_chat:
      if (req.method() != http::verb::get)
        break;
      return answer(426, "WebSocket upgrade required");
    case route_kind::sessions: {
      if (req.method() != http::verb::post)
        break;
      auto error = parse_create_body(req.body(), call);
      if (!error.empty())
        return answer(400, error);
      call.what = rest_call::action::create_session;
      return call;
    }
    case route_kind::session: {
      if (req.method() != http::verb::get)
        break;
      call.session_id = canonical_uuid(r.id);
      if (call.session_id.empty())
        return answer(404, "Session not found");
      auto vid = query_param(target.query, "visitor_id").value_or("");
      call.visitor_id = is_uuid(vid) ? canonical_uuid(vid) : vid;
      call.what = rest_call::action::get_session;
      return call;
    }
  }
  call.response
    = method_not_allowed(req, r.kind == route_kind::sessions ? "POST" : "GET");
  return call;
}

void handle_request(engine& eng, const settings& cfg, http_request&& req,
                    respond_fn send) {
  auto call = parse_request(req, cfg.max_frame_bytes);
  auto version = req.version();
  auto keep_alive = req.keep_alive();
  switch (call.what) {
    case rest_call::action::respond:
      return send(std::move(call.response));
    case rest_call::action::health: {
      if (!eng.ready())
        return send(json_response(503, R"({"status":"starting"})", version,
                                  keep_alive));
      auto why = eng.degraded();
      if (!why.empty())
        return send(json_response(503,
                                  nlohmann::json{{"status", "degraded"},
                                                 {"reason", why}}
                                    .dump(-1, ' ', false,
                                          nlohmann::json::error_handler_t::replace),
                                  version, keep_alive));
      return send(
        json_response(200, R"({"status":"ok"})", version, keep_alive));
    }
    case rest_call::action::create_session:
      return eng.create_session(
        std::move(call.visitor_id), std::move(call.conversation_data),
        [send = std::move(send), version, keep_alive](session_reply reply) {
          send(reply_response(reply, 201, false, version, keep_alive));
        });
    case rest_call::action::get_session:
      return eng.get_session(
        std::move(call.session_id), std::move(call.visitor_id),
        [send = std::move(send), version, keep_alive](session_reply reply) {
          send(reply_response(reply, 200, true, version, keep_alive));
        });
  }
}

http_response json_response(unsigned status, std::string body, unsigned version,
                            bool keep_alive) {
  http_response res{static_cast<http::status>(status), version};
  res.set(http::field::content_type, "application/json");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

std::string error_json(std::string_view text) {
  return dump({{"error", text}});
}

std::string session_json(const session_reply& reply, bool with_messages) {
  const auto& s = reply.session;
  nlohmann::ordered_json doc{
    {"session_id", s.id},
    {"visitor_id", s.visitor_id},
    {"status", s.status},
    {"created_at", iso8601_utc_ms(s.created_at)},
    {"expires_at", iso8601_utc_ms(s.expires_at)},
  };
  if (!with_messages)
    return dump(doc);
  auto data = nlohmann::ordered_json::parse(s.conversation_data, nullptr,
                                            false);
  if (!data.is_object())
    data = nlohmann::ordered_json::object();
  doc["conversation_data"] = std::move(data);
  auto messages = nlohmann::ordered_json::array();
  for (const auto& m : reply.messages) {
    nlohmann::ordered_json x{
      {"id", m.id},
      {"role", m.role},
      {"content", m.content},
      {"type", m.kind},
      {"state", m.state},
      {"created_at", iso8601_utc_ms(m.created_at)},
    };
    // Tool rounds and sources, as seeds 000 and 001 show them; omitted when
    // empty, like every empty field of the document's schema.
    if (!m.tool_call_id.empty())
      x["tool_call_id"] = m.tool_call_id;
    if (auto calls = nlohmann::ordered_json::parse(m.tool_calls, nullptr,
                                                   false);
        calls.is_array())
      x["tool_calls"] = std::move(calls);
    if (!m.sources.empty()) {
      auto sources = nlohmann::ordered_json::array();
      for (const auto& k : m.sources)
        sources.push_back(
          {{"id", k.id}, {"title", k.title}, {"content", k.content}});
      x["sources"] = std::move(sources);
    }
    messages.push_back(std::move(x));
  }
  doc["messages"] = std::move(messages);
  return dump(doc);
}

std::string iso8601_utc_ms(std::int64_t epoch_ms) {
  // Days since 1970-01-01 to a civil date: Howard Hinnant's days_from_civil
  // inverse, exact for any date, no time zone state (gmtime_r) involved.
  constexpr std::int64_t ms_per_day = 86'400'000;
  auto days = epoch_ms / ms_per_day;
  auto ms = epoch_ms % ms_per_day;
  if (ms < 0) {
    ms += ms_per_day;
    --days;
  }
  days += 719'468;
  auto era = (days >= 0 ? days : days - 146'096) / 146'097;
  auto doe = days - era * 146'097;
  auto yoe = (doe - doe / 1'460 + doe / 36'524 - doe / 146'096) / 365;
  auto doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  auto mp = (5 * doy + 2) / 153;
  auto day = doy - (153 * mp + 2) / 5 + 1;
  auto month = mp < 10 ? mp + 3 : mp - 9;
  auto year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  auto two = [](std::int64_t v) { return static_cast<int>(v); };
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
                static_cast<long long>(year), two(month), two(day),
                two(ms / 3'600'000), two(ms / 60'000 % 60),
                two(ms / 1'000 % 60), two(ms % 1'000));
  return buf;
}

} // namespace parley::net
