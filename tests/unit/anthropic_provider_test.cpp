#define CAF_SUITE anthropic_provider
#include <caf/test/unit_test.hpp>

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/anthropic_provider.hpp"
#include "agent/sse_parser.hpp"

using namespace parley::agent;
using nlohmann::json;

namespace {

struct outcome {
  std::string text;
  bool progress = false;
  bool done = false;
  std::optional<failure> error;
  stream_summary summary;
};

outcome decode(const std::string& stream, std::size_t cut) {
  sse_parser parser;
  anthropic_decoder dec;
  outcome out;
  std::vector<sse_event> events;
  for (auto piece : {std::string_view{stream}.substr(0, cut),
                     std::string_view{stream}.substr(cut)}) {
    events.clear();
    parser.feed(piece, events);
    for (auto& ev : events) {
      if (out.done || out.error)
        break;
      decoded d;
      dec.on_event(ev, d);
      out.text += d.text;
      out.progress = out.progress || d.progress;
      out.done = d.done;
      out.error = d.error;
    }
  }
  out.summary = dec.summary();
  return out;
}

std::string event(const std::string& type, const std::string& data) {
  return "event: " + type + "\r\ndata: " + data + "\r\n\r\n";
}

// The documented Messages stream: text, then a tool_use block whose input
// arrives as input_json_delta pieces, with pings in between.
const std::string stream
  = event("message_start",
          R"({"type":"message_start","message":{"id":"msg_1","type":)"
          R"("message","role":"assistant","content":[],"model":)"
          R"("claude-3-5-haiku-latest","stop_reason":null,)"
          R"("stop_sequence":null,"usage":{"input_tokens":25,)"
          R"("output_tokens":1}}})")
    + event("content_block_start",
            R"({"type":"content_block_start","index":0,"content_block":)"
            R"({"type":"text","text":""}})")
    + event("ping", R"({"type": "ping"})")
    + event("content_block_delta",
            "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
            "{\"type\":\"text_delta\",\"text\":\"Na\xC3\xAFve \xE2\x80\x94\"}}")
    + event("content_block_delta",
            "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
            "{\"type\":\"text_delta\",\"text\":\" \xF0\x9F\x91\x8B\"}}")
    + event("content_block_stop", R"({"type":"content_block_stop","index":0})")
    + event("content_block_start",
            R"({"type":"content_block_start","index":1,"content_block":)"
            R"({"type":"tool_use","id":"toolu_1","name":"search_knowledge",)"
            R"("input":{}}})")
    + event("content_block_delta",
            R"({"type":"content_block_delta","index":1,"delta":)"
            R"({"type":"input_json_delta","partial_json":""}})")
    + event("content_block_delta",
            R"({"type":"content_block_delta","index":1,"delta":)"
            R"({"type":"input_json_delta","partial_json":"{\"query\": \"le"}})")
    + event("content_block_delta",
            R"({"type":"content_block_delta","index":1,"delta":)"
            R"({"type":"input_json_delta","partial_json":"ases\"}"}})")
    + event("content_block_stop", R"({"type":"content_block_stop","index":1})")
    + event("message_delta",
            R"({"type":"message_delta","delta":{"stop_reason":"tool_use",)"
            R"("stop_sequence":null},"usage":{"output_tokens":89}})")
    + event("message_stop", R"({"type":"message_stop"})");

} // namespace

CAF_TEST(the documented stream at every split point) {
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    auto out = decode(stream, cut);
    CAF_REQUIRE(!out.error);
    CAF_CHECK_EQUAL(out.text, "Na\xC3\xAFve \xE2\x80\x94 \xF0\x9F\x91\x8B");
    CAF_CHECK(out.done);
    CAF_CHECK_EQUAL(out.summary.finish_reason, "tool_use");
    CAF_CHECK_EQUAL(out.summary.model, "claude-3-5-haiku-latest");
    CAF_CHECK_EQUAL(out.summary.input_tokens, 25);
    CAF_CHECK_EQUAL(out.summary.output_tokens, 89);
    CAF_REQUIRE_EQUAL(out.summary.tool_calls.size(), 1u);
    auto& call = out.summary.tool_calls[0];
    CAF_CHECK_EQUAL(call.id, "toolu_1");
    CAF_CHECK_EQUAL(call.name, "search_knowledge");
    CAF_CHECK_EQUAL(call.arguments, "{\"query\": \"leases\"}");
  }
}

CAF_TEST(pings and block starts are not tokens) {
  anthropic_decoder dec;
  decoded d;
  dec.on_event({"ping", R"({"type": "ping"})", {}}, d);
  dec.on_event({"content_block_start",
                R"({"type":"content_block_start","index":0,)"
                R"("content_block":{"type":"text","text":""}})",
                {}},
               d);
  CAF_CHECK(!d.progress);
  CAF_CHECK(!d.done);
}

CAF_TEST(an error event fails the stream with its type) {
  anthropic_decoder dec;
  decoded d;
  dec.on_event({"error",
                R"({"type": "error", "error": {"type": "overloaded_error", )"
                R"("message": "Overloaded"}})",
                {}},
               d);
  CAF_REQUIRE(d.error);
  CAF_CHECK(d.error->kind == failure_kind::unavailable);
  CAF_CHECK(d.error->retryable);
  CAF_CHECK_EQUAL(d.error->text,
                  "The AI service reported an error (overloaded_error)");
}

CAF_TEST(unknown events are ignored and broken ones fail) {
  anthropic_decoder dec;
  decoded d;
  dec.on_event({"brand_new_event", R"({"type":"brand_new_event"})", {}}, d);
  CAF_CHECK(!d.error);
  dec.on_event({"content_block_delta", R"({"type":"content_block_de)", {}}, d);
  CAF_REQUIRE(d.error);
  CAF_CHECK(d.error->kind == failure_kind::bad_stream);
}

CAF_TEST(the request) {
  anthropic_provider p{{"http://127.0.0.1:9/", "sk-ant-1", "claude-x", 0}};
  auto http = p.make_request({"Be brief.", {{"user", "Hi"}}, {}});
  CAF_CHECK_EQUAL(http.url, "http://127.0.0.1:9/v1/messages");
  auto has = [&](const std::string& h) {
    return std::find(http.headers.begin(), http.headers.end(), h)
           != http.headers.end();
  };
  CAF_CHECK(has("x-api-key: sk-ant-1"));
  CAF_CHECK(has("anthropic-version: 2023-06-01"));
  auto body = json::parse(http.body);
  CAF_CHECK_EQUAL(body["model"], "claude-x");
  CAF_CHECK_EQUAL(body["stream"], true);
  CAF_CHECK_EQUAL(body["max_tokens"], 1024);
  CAF_CHECK_EQUAL(body["system"], "Be brief.");
  CAF_CHECK_EQUAL(body["messages"].size(), 1u);
  anthropic_provider v1{{"https://example.test/v1", "", "", 77}};
  auto other = v1.make_request({"", {{"user", "Hi"}}, {}});
  CAF_CHECK_EQUAL(other.url, "https://example.test/v1/messages");
  auto other_body = json::parse(other.body);
  CAF_CHECK(!other_body.contains("system"));
  CAF_CHECK_EQUAL(other_body["max_tokens"], 77);
  for (auto& h : other.headers)
    CAF_CHECK(h.rfind("x-api-key", 0) != 0);
  anthropic_provider defaults{{}};
  CAF_CHECK_EQUAL(defaults.endpoint(), "https://api.anthropic.com/v1/messages");
}

CAF_TEST(a request with tools and a tool round) {
  anthropic_provider p{{"", "", "m", 0}};
  llm_request req{"sys", {{"user", "Price?"}}, {}};
  chat_message call{"assistant", "Let me look."};
  call.tool_calls = {{"toolu_1", "search_knowledge", R"({"query":"price"})"},
                     {"toolu_2", "search_knowledge", ""}};
  chat_message r1{"tool", "one"};
  r1.tool_call_id = "toolu_1";
  chat_message r2{"tool", "two"};
  r2.tool_call_id = "toolu_2";
  req.messages.insert(req.messages.end(), {call, r1, r2});
  req.tools = {{"search_knowledge", "Search.", R"({"type":"object"})", false}};
  auto body = json::parse(p.make_request(req).body);
  CAF_CHECK_EQUAL(body["tools"],
                  json::parse(R"([{"name":"search_knowledge",
                    "description":"Search.",
                    "input_schema":{"type":"object"}}])"));
  CAF_REQUIRE_EQUAL(body["messages"].size(), 3u);
  CAF_CHECK_EQUAL(body["messages"][1],
                  json::parse(R"({"role":"assistant","content":[
                    {"type":"text","text":"Let me look."},
                    {"type":"tool_use","id":"toolu_1","name":"search_knowledge",
                     "input":{"query":"price"}},
                    {"type":"tool_use","id":"toolu_2","name":"search_knowledge",
                     "input":{}}]})"));
  // Both results of the round go in one user turn.
  CAF_CHECK_EQUAL(body["messages"][2],
                  json::parse(R"({"role":"user","content":[
                    {"type":"tool_result","tool_use_id":"toolu_1","content":"one"},
                    {"type":"tool_result","tool_use_id":"toolu_2","content":"two"}]})"));
}
