#define CAF_SUITE notification_dialect
#include <caf/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "net/notification_dialect.hpp"

using namespace parley;
using parley::net::encode_notification;
using parley::net::encode_notification_stream;

namespace {

event message_event() {
  auto m
      = storage::text_message("m1", "c1", "tool", "tool_result",
                              R"({"result":"ok"})", "complete", 1735694625000);
  m.tool_call_id = "tc_789";
  event ev;
  ev.kind = event_kind::message;
  ev.session_id = "c1";
  ev.message = std::make_shared<const storage::message_record>(std::move(m));
  return ev;
}

} // namespace

CAF_TEST(a stored message is message.created with the documented fields) {
  auto frame = encode_notification(message_event());
  CAF_REQUIRE(frame != nullptr);
  auto doc = nlohmann::json::parse(*frame);
  CAF_CHECK_EQUAL(doc["event"], "message.created");
  auto& m = doc["payload"]["message"];
  CAF_CHECK_EQUAL(m["id"], "m1");
  CAF_CHECK_EQUAL(m["conversation_id"], "c1");
  CAF_CHECK_EQUAL(m["role"], "tool");
  CAF_CHECK_EQUAL(m["content"], R"({"result":"ok"})");
  CAF_CHECK_EQUAL(m["tool_call_id"], "tc_789");
  CAF_CHECK_EQUAL(m["created_at"], "2025-01-01T01:23:45.000Z");
  CAF_CHECK(m["tool_calls"].is_null());
  CAF_CHECK(m["image"].is_null());
  // The streaming flavour sends the same bytes for whole messages.
  auto same = encode_notification_stream(message_event());
  CAF_CHECK_EQUAL(*same, *frame);
}

CAF_TEST(chunks are deltas only for clients that opt in) {
  event ev;
  ev.kind = event_kind::chunk;
  ev.session_id = "c1";
  ev.response_id = "r1";
  ev.seq = 3;
  ev.text = "caf\xc3\xa9 \"quoted\"";
  CAF_CHECK(encode_notification(ev) == nullptr);
  auto frame = encode_notification_stream(ev);
  CAF_REQUIRE(frame != nullptr);
  CAF_CHECK_EQUAL(*frame, R"({"event":"message.delta","payload":{)"
                          R"("conversation_id":"c1","message_id":"r1",)"
                          R"("seq":3,"delta":"caf)"
                          "\xc3\xa9"
                          R"( \"quoted\""}})");
}

CAF_TEST(no other event carries a conversation id) {
  for (auto kind : {event_kind::connected, event_kind::complete,
                    event_kind::idle_warning, event_kind::session_end}) {
    event ev;
    ev.kind = kind;
    ev.session_id = "c1";
    CAF_CHECK(encode_notification(ev) == nullptr);
    CAF_CHECK(encode_notification_stream(ev) == nullptr);
  }
  event err;
  err.kind = event_kind::error;
  err.session_id = "c1";
  err.text = "Could not store the message";
  err.reason = "storage_error";
  auto frame = encode_notification(err);
  CAF_CHECK_EQUAL(*frame,
                  R"({"event":"error","payload":{"error":"Could not store )"
                  R"(the message","type":"storage_error"}})");
}
