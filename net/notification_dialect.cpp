#include "net/notification_dialect.hpp"

#include <string>

#include "net/conversation_json.hpp"
#include "net/json_text.hpp"

namespace parley::net {

frame_ptr encode_notification(const event& ev) {
  std::string out;
  switch (ev.kind) {
  case event_kind::message:
    if (!ev.message)
      return nullptr;
    out = R"({"event":"message.created","payload":{"message":)";
    out += message_json(*ev.message);
    out += "}}";
    break;
  case event_kind::error:
    out = R"({"event":"error","payload":{"error":)";
    append_json_string(out, ev.text);
    out += R"(,"type":)";
    append_json_string(out, ev.reason.empty() ? "processing_error" : ev.reason);
    out += "}}";
    break;
  default:
    return nullptr;
  }
  return std::make_shared<const std::string>(std::move(out));
}

frame_ptr encode_notification_stream(const event& ev) {
  if (ev.kind != event_kind::chunk)
    return encode_notification(ev);
  std::string out;
  out.reserve(96 + ev.session_id.size() + ev.response_id.size()
              + json_string_size(ev.text));
  out = R"({"event":"message.delta","payload":{"conversation_id":)";
  append_json_string(out, ev.session_id);
  out += R"(,"message_id":)";
  append_json_string(out, ev.response_id);
  out += R"(,"seq":)";
  out += std::to_string(ev.seq);
  out += R"(,"delta":)";
  append_json_string(out, ev.text);
  out += "}}";
  return std::make_shared<const std::string>(std::move(out));
}

} // namespace parley::net
