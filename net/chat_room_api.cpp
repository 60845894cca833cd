#include "net/chat_room_api.hpp"

#include <charconv>

#include <nlohmann/json.hpp>

#include "actors/engine.hpp"
#include "net/asio.hpp"
#include "net/caller.hpp"
#include "net/client_json.hpp"
#include "net/form_field.hpp"
#include "net/ids.hpp"
#include "net/query.hpp"
#include "net/title_field.hpp"
#include "storage/text_check.hpp"

namespace parley::net {

namespace {

constexpr std::string_view base = "/api/chat";

std::string dump(const nlohmann::ordered_json& doc) {
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::ordered_json room_json(const storage::session_record& s) {
  return {{"id", s.id},
          {"title", s.title},
          {"createdAt", iso8601_utc_ms(s.created_at)},
          {"updatedAt", iso8601_utc_ms(s.last_activity_at)}};
}

// Seed 001's AiChatRoomMessage: USER and AI messages, with the knowledge
// each AI message cited. Tool rounds and idle notices are not chat lines.
std::string messages_json(const session_reply& r) {
  auto out = nlohmann::ordered_json::array();
  for (auto& m : r.messages) {
    if (m.kind != "message" || (m.role != "user" && m.role != "assistant"))
      continue;
    auto knowledge = nlohmann::ordered_json::array();
    for (auto& k : m.sources)
      knowledge.push_back({{"id", k.id}, {"title", k.title}});
    nlohmann::ordered_json html = nullptr;
    if (!m.html.empty())
      html = m.html;
    out.push_back({{"id", m.id},
                   {"sender", m.role == "user" ? "USER" : "AI"},
                   {"message", m.content},
                   {"htmlFormattedMessage", std::move(html)},
                   {"knowledge", std::move(knowledge)},
                   {"createdAt", iso8601_utc_ms(m.created_at)}});
  }
  return dump(out);
}

} // namespace

bool is_chat_room_path(std::string_view path) {
  return path.substr(0, base.size()) == base
         && (path.size() == base.size() || path[base.size()] == '/');
}

http_response room_not_found(unsigned version, bool keep_alive) {
  return json_response(404, error_json("Chat room not found"), version,
                       keep_alive);
}

chat_request parse_chat_request(const http_request& req, caller who) {
  chat_request call;
  auto version = req.version();
  auto keep_alive = req.keep_alive();
  auto answer = [&](unsigned status, std::string_view error) {
    call.what = chat_request::action::respond;
    call.response
        = json_response(status, error_json(error), version, keep_alive);
    return std::move(call);
  };
  auto target = split_target(req.target());
  // Route first: an unknown path is 404 whoever asks.
  auto rest = target.path.substr(base.size());
  while (!rest.empty() && rest.back() == '/')
    rest.remove_suffix(1);
  std::string_view id;
  std::string_view leaf;
  if (!rest.empty()) {
    rest.remove_prefix(1); // the '/'
    auto slash = rest.find('/');
    if (slash == std::string_view::npos)
      return answer(404, "Not found");
    id = rest.substr(0, slash);
    leaf = rest.substr(slash + 1);
    if (leaf != "messages" && leaf != "stream")
      return answer(404, "Not found");
  }
  auto method = req.method();
  bool get = method == http::verb::get;
  bool post = method == http::verb::post;
  if (!((leaf.empty() && (get || post)) || (leaf == "messages" && get)
        || (leaf == "stream" && (get || post))))
    return answer(405, "Method not allowed");
  if (!who.ok())
    return answer(401, who.error);
  call.owner = std::move(who.sub);
  if (leaf.empty()) {
    if (get) {
      call.what = chat_request::action::list;
      return call;
    }
    auto body = req.body();
    if (!body.empty()) {
      auto doc = parse_client_json(body);
      if (!doc.is_object())
        return answer(400, "Body must be a JSON object");
      if (auto* error = read_title(doc, call.title))
        return answer(400, error);
    }
    call.what = chat_request::action::create;
    return call;
  }
  if (!is_uuid(id)) {
    call.response = room_not_found(version, keep_alive);
    return call;
  }
  call.room_id = canonical_uuid(id);
  if (leaf == "messages") {
    call.what = chat_request::action::messages;
    return call;
  }
  // A reconnecting EventSource sends the last id it saw: "<reply>:<seq>".
  if (auto last = req["Last-Event-ID"]; !last.empty()) {
    auto colon = last.find(':');
    auto reply = last.substr(0, colon);
    if (colon != std::string_view::npos && is_uuid(reply)) {
      auto seq = last.substr(colon + 1);
      std::uint32_t n = 0;
      auto [end, ec] = std::from_chars(seq.data(), seq.data() + seq.size(), n);
      if (ec == std::errc{} && end == seq.data() + seq.size()) {
        call.resume_id = canonical_uuid(reply);
        call.resume_after = n;
        call.what = chat_request::action::stream;
        return call;
      }
    }
  }
  auto message
      = get ? query_param(target.query, "message")
            : form_field(req[http::field::content_type], req.body(), "message");
  if (!message || message->empty())
    return answer(400, "Message is required");
  if (!storage::storable_text(*message))
    return answer(400, "Message must be UTF-8 text without NUL characters");
  call.message = std::move(*message);
  call.what = chat_request::action::stream;
  return call;
}

void handle_chat_rest(engine& eng, chat_request&& call, unsigned version,
                      bool keep_alive, respond_fn send) {
  using action = chat_request::action;
  auto failed = [version, keep_alive](const session_reply& r) {
    return error_response(r, version, keep_alive);
  };
  switch (call.what) {
  case action::list:
    return eng.list_conversations(std::move(call.owner), [=](session_reply r) {
      if (r.status >= 400)
        return send(failed(r));
      auto out = nlohmann::ordered_json::array();
      for (auto& s : r.sessions)
        out.push_back(room_json(s));
      send(json_response(200, dump(out), version, keep_alive));
    });
  case action::create:
    return eng.create_conversation(
        std::move(call.owner), std::move(call.title), [=](session_reply r) {
          if (r.status >= 400)
            return send(failed(r));
          send(json_response(201, dump(room_json(r.session)), version,
                             keep_alive));
        });
  case action::messages:
    return eng.get_conversation(
        std::move(call.room_id), std::move(call.owner), [=](session_reply r) {
          if (r.status == 404)
            return send(room_not_found(version, keep_alive));
          if (r.status >= 400)
            return send(failed(r));
          send(json_response(200, messages_json(r), version, keep_alive));
        });
  default:
    return send(std::move(call.response));
  }
}

} // namespace parley::net
