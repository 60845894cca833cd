#define CAF_SUITE visitor_dialect
#include <caf/test/unit_test.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/ids.hpp"
#include "net/json_text.hpp"
#include "net/visitor_dialect.hpp"

using parley::event;
using parley::event_kind;
using parley::frame_ptr;
using parley::net::decode_visitor;
using parley::net::encode_visitor;
using parley::net::visitor_command;
using json = nlohmann::ordered_json; // keeps the frame's key order

namespace {

constexpr const char* sid = "550e8400-e29b-41d4-a716-446655440000";
constexpr const char* vid = "660e8400-e29b-41d4-a716-446655440000";
constexpr const char* mid = "770e8400-e29b-41d4-a716-446655440000";
constexpr const char* rid = "880e8400-e29b-41d4-a716-446655440000";

event make(event_kind kind) {
  event ev;
  ev.kind = kind;
  return ev;
}

json parse(const frame_ptr& frame) {
  return json::parse(*frame); // throws, failing the test, on invalid JSON
}

std::string first_key(const json& doc) {
  return doc.begin().key();
}

// Every control character, quotes, backslashes, line separators, emoji and
// markup: what a model's output can contain.
std::string nasty() {
  std::string s = "say \"hi\" \\ back\\slash </script> \xF0\x9F\x98\x80 ";
  for (char c = 0; c < 0x20; ++c)
    s += c;
  s += "\x7F \xE2\x80\xA8 line \xE2\x80\xA9 para \xC3\xA9t\xC3\xA9 "
       "\xE2\x82\xAC";
  return s;
}

// `s` as net/json_text writes it.
std::string json_literal(std::string_view s) {
  std::string room(parley::net::json_string_bound(s.size()), '\0');
  auto* end = parley::net::write_json_string(room.data(), s);
  room.resize(static_cast<std::size_t>(end - room.data()));
  return room;
}

visitor_command decode(const json& doc) {
  return decode_visitor(doc.dump());
}

json chat(std::string message) {
  return json{{"type", "chat_message"},
              {"message", std::move(message)},
              {"session_id", sid},
              {"visitor_id", vid}};
}

} // namespace

// -- encoding -----------------------------------------------------------------

CAF_TEST(connected without a session) {
  // CAF_CHECK_EQUAL binds references: no temporaries in its arguments.
  auto frame = encode_visitor(make(event_kind::connected));
  CAF_CHECK_EQUAL(*frame,
                  R"({"type":"connected","done":false,"complete":false,)"
                  R"("metadata":{"status":"connected"}})");
}

CAF_TEST(connected with a session) {
  auto ev = make(event_kind::connected);
  ev.session_id = sid;
  ev.conversation_data = R"({"name":"John Doe","email":"john@example.com"})";
  auto doc = parse(encode_visitor(ev));
  CAF_CHECK_EQUAL(first_key(doc), "type");
  CAF_CHECK_EQUAL(doc["type"], "connected");
  CAF_CHECK_EQUAL(doc["session_id"], sid);
  CAF_CHECK_EQUAL(doc["conversation_data"]["name"], "John Doe");
  CAF_CHECK_EQUAL(doc["metadata"].dump(), R"({"status":"connected"})");
  CAF_CHECK_EQUAL(doc["done"], false);
  CAF_CHECK_EQUAL(doc["complete"], false);
  CAF_CHECK_EQUAL(doc.size(), 6u);
}

CAF_TEST(chunk bytes) {
  auto ev = make(event_kind::chunk);
  ev.text = "word ";
  ev.message_id = mid;
  auto frame = encode_visitor(ev);
  CAF_CHECK_EQUAL(*frame,
                  R"({"type":"chunk","chunk":"word ","done":false,)"
                  R"("complete":false,)"
                  R"("message_id":"770e8400-e29b-41d4-a716-446655440000"})");
  ev.session_id = sid;
  frame = encode_visitor(ev);
  CAF_CHECK_EQUAL(*frame,
                  R"({"type":"chunk","chunk":"word ","done":false,)"
                  R"("complete":false,)"
                  R"("message_id":"770e8400-e29b-41d4-a716-446655440000",)"
                  R"("session_id":"550e8400-e29b-41d4-a716-446655440000"})");
}

CAF_TEST(chunk keeps an empty text) {
  auto frame = encode_visitor(make(event_kind::chunk));
  CAF_CHECK_EQUAL(*frame, R"({"type":"chunk","chunk":"","done":false,)"
                          R"("complete":false})");
}

CAF_TEST(complete) {
  auto ev = make(event_kind::complete);
  ev.session_id = sid;
  ev.message_id = mid;
  ev.response_id = rid;
  ev.text = "A novated lease is...";
  ev.conversation_data = "{}";
  ev.suggestions = {"What are the benefits?", "How do I get started?"};
  auto doc = parse(encode_visitor(ev));
  CAF_CHECK_EQUAL(first_key(doc), "type");
  CAF_CHECK_EQUAL(doc["type"], "complete");
  CAF_CHECK_EQUAL(doc["session_id"], sid);
  CAF_CHECK_EQUAL(doc["message_id"], mid);
  CAF_CHECK_EQUAL(doc["response_id"], rid);
  CAF_CHECK_EQUAL(doc["message"], "A novated lease is...");
  CAF_CHECK_EQUAL(doc["done"], true);
  CAF_CHECK_EQUAL(doc["complete"], false);
  CAF_CHECK_EQUAL(doc["conversation_data"].dump(), "{}");
  CAF_CHECK_EQUAL(doc["suggestions"].dump(),
                  R"(["What are the benefits?","How do I get started?"])");
  CAF_CHECK(!doc.contains("needs_info"));
  CAF_CHECK(!doc.contains("metadata"));
  CAF_CHECK(!doc.contains("error"));
  ev.needs_info = false;
  ev.suggestions.clear();
  ev.conversation_data.clear();
  doc = parse(encode_visitor(ev));
  CAF_CHECK_EQUAL(doc["needs_info"], false);
  CAF_CHECK(!doc.contains("suggestions"));
  CAF_CHECK(!doc.contains("conversation_data"));
  ev.needs_info = true;
  ev.complete = true;
  doc = parse(encode_visitor(ev));
  CAF_CHECK_EQUAL(doc["needs_info"], true);
  CAF_CHECK_EQUAL(doc["complete"], true);
}

CAF_TEST(complete keeps an empty message) {
  auto doc = parse(encode_visitor(make(event_kind::complete)));
  CAF_CHECK_EQUAL(doc["message"], "");
  CAF_CHECK_EQUAL(doc.dump(), R"({"type":"complete","message":"",)"
                              R"("done":true,"complete":false})");
}

CAF_TEST(idle warning) {
  auto ev = make(event_kind::idle_warning);
  ev.session_id = sid;
  ev.response_id = rid;
  ev.text = "G'day! Are you still there? I'm here if you need anything!";
  ev.timeout_seconds = 120;
  auto doc = parse(encode_visitor(ev));
  CAF_CHECK_EQUAL(first_key(doc), "type");
  CAF_CHECK_EQUAL(doc["type"], "idle_warning");
  CAF_CHECK_EQUAL(doc["session_id"], sid);
  CAF_CHECK_EQUAL(doc["response_id"], rid);
  CAF_CHECK_EQUAL(doc["message"], ev.text);
  CAF_CHECK_EQUAL(doc["done"], false);
  CAF_CHECK_EQUAL(doc["complete"], false);
  CAF_CHECK_EQUAL(doc["metadata"].dump(),
                  R"({"type":"idle_warning","timeout_seconds":120})");
  CAF_CHECK(!doc.contains("message_id"));
  CAF_CHECK(!doc.contains("suggestions"));
}

CAF_TEST(session end) {
  auto ev = make(event_kind::session_end);
  ev.session_id = sid;
  ev.response_id = rid;
  ev.text = "No worries! I'll end this session for now.";
  ev.complete = true;
  ev.conversation_data = R"({"name":"Jo"})";
  ev.reason = "idle_timeout";
  ev.timeout_seconds = 240;
  auto doc = parse(encode_visitor(ev));
  CAF_CHECK_EQUAL(doc["type"], "session_end");
  CAF_CHECK_EQUAL(doc["complete"], true);
  CAF_CHECK_EQUAL(doc["done"], false);
  CAF_CHECK_EQUAL(doc["message"], ev.text);
  CAF_CHECK_EQUAL(doc["conversation_data"]["name"], "Jo");
  CAF_CHECK_EQUAL(doc["metadata"].dump(),
                  R"({"type":"session_end","reason":"idle_timeout",)"
                  R"("timeout_seconds":240})");
}

CAF_TEST(error) {
  auto ev = make(event_kind::error);
  ev.session_id = sid;
  ev.text = "Session not found";
  auto doc = parse(encode_visitor(ev));
  CAF_CHECK_EQUAL(
    doc.dump(), R"({"type":"error",)"
                R"("session_id":"550e8400-e29b-41d4-a716-446655440000",)"
                R"("done":false,"complete":false,"error":"Session not found",)"
                R"("metadata":{"error_type":"processing_error"}})");
  ev.reason = "too_large";
  ev.session_id.clear();
  doc = parse(encode_visitor(ev));
  CAF_CHECK_EQUAL(doc["metadata"]["error_type"], "too_large");
  CAF_CHECK(!doc.contains("session_id"));
  CAF_CHECK(!doc.contains("message"));
}

CAF_TEST(conversation data that is not an object is left out) {
  auto ev = make(event_kind::complete);
  ev.conversation_data = "[1,2]";
  CAF_CHECK(!parse(encode_visitor(ev)).contains("conversation_data"));
  ev.conversation_data = " {\"a\":1} ";
  auto doc = parse(encode_visitor(ev));
  CAF_CHECK_EQUAL(doc["conversation_data"]["a"], 1);
}

// -- escaping -----------------------------------------------------------------

CAF_TEST(nasty strings round trip) {
  auto ev = make(event_kind::chunk);
  ev.text = nasty();
  auto frame = encode_visitor(ev);
  auto doc = parse(frame);
  CAF_CHECK_EQUAL(doc["chunk"], nasty());
  // Control characters and U+2028/U+2029 never appear raw.
  for (auto c : *frame)
    CAF_CHECK(static_cast<unsigned char>(c) >= 0x20);
  CAF_CHECK_EQUAL(frame->find("\xE2\x80\xA8"), std::string::npos);
  CAF_CHECK_EQUAL(frame->find("\xE2\x80\xA9"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(frame->find(R"(\u2028 line \u2029)"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(frame->find(R"(\u0000\u0001)"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(frame->find(R"(\b\t\n\u000b\f\r)"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(frame->find("\xF0\x9F\x98\x80"), std::string::npos);
}

CAF_TEST(escaping stays within its bound) {
  // A string of control characters reaches the bound; each writes the
  // literal JSON reads back (ill-formed UTF-8 as U+FFFD).
  for (std::string s : {std::string{}, std::string{"plain"}, nasty(),
                        std::string{"\xFF\xC0\x80\xED\xA0\x80 x"},
                        std::string(9, '\x01')}) {
    auto bound = parley::net::json_string_bound(s.size());
    std::string room(bound + 1, '?');
    auto* end = parley::net::write_json_string(room.data(), s);
    CAF_CHECK(end <= room.data() + bound);
    CAF_CHECK_EQUAL(room.back(), '?');
    CAF_CHECK(!json::parse(std::string(room.data(), end)).is_discarded());
  }
  CAF_CHECK_EQUAL(json_literal(std::string(9, '\x01')).size(),
                  parley::net::json_string_bound(9));
  // A frame takes exactly the memory it needs.
  auto ev = make(event_kind::complete);
  ev.text = nasty();
  ev.suggestions = {nasty(), "b"};
  ev.conversation_data = R"({"x":1})";
  auto frame = encode_visitor(ev);
  CAF_CHECK_EQUAL(frame->size(), frame->capacity());
}

// Frames are written into a per-thread buffer that grows, and is given up
// after a long frame: the frames around a long one are whole too.
CAF_TEST(a long frame between short ones) {
  auto ev = make(event_kind::chunk);
  ev.text = "short";
  auto before = parse(encode_visitor(ev));
  ev.text = std::string(200 * 1024, 'x') + "\"\n" + nasty();
  auto long_one = parse(encode_visitor(ev));
  CAF_CHECK_EQUAL(long_one["chunk"].get<std::string>(), ev.text);
  ev.text = "after";
  auto after = parse(encode_visitor(ev));
  CAF_CHECK_EQUAL(before["chunk"], "short");
  CAF_CHECK_EQUAL(after["chunk"], "after");
  CAF_CHECK_EQUAL(after["message_id"], long_one["message_id"]);
}

// The plain-prefix scan reads 8 bytes a step: a byte that needs escaping is
// found at every offset of a word and in the tail after the last word.
CAF_TEST(a special byte is escaped at every position) {
  const std::vector<std::string> specials{
    "\"", "\\", std::string(1, '\0'), "\x1F", "\x7F", "\xC3\xA9", "\xFF"};
  for (auto& special : specials) {
    for (std::size_t at = 0; at < 20; ++at) {
      auto s = std::string(at, 'a') + special + std::string(19 - at, 'b');
      auto out = json_literal(s);
      auto expected = special == "\xFF" ? std::string(at, 'a') + "\uFFFD"
                                             + std::string(19 - at, 'b')
                                         : s;
      CAF_CHECK_EQUAL(json::parse(out).get<std::string>(), expected);
    }
  }
}

CAF_TEST(ill formed UTF - 8 becomes U + FFFD) {
  // Stray continuation, overlong '/', surrogate, truncated sequence at the
  // end (as when a model's output is cut inside a character).
  auto ev = make(event_kind::chunk);
  ev.text = "a\x80"
            "b\xC0\xAF"
            "c\xED\xA0\x80"
            "d\xF0\x9F\x98";
  auto doc = parse(encode_visitor(ev)); // nlohmann rejects invalid UTF-8
  std::string r = "\xEF\xBF\xBD";       // U+FFFD, one per ill-formed byte
  CAF_CHECK_EQUAL(doc["chunk"].get<std::string>(),
                  "a" + r + "b" + r + r + "c" + r + r + r + "d" + r + r + r);
}

// -- decoding -----------------------------------------------------------------

CAF_TEST(chat message) {
  auto cmd = decode(chat("What is a novated lease?"));
  CAF_REQUIRE(cmd.kind == visitor_command::kind_type::chat_message);
  CAF_CHECK_EQUAL(cmd.message, "What is a novated lease?");
  CAF_CHECK_EQUAL(cmd.session_id, sid);
  CAF_CHECK_EQUAL(cmd.visitor_id, vid);
  CAF_CHECK(cmd.error.empty());
}

CAF_TEST(ids are lowercased) {
  auto doc = chat("hi");
  doc["session_id"] = "550E8400-E29B-41D4-A716-446655440000";
  doc["visitor_id"] = "660E8400-E29B-41D4-A716-446655440000";
  auto cmd = decode(doc);
  CAF_CHECK_EQUAL(cmd.session_id, sid);
  CAF_CHECK_EQUAL(cmd.visitor_id, vid);
  doc["visitor_id"] = "Not-A-UUID"; // the engine answers the mismatch
  cmd = decode(doc);
  CAF_CHECK(cmd.kind == visitor_command::kind_type::chat_message);
  CAF_CHECK_EQUAL(cmd.visitor_id, "Not-A-UUID");
}

CAF_TEST(ping) {
  CAF_CHECK(decode_visitor(R"({"type":"ping"})").kind
            == visitor_command::kind_type::ping);
  auto pong = parley::net::visitor_pong();
  CAF_CHECK_EQUAL(*pong, R"({"type":"pong","done":false,"complete":false})");
}

CAF_TEST(decoder errors) {
  auto error = [](std::string_view text) {
    auto cmd = decode_visitor(text);
    CAF_CHECK(cmd.kind == visitor_command::kind_type::invalid);
    return cmd.error;
  };
  CAF_CHECK_EQUAL(error(""), "Invalid JSON");
  CAF_CHECK_EQUAL(error("{oops"), "Invalid JSON");
  CAF_CHECK_EQUAL(error(R"({"type":"chat_message"} x)"), "Invalid JSON");
  CAF_CHECK_EQUAL(error("{\"type\":\"a\xFF\"}"), "Invalid JSON");
  CAF_CHECK_EQUAL(error(R"({"type":"\ud800"})"), "Invalid JSON");
  CAF_CHECK_EQUAL(error(R"({"type":"chat_message","x":)" + std::string(64, '[')
                        + std::string(64, ']') + "}"),
                  "JSON is nested more than 64 levels deep");
  CAF_CHECK_EQUAL(error("[1,2]"), "Message must be a JSON object");
  CAF_CHECK_EQUAL(error("\"chat_message\""), "Message must be a JSON object");
  CAF_CHECK_EQUAL(error(R"({"message":"hi"})"), "type is required");
  CAF_CHECK_EQUAL(error(R"({"type":7})"), "type is required");
  CAF_CHECK_EQUAL(error(R"({"type":null})"), "type is required");
  CAF_CHECK_EQUAL(error(R"({"type":"typing"})"),
                  "Unknown message type: typing");
  auto doc = chat("hi");
  doc.erase("message");
  CAF_CHECK_EQUAL(error(doc.dump()), "message is required");
  for (auto bad : {json(""), json("   "), json(" \t\r\n"),
                   json("\xC2\xA0\xE3\x80\x80\xE2\x80\xA8"), json(42),
                   json(nullptr), json::array({"hi"})}) {
    doc["message"] = bad;
    CAF_CHECK_EQUAL(error(doc.dump()), "message is required");
  }
  doc["message"] = std::string("hi\0there", 8);
  CAF_CHECK_EQUAL(error(doc.dump()), "message must not contain NUL characters");
  doc = chat("hi");
  for (auto bad : {json("nope"), json(42), json(nullptr),
                   json("550e8400-e29b-41d4-a716-44665544000g"),
                   json("{550e8400-e29b-41d4-a716-446655440000}")}) {
    doc["session_id"] = bad;
    CAF_CHECK_EQUAL(error(doc.dump()), "Session not found");
  }
  doc.erase("session_id");
  CAF_CHECK_EQUAL(error(doc.dump()), "Session not found");
  doc = chat("hi");
  doc.erase("visitor_id");
  CAF_CHECK_EQUAL(error(doc.dump()), "Visitor ID does not match");
  doc["visitor_id"] = 7;
  CAF_CHECK_EQUAL(error(doc.dump()), "Visitor ID does not match");
  // The order of checks: message before session before visitor.
  CAF_CHECK_EQUAL(error(R"({"type":"chat_message"})"), "message is required");
}

CAF_TEST(only top level fields count and a repeated key keeps its last value) {
  auto text = chat("hi").dump();
  text.pop_back(); // reopen the object
  // Nested objects and arrays may use the same names; they do not count.
  auto cmd = decode_visitor(
    text + R"(,"extra":{"message":"nested","type":"ping","visitor_id":"x"},)"
    + R"("list":[{"message":"in a list"}],"message":"last"})");
  CAF_REQUIRE(cmd.kind == visitor_command::kind_type::chat_message);
  CAF_CHECK_EQUAL(cmd.message, "last");
  CAF_CHECK_EQUAL(cmd.visitor_id, vid);
  // A later value that is not a string replaces an earlier string.
  cmd = decode_visitor(text + R"(,"message":{"text":"hi"}})");
  CAF_CHECK_EQUAL(cmd.error, "message is required");
  cmd = decode_visitor(text + R"(,"type":["chat_message"]})");
  CAF_CHECK_EQUAL(cmd.error, "type is required");
}

CAF_TEST(errors name the session when they can) {
  auto doc = chat(" ");
  auto cmd = decode(doc);
  CAF_CHECK_EQUAL(cmd.error, "message is required");
  CAF_CHECK_EQUAL(cmd.session_id, sid);
}

CAF_TEST(unknown types are cut and escaped) {
  // 70 characters, two bytes each, with a quote and a control character.
  std::string type = "\"\n";
  for (int i = 0; i < 68; ++i)
    type += "\xC3\xA9";
  auto cmd = decode(json{{"type", type}});
  std::string expected = "Unknown message type: \"\n";
  for (int i = 0; i < 62; ++i)
    expected += "\xC3\xA9";
  CAF_CHECK_EQUAL(cmd.error, expected);
  auto ev = make(event_kind::error);
  ev.text = cmd.error;
  auto doc = parse(encode_visitor(ev));
  CAF_CHECK_EQUAL(doc["error"], expected);
}

CAF_TEST(deep nesting does not overflow the stack) {
  std::string deep(100000, '[');
  auto cmd = decode_visitor(deep);
  CAF_CHECK_EQUAL(cmd.error, "JSON is nested more than 64 levels deep");
  deep += std::string(100000, ']');
  cmd = decode_visitor(deep);
  CAF_CHECK_EQUAL(cmd.error, "JSON is nested more than 64 levels deep");
  deep = std::string(64, '[') + std::string(64, ']');
  cmd = decode_visitor(deep);
  CAF_CHECK_EQUAL(cmd.error, "Message must be a JSON object");
}

// -- ids ----------------------------------------------------------------------

CAF_TEST(uuids) {
  using parley::net::canonical_uuid;
  using parley::net::is_uuid;
  CAF_CHECK(is_uuid(sid));
  CAF_CHECK(is_uuid("ABCDEF00-0000-0000-0000-000000000000"));
  CAF_CHECK(!is_uuid(""));
  CAF_CHECK(!is_uuid("550e8400e29b41d4a716446655440000"));
  CAF_CHECK(!is_uuid("550e8400-e29b-41d4-a716-4466554400000"));
  CAF_CHECK(!is_uuid("550e8400-e29b-41d4-a716_446655440000"));
  CAF_CHECK(!is_uuid("550e8400-e29b-41d4-a716-44665544000z"));
  CAF_CHECK_EQUAL(canonical_uuid("ABCDEF00-0000-0000-0000-00000000000A"),
                  "abcdef00-0000-0000-0000-00000000000a");
  CAF_CHECK_EQUAL(canonical_uuid("nope"), "");
}
