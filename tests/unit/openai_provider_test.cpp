#define CAF_SUITE openai_provider
#include <caf/test/unit_test.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/openai_provider.hpp"
#include "agent/sse_parser.hpp"

using namespace parley::agent;
using nlohmann::json;

namespace {

// What a whole stream decoded to.
struct outcome {
  std::string text;
  bool progress = false;
  bool done = false;
  std::optional<failure> error;
  stream_summary summary;
};

// Decodes `stream` fed in two pieces cut at `cut`, as the curl loop would.
outcome decode(const std::string& stream, std::size_t cut) {
  sse_parser parser;
  openai_decoder dec;
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

// A stream as OpenAI sends it (captured shape), text in 2-, 3- and 4-byte
// UTF-8 so that cuts land inside characters.
const std::string text_stream
  = "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
    "\"created\":1,\"model\":\"gpt-4o-mini\",\"system_fingerprint\":\"fp\","
    "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":"
    "\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}]}\n\n"
    ": keep-alive\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":"
    "{\"content\":\"Caf\xC3\xA9 \xE2\x98\x95\"},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":"
    "{\"content\":\" \xF0\x9F\x91\x8B\\u0021\"},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{},"
    "\"finish_reason\":\"stop\"}]}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"choices\":[],\"usage\":{\"prompt_tokens\":"
    "12,\"completion_tokens\":3,\"total_tokens\":15}}\n\n"
    "data: [DONE]\n\n";

// Two tool calls streamed interleaved, as parallel tool calls arrive.
const std::string tool_stream
  = "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
    "\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"type\":"
    "\"function\",\"function\":{\"name\":\"search_knowledge\",\"arguments\":"
    "\"\"}}]},\"finish_reason\":null}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,"
    "\"id\":\"call_b\",\"type\":\"function\",\"function\":{\"name\":"
    "\"get_time\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
    "\"function\":{\"arguments\":\"{\\\"query\\\": \"}}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,"
    "\"function\":{\"arguments\":\"{}\"}}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
    "\"function\":{\"arguments\":\"\\\"leases\\\"}\"}}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":"
    "\"tool_calls\"}]}\n\n"
    "data: [DONE]\n\n";

} // namespace

CAF_TEST(text deltas at every split point) {
  for (std::size_t cut = 0; cut <= text_stream.size(); ++cut) {
    auto out = decode(text_stream, cut);
    CAF_REQUIRE(!out.error);
    CAF_CHECK_EQUAL(out.text, "Caf\xC3\xA9 \xE2\x98\x95 \xF0\x9F\x91\x8B!");
    CAF_CHECK(out.done);
    CAF_CHECK(out.progress);
    CAF_CHECK_EQUAL(out.summary.finish_reason, "stop");
    CAF_CHECK_EQUAL(out.summary.input_tokens, 12);
    CAF_CHECK_EQUAL(out.summary.output_tokens, 3);
    CAF_CHECK_EQUAL(out.summary.model, "gpt-4o-mini");
  }
}

CAF_TEST(tool call deltas are assembled by index) {
  for (std::size_t cut = 0; cut <= tool_stream.size(); ++cut) {
    auto out = decode(tool_stream, cut);
    CAF_REQUIRE(!out.error);
    CAF_CHECK(out.done);
    CAF_CHECK(out.progress); // a tool call counts as the first token
    CAF_CHECK_EQUAL(out.text, "");
    CAF_CHECK_EQUAL(out.summary.finish_reason, "tool_calls");
    CAF_REQUIRE_EQUAL(out.summary.tool_calls.size(), 2u);
    auto& a = out.summary.tool_calls[0];
    CAF_CHECK_EQUAL(a.id, "call_a");
    CAF_CHECK_EQUAL(a.name, "search_knowledge");
    CAF_CHECK_EQUAL(a.arguments, "{\"query\": \"leases\"}");
    auto& b = out.summary.tool_calls[1];
    CAF_CHECK_EQUAL(b.id, "call_b");
    CAF_CHECK_EQUAL(b.name, "get_time");
    CAF_CHECK_EQUAL(b.arguments, "{}");
  }
}

CAF_TEST(a role - only chunk is not a token) {
  openai_decoder dec;
  decoded d;
  dec.on_event({"message",
                "{\"choices\":[{\"index\":0,\"delta\":{\"role\":"
                "\"assistant\",\"content\":\"\"}}]}",
                {}},
               d);
  CAF_CHECK(!d.progress);
  CAF_CHECK(!d.done);
  CAF_CHECK(!d.error);
}

CAF_TEST(a stream without DONE but with a finish reason counts as complete) {
  openai_decoder dec;
  decoded d;
  dec.on_event({"message",
                "{\"choices\":[{\"index\":0,\"delta\":{\"content\":"
                "\"hi\"},\"finish_reason\":null}]}",
                {}},
               d);
  CAF_CHECK(!dec.finished_anyway());
  dec.on_event({"message",
                "{\"choices\":[{\"index\":0,\"delta\":{},"
                "\"finish_reason\":\"length\"}]}",
                {}},
               d);
  CAF_CHECK(dec.finished_anyway());
  CAF_CHECK_EQUAL(dec.summary().finish_reason, "length");
}

CAF_TEST(broken chunks and error objects fail the stream) {
  {
    openai_decoder dec;
    decoded d;
    dec.on_event({"message", "{\"choices\":[{\"delta\":{\"content\":\"x", {}},
                 d);
    CAF_REQUIRE(d.error);
    CAF_CHECK(d.error->kind == failure_kind::bad_stream);
    CAF_CHECK_EQUAL(d.error->text, "The AI service sent a malformed stream");
  }
  {
    openai_decoder dec;
    decoded d;
    dec.on_event({"message",
                  "{\"choices\":[{\"delta\":{\"content\":"
                  "\"\xC3\x28\"}}]}",
                  {}},
                 d); // invalid UTF-8 inside the JSON string
    CAF_REQUIRE(d.error);
    CAF_CHECK(d.error->kind == failure_kind::bad_stream);
  }
  {
    openai_decoder dec;
    decoded d;
    dec.on_event({"message",
                  "{\"error\":{\"message\":\"boom\",\"type\":"
                  "\"server_error\"}}",
                  {}},
                 d);
    CAF_REQUIRE(d.error);
    CAF_CHECK(d.error->kind == failure_kind::unavailable);
    CAF_CHECK_EQUAL(d.error->text,
                    "The AI service reported an error (server_error)");
  }
  {
    openai_decoder dec;
    decoded d;
    dec.on_event({"message", "  ", {}}, d); // an empty keep-alive event
    CAF_CHECK(!d.error);
  }
}

CAF_TEST(the request) {
  openai_provider p{{"http://127.0.0.1:11434/v1/", "sk-abc", "llama3", 0}};
  llm_request req{"Be brief.",
                  {{"user", "Hi"}, {"assistant", "Hello"}, {"user", "Price?"}},
                  {}};
  auto http = p.make_request(req);
  CAF_CHECK_EQUAL(http.url, "http://127.0.0.1:11434/v1/chat/completions");
  auto has = [&](const std::string& h) {
    return std::find(http.headers.begin(), http.headers.end(), h)
           != http.headers.end();
  };
  CAF_CHECK(has("Authorization: Bearer sk-abc"));
  CAF_CHECK(has("Content-Type: application/json"));
  auto body = json::parse(http.body);
  CAF_CHECK_EQUAL(body["model"], "llama3");
  CAF_CHECK_EQUAL(body["stream"], true);
  CAF_CHECK_EQUAL(body["stream_options"]["include_usage"], true);
  CAF_CHECK(!body.contains("max_tokens"));
  CAF_REQUIRE_EQUAL(body["messages"].size(), 4u);
  CAF_CHECK_EQUAL(body["messages"][0]["role"], "system");
  CAF_CHECK_EQUAL(body["messages"][0]["content"], "Be brief.");
  CAF_CHECK_EQUAL(body["messages"][3]["content"], "Price?");
}

CAF_TEST(defaults and no key) {
  openai_provider p{{}};
  auto http = p.make_request({"", {{"user", "Hi"}}, {}});
  CAF_CHECK_EQUAL(http.url, "https://api.openai.com/v1/chat/completions");
  for (auto& h : http.headers)
    CAF_CHECK(h.rfind("Authorization", 0) != 0);
  auto body = json::parse(http.body);
  CAF_CHECK_EQUAL(body["model"], "gpt-4o-mini");
  CAF_CHECK_EQUAL(body["messages"].size(), 1u); // no empty system message
  openai_provider capped{{"", "", "", 256}};
  auto capped_body = json::parse(capped.make_request({"", {}, {}}).body);
  CAF_CHECK_EQUAL(capped_body["max_tokens"], 256);
}

CAF_TEST(a request with tools and a tool round) {
  openai_provider p{{"", "", "m", 0}};
  llm_request req{"sys", {{"user", "Price?"}}, {}};
  chat_message call{"assistant", ""};
  call.tool_calls = {{"call_1", "search_knowledge", R"({"query":"price"})"}};
  chat_message result{"tool", R"({"results":[]})"};
  result.tool_call_id = "call_1";
  req.messages.push_back(call);
  req.messages.push_back(result);
  req.tools = {{"search_knowledge", "Search.", R"({"type":"object"})", false}};
  auto body = json::parse(p.make_request(req).body);
  CAF_REQUIRE_EQUAL(body["tools"].size(), 1u);
  CAF_CHECK_EQUAL(body["tools"][0],
                  json::parse(R"({"type":"function","function":{
                    "name":"search_knowledge","description":"Search.",
                    "parameters":{"type":"object"}}})"));
  CAF_REQUIRE_EQUAL(body["messages"].size(), 4u);
  CAF_CHECK_EQUAL(body["messages"][2],
                  json::parse(R"({"role":"assistant","content":null,
                    "tool_calls":[{"id":"call_1","type":"function",
                    "function":{"name":"search_knowledge",
                    "arguments":"{\"query\":\"price\"}"}}]})"));
  CAF_CHECK_EQUAL(body["messages"][3],
                  json::parse(R"({"role":"tool","tool_call_id":"call_1",
                    "content":"{\"results\":[]}"})"));
  // Without tools the request has no tools field.
  req.tools.clear();
  CAF_CHECK(!json::parse(p.make_request(req).body).contains("tools"));
}
