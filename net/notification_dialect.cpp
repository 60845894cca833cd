#include "net/notification_dialect.hpp"

#include <string>

#include "net/conversation_json.hpp"
#include "net/frame_writer.hpp"

namespace parley::net {

frame_ptr encode_notification(const event& ev) {
  frame_writer out;
  switch (ev.kind) {
  case event_kind::message:
    if (!ev.message)
      return nullptr;
    out.raw(R"({"event":"message.created","payload":{"message":)");
    out.raw(message_json(*ev.message));
    out.raw("}}");
    break;
  case event_kind::error:
    out.raw(R"({"event":"error","payload":{"error":)");
    out.str(ev.text);
    out.raw(R"(,"type":)");
    out.str(ev.reason.empty() ? "processing_error" : ev.reason);
    out.raw("}}");
    break;
  default:
    return nullptr;
  }
  return out.finish();
}

frame_ptr encode_notification_stream(const event& ev) {
  if (ev.kind != event_kind::chunk)
    return encode_notification(ev);
  frame_writer out;
  out.raw(R"({"event":"message.delta","payload":{"conversation_id":)");
  out.str(ev.session_id);
  out.raw(R"(,"message_id":)");
  out.str(ev.response_id);
  out.raw(R"(,"seq":)");
  out.number(ev.seq);
  out.raw(R"(,"delta":)");
  out.str(ev.text);
  out.raw("}}");
  return out.finish();
}

} // namespace parley::net
