#include "net/conversation_api.hpp"

#include <nlohmann/json.hpp>

#include "actors/engine.hpp"
#include "config/settings.hpp"
#include "net/asio.hpp"
#include "net/caller.hpp"
#include "net/client_json.hpp"
#include "net/conversation_json.hpp"
#include "net/ids.hpp"
#include "net/image_data.hpp"
#include "net/query.hpp"
#include "net/title_field.hpp"
#include "storage/text_check.hpp"

namespace parley::net {

namespace {

constexpr std::string_view base = "/v1/chat/conversations";
constexpr std::string_view socket_base = "/ws/conversations/";
constexpr std::size_t max_user_id = 256;

std::string_view strip_slashes(std::string_view s) {
  while (!s.empty() && s.back() == '/')
    s.remove_suffix(1);
  return s;
}

// The segments after the base: {id}, a leaf ("messages", "members") and
// a member's id, each possibly empty.
struct segments {
  std::string_view id;
  std::string_view leaf;
  std::string_view member;
  bool bad = false; // an empty segment, or more than three
};

segments split(std::string_view path) {
  segments out;
  auto rest = strip_slashes(path.substr(base.size()));
  std::string_view* slots[] = {&out.id, &out.leaf, &out.member};
  std::size_t n = 0;
  while (!rest.empty()) {
    rest.remove_prefix(1); // the '/'
    auto slash = rest.find('/');
    auto part = rest.substr(0, slash);
    if (part.empty() || n == 3) {
      out.bad = true;
      return out;
    }
    *slots[n++] = part;
    rest = slash == std::string_view::npos ? std::string_view{}
                                           : rest.substr(slash);
  }
  return out;
}

} // namespace

bool is_conversation_path(std::string_view path) {
  return path.substr(0, base.size()) == base
         && (path.size() == base.size() || path[base.size()] == '/');
}

std::size_t max_body_limit(const settings& cfg) {
  // base64 takes 4 characters per 3 bytes; the text and JSON around it fit
  // in the ordinary limit.
  return cfg.max_image_bytes / 3 * 4 + 4 + cfg.max_frame_bytes;
}

std::size_t conversation_body_limit(std::string_view path,
                                    const settings& cfg) {
  if (!is_conversation_path(path) || split(path).leaf != "messages")
    return cfg.max_frame_bytes;
  return max_body_limit(cfg);
}

std::optional<std::string_view> notification_socket_id(std::string_view path) {
  if (path.substr(0, socket_base.size()) != socket_base)
    return std::nullopt;
  auto id = strip_slashes(path.substr(socket_base.size()));
  if (id.empty() || id.find('/') != std::string_view::npos)
    return std::nullopt;
  return id;
}

conversation_request parse_conversation_request(const http_request& req,
                                                caller who,
                                                const settings& cfg) {
  conversation_request call;
  auto version = req.version();
  auto keep_alive = req.keep_alive();
  auto answer = [&](unsigned status, std::string_view error) {
    call.what = conversation_request::action::respond;
    call.response
        = json_response(status, error_json(error), version, keep_alive);
    return std::move(call);
  };
  auto target = split_target(req.target());
  // Route first: an unknown path is 404 whoever asks.
  auto seg = split(target.path);
  bool messages = seg.leaf == "messages" && seg.member.empty();
  bool members = seg.leaf == "members";
  if (seg.bad || !(seg.leaf.empty() || messages || members))
    return answer(404, "Not found");
  auto method = req.method();
  bool get = method == http::verb::get;
  bool post = method == http::verb::post;
  bool del = method == http::verb::delete_;
  if (!((seg.id.empty() && (get || post))
        || (!seg.id.empty() && seg.leaf.empty() && (get || del))
        || (messages && post) || (members && seg.member.empty() && post)
        || (members && !seg.member.empty() && del)))
    return answer(405, "Method not allowed");
  if (!who.ok())
    return answer(401, who.error);
  call.owner = std::move(who.sub);
  nlohmann::json body;
  if (post && !req.body().empty()) {
    body = parse_client_json(req.body());
    if (!body.is_object())
      return answer(400, "Body must be a JSON object");
  }
  if (seg.id.empty()) {
    if (get) {
      call.what = conversation_request::action::list;
      return call;
    }
    if (auto* error = read_title(body, call.title))
      return answer(400, error);
    call.what = conversation_request::action::create;
    return call;
  }
  if (!is_uuid(seg.id))
    return answer(404, "Conversation not found");
  call.conversation_id = canonical_uuid(seg.id);
  if (members) {
    if (del) {
      call.member = percent_decode(seg.member);
    } else {
      auto user = body.is_object() ? body.find("user_id") : body.end();
      if (!body.is_object() || user == body.end() || !user->is_string()
          || user->get_ref<const std::string&>().empty())
        return answer(400, "user_id is required and must be a string");
      call.member = user->get<std::string>();
    }
    if (call.member.size() > max_user_id
        || !storage::storable_text(call.member))
      return answer(400, "user_id is not a valid user id");
    call.what = del ? conversation_request::action::remove_member
                    : conversation_request::action::add_member;
    return call;
  }
  if (get || del) {
    call.what = get ? conversation_request::action::get
                    : conversation_request::action::remove;
    return call;
  }
  auto content = body.is_object() ? body.find("content") : body.end();
  if (!body.is_object() || content == body.end() || !content->is_string())
    return answer(400, "content is required and must be a string");
  call.content = content->get<std::string>();
  if (call.content.size() > cfg.max_frame_bytes)
    return answer(413, "content is too long");
  if (!storage::storable_text(call.content))
    return answer(400, "content must not contain NUL characters");
  auto image = body.find("base64_image");
  bool has_image = image != body.end() && !image->is_null()
                   && !(image->is_string()
                        && image->get_ref<const std::string&>().empty());
  if (has_image) {
    if (!image->is_string())
      return answer(400, "base64_image must be a string");
    auto checked = check_image(image->get_ref<const std::string&>(),
                               cfg.max_image_bytes);
    if (checked.status != 0)
      return answer(checked.status, checked.error);
    call.image = std::move(checked.data_url);
  }
  bool blank = call.content.find_first_not_of(" \t\r\n") == std::string::npos;
  if (blank && call.image.empty())
    return answer(400, "content is required and must be a string");
  call.what = conversation_request::action::submit;
  return call;
}

void handle_conversation_rest(engine& eng, conversation_request&& call,
                              unsigned version, bool keep_alive,
                              respond_fn send) {
  using action = conversation_request::action;
  auto failed = [version, keep_alive](const session_reply& r) {
    return error_response(r, version, keep_alive);
  };
  switch (call.what) {
  case action::list:
    return eng.list_conversations(std::move(call.owner), [=](session_reply r) {
      if (r.status >= 400)
        return send(failed(r));
      send(json_response(200, conversation_list_json(r.sessions), version,
                         keep_alive));
    });
  case action::create:
    return eng.create_conversation(
        std::move(call.owner), std::move(call.title), [=](session_reply r) {
          if (r.status >= 400)
            return send(failed(r));
          send(json_response(201, conversation_json(r.session), version,
                             keep_alive));
        });
  case action::get:
    return eng.get_conversation(
        std::move(call.conversation_id), std::move(call.owner),
        [=](session_reply r) {
          if (r.status >= 400)
            return send(failed(r));
          send(json_response(200, conversation_json(r.session, &r.messages),
                             version, keep_alive));
        });
  case action::submit:
    return eng.submit_as_user(
        std::move(call.conversation_id), std::move(call.owner),
        std::move(call.content), std::move(call.image), [=](session_reply r) {
          if (r.status >= 400 || r.messages.empty())
            return send(failed(r));
          send(json_response(202, message_json(r.messages.front()), version,
                             keep_alive));
        });
  case action::remove:
    return eng.delete_conversation(
        std::move(call.conversation_id), std::move(call.owner),
        [=](session_reply r) {
          if (r.status >= 400)
            return send(failed(r));
          http_response res{http::status::no_content, version};
          res.keep_alive(keep_alive);
          send(std::move(res));
        });
  case action::add_member:
  case action::remove_member:
    return eng.change_member(
        std::move(call.conversation_id), std::move(call.owner),
        std::move(call.member), call.what == action::add_member,
        [=](session_reply r) {
          if (r.status >= 400)
            return send(failed(r));
          send(json_response(200, conversation_json(r.session), version,
                             keep_alive));
        });
  default:
    return send(std::move(call.response));
  }
}

} // namespace parley::net
