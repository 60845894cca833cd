#include "net/ws_dialect.hpp"

#include "actors/engine.hpp"
#include "net/ids.hpp"
#include "net/notification_dialect.hpp"
#include "net/visitor_dialect.hpp"

namespace parley::net {

namespace {

frame_ptr error_frame(std::string session_id, std::string text) {
  event ev;
  ev.kind = event_kind::error;
  ev.session_id = std::move(session_id);
  ev.text = std::move(text);
  return encode_visitor(ev);
}

// The same bytes for every connection that names no session.
const frame_ptr& connected_frame() {
  static const frame_ptr frame = [] {
    event ev;
    ev.kind = event_kind::connected;
    return encode_visitor(ev);
  }();
  return frame;
}

frame_ptr on_visitor_message(engine& eng, std::uint64_t conn, bool stopping,
                             bool text, std::string payload) {
  if (!text)
    return error_frame({}, "Binary frames are not supported");
  auto cmd = decode_visitor(payload);
  using kind = visitor_command::kind_type;
  switch (cmd.kind) {
  case kind::ping:
    return visitor_pong();
  case kind::invalid:
    return error_frame(std::move(cmd.session_id), std::move(cmd.error));
  case kind::chat_message:
    if (stopping)
      return error_frame(std::move(cmd.session_id), "Server is shutting down");
    eng.post(conn, std::move(cmd.session_id), std::move(cmd.visitor_id),
             std::move(cmd.message));
  }
  return nullptr;
}

frame_ptr ignore_message(engine&, std::uint64_t, bool, bool, std::string) {
  return nullptr;
}

} // namespace

const ws_dialect visitor_socket{&encode_visitor, &on_visitor_message};

ws_start visitor_start(std::string session_id, std::string visitor_id) {
  return [sid = std::move(session_id), vid = std::move(visitor_id)](
             engine& eng, std::uint64_t conn) mutable -> frame_ptr {
    if (sid.empty())
      return connected_frame();
    if (!is_uuid(sid))
      return error_frame({}, "Session not found");
    if (is_uuid(vid))
      vid = canonical_uuid(vid);
    eng.open(conn, canonical_uuid(sid), std::move(vid));
    return nullptr;
  };
}

const ws_dialect notification_socket{&encode_notification, &ignore_message};
const ws_dialect notification_stream_socket{&encode_notification_stream,
                                            &ignore_message};

ws_start notification_start(std::string conversation_id, std::string sub) {
  return [id = std::move(conversation_id), sub = std::move(sub)](
             engine& eng, std::uint64_t conn) mutable -> frame_ptr {
    eng.watch_as_user(conn, std::move(id), std::move(sub));
    return nullptr;
  };
}

} // namespace parley::net
