#include "agent/openai_provider.hpp"

#include <nlohmann/json.hpp>

#include "agent/upstream_error.hpp"

namespace parley::agent {

namespace {

using json = nlohmann::json;

constexpr const char* default_base_url = "https://api.openai.com/v1";
constexpr const char* default_model = "gpt-4o-mini";

std::string_view trimmed(std::string_view x) {
  while (!x.empty() && (x.front() == ' ' || x.front() == '\t'))
    x.remove_prefix(1);
  while (!x.empty() && (x.back() == ' ' || x.back() == '\t'))
    x.remove_suffix(1);
  return x;
}

// Fields of a chunk are read leniently: servers differ in which optional
// fields they send and whether they send them as null.
std::string text_at(const json& obj, const char* key) {
  auto i = obj.find(key);
  return i != obj.end() && i->is_string() ? i->get<std::string>()
                                          : std::string{};
}

std::int64_t int_at(const json& obj, const char* key, std::int64_t fallback) {
  auto i = obj.find(key);
  return i != obj.end() && i->is_number_integer() ? i->get<std::int64_t>()
                                                  : fallback;
}

// A tool result answers its call by id; an assistant turn that called tools
// lists the calls (its content may be null then).
json message_json(const chat_message& m) {
  json out{{"role", m.role}, {"content", m.content}};
  // An image goes with the text as a content part.
  if (!m.image.empty())
    out["content"] = json::array(
      {{{"type", "text"}, {"text", m.content}},
       {{"type", "image_url"}, {"image_url", {{"url", m.image}}}}});
  if (m.role == "tool")
    out["tool_call_id"] = m.tool_call_id;
  if (!m.tool_calls.empty()) {
    json calls = json::array();
    for (auto& c : m.tool_calls)
      calls.push_back(
        {{"id", c.id},
         {"type", "function"},
         {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
    out["tool_calls"] = std::move(calls);
    if (m.content.empty())
      out["content"] = nullptr;
  }
  return out;
}

} // namespace

openai_provider::openai_provider(provider_options opts)
    : opts_(std::move(opts)) {
  if (opts_.base_url.empty())
    opts_.base_url = default_base_url;
  if (opts_.model.empty())
    opts_.model = default_model;
  url_ = join_url(opts_.base_url, "/chat/completions");
}

http_request openai_provider::make_request(const llm_request& req) const {
  json messages = json::array();
  if (!req.system.empty())
    messages.push_back({{"role", "system"}, {"content", req.system}});
  for (auto& m : req.messages)
    messages.push_back(message_json(m));
  json body{{"model", opts_.model},
            {"stream", true},
            {"stream_options", {{"include_usage", true}}},
            {"messages", std::move(messages)}};
  if (!req.tools.empty()) {
    json tools = json::array();
    for (auto& t : req.tools)
      tools.push_back({{"type", "function"},
                       {"function",
                        {{"name", t.name},
                         {"description", t.description},
                         {"parameters", json::parse(t.parameters)}}}});
    body["tools"] = std::move(tools);
  }
  // Left out by default: OpenAI's reasoning models refuse max_tokens.
  if (opts_.max_tokens > 0)
    body["max_tokens"] = opts_.max_tokens;
  http_request out;
  out.url = url_;
  out.headers = {"Content-Type: application/json", "Accept: text/event-stream"};
  if (!opts_.api_key.empty())
    out.headers.push_back("Authorization: Bearer " + opts_.api_key);
  // Replace rather than throw on bad UTF-8 from stored history.
  out.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return out;
}

std::unique_ptr<stream_decoder> openai_provider::make_decoder() const {
  return std::make_unique<openai_decoder>();
}

void openai_decoder::read_tool_calls(const nlohmann::json& calls,
                                     decoded& out) {
  auto position = std::int64_t{0};
  for (auto& call : calls) {
    if (!call.is_object())
      continue;
    std::string name, arguments;
    if (auto fn = call.find("function"); fn != call.end() && fn->is_object()) {
      name = text_at(*fn, "name");
      arguments = text_at(*fn, "arguments");
    }
    // Deltas of one call share its index; the id and name come first.
    add_to_call(int_at(call, "index", position++), text_at(call, "id"), name,
                arguments);
    out.progress = true;
  }
}

void openai_decoder::on_event(const sse_event& ev, decoded& out) {
  auto data = trimmed(ev.data);
  if (data == "[DONE]") {
    out.done = true;
    return;
  }
  if (data.empty())
    return; // a keep-alive some servers send as an empty event
  auto chunk = json::parse(data.begin(), data.end(), nullptr, false);
  if (!chunk.is_object()) {
    out.error
      = make_failure(failure_kind::bad_stream,
                     "unreadable chunk: " + std::string{data.substr(0, 200)});
    return;
  }
  // vLLM, LiteLLM and OpenAI itself report trouble mid-stream this way.
  if (auto err = chunk.find("error");
      err != chunk.end() || ev.type == "error") {
    auto& e = err != chunk.end() ? *err : chunk;
    if (e.is_object())
      out.error = stream_error(text_at(e, "type"), text_at(e, "message"));
    else
      out.error = stream_error("", e.is_string() ? e.get<std::string>() : "");
    return;
  }
  if (auto model = text_at(chunk, "model"); !model.empty())
    summary_.model = std::move(model);
  if (auto usage = chunk.find("usage");
      usage != chunk.end() && usage->is_object()) {
    summary_.input_tokens = int_at(*usage, "prompt_tokens", -1);
    summary_.output_tokens = int_at(*usage, "completion_tokens", -1);
  }
  auto choices = chunk.find("choices");
  if (choices == chunk.end() || !choices->is_array())
    return;
  for (auto& choice : *choices) {
    // parley asks for one choice; others would be a server's oddity.
    if (!choice.is_object() || int_at(choice, "index", 0) != 0)
      continue;
    if (auto delta = choice.find("delta");
        delta != choice.end() && delta->is_object()) {
      auto content = text_at(*delta, "content");
      if (!content.empty()) {
        out.text += content;
        out.progress = true;
      }
      if (auto calls = delta->find("tool_calls");
          calls != delta->end() && calls->is_array())
        read_tool_calls(*calls, out);
    }
    if (auto reason = text_at(choice, "finish_reason"); !reason.empty())
      summary_.finish_reason = std::move(reason);
  }
}

} // namespace parley::agent
