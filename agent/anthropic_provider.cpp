#include "agent/anthropic_provider.hpp"

#include <nlohmann/json.hpp>

#include "agent/upstream_error.hpp"
#include "storage/records.hpp"

namespace parley::agent {

namespace {

using json = nlohmann::json;

constexpr const char* default_base_url = "https://api.anthropic.com";
constexpr const char* default_model = "claude-3-5-haiku-latest";
constexpr const char* api_version = "2023-06-01";
constexpr int default_max_tokens = 1024; // the API requires a value

const json& field(const json& obj, const char* key) {
  static const json none;
  if (!obj.is_object())
    return none;
  auto i = obj.find(key);
  return i == obj.end() ? none : *i;
}

std::string text_at(const json& obj, const char* key) {
  auto& x = field(obj, key);
  return x.is_string() ? x.get<std::string>() : std::string{};
}

std::int64_t int_at(const json& obj, const char* key, std::int64_t fallback) {
  auto& x = field(obj, key);
  return x.is_number_integer() ? x.get<std::int64_t>() : fallback;
}

bool ends_with(const std::string& x, const std::string& suffix) {
  return x.size() >= suffix.size()
         && x.compare(x.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Tool calls are tool_use blocks of the assistant's turn; tool results are
// tool_result blocks of the next user turn, all results of one round in one
// user message (the API wants roles to alternate).
void add_message(json& messages, const chat_message& m) {
  if (m.role == "tool") {
    json block{{"type", "tool_result"},
               {"tool_use_id", m.tool_call_id},
               {"content", m.content}};
    if (!messages.empty() && messages.back()["role"] == "user"
        && messages.back()["content"].is_array())
      messages.back()["content"].push_back(std::move(block));
    else
      messages.push_back(
        {{"role", "user"}, {"content", json::array({std::move(block)})}});
    return;
  }
  if (auto image = storage::split_data_url(m.image); !image.base64.empty()) {
    // Claude takes an image as a base64 block before the text.
    json blocks = json::array(
      {{{"type", "image"},
        {"source",
         {{"type", "base64"},
          {"media_type", image.media_type},
          {"data", image.base64}}}}});
    if (!m.content.empty())
      blocks.push_back({{"type", "text"}, {"text", m.content}});
    messages.push_back({{"role", m.role}, {"content", std::move(blocks)}});
    return;
  }
  if (m.tool_calls.empty()) {
    messages.push_back({{"role", m.role}, {"content", m.content}});
    return;
  }
  json blocks = json::array();
  if (!m.content.empty())
    blocks.push_back({{"type", "text"}, {"text", m.content}});
  for (auto& c : m.tool_calls) {
    auto input = json::parse(c.arguments, nullptr, false);
    blocks.push_back({{"type", "tool_use"},
                      {"id", c.id},
                      {"name", c.name},
                      {"input", input.is_object() ? input : json::object()}});
  }
  messages.push_back({{"role", m.role}, {"content", std::move(blocks)}});
}

} // namespace

anthropic_provider::anthropic_provider(provider_options opts)
    : opts_(std::move(opts)) {
  if (opts_.base_url.empty())
    opts_.base_url = default_base_url;
  if (opts_.model.empty())
    opts_.model = default_model;
  if (opts_.max_tokens <= 0)
    opts_.max_tokens = default_max_tokens;
  // Both "https://api.anthropic.com" (the SDKs' base) and ".../v1" work.
  auto base = join_url(opts_.base_url, "");
  url_ = ends_with(base, "/v1") ? base + "/messages" : base + "/v1/messages";
}

http_request anthropic_provider::make_request(const llm_request& req) const {
  json messages = json::array();
  for (auto& m : req.messages)
    add_message(messages, m);
  json body{{"model", opts_.model},
            {"max_tokens", opts_.max_tokens},
            {"stream", true},
            {"messages", std::move(messages)}};
  if (!req.tools.empty()) {
    json tools = json::array();
    for (auto& t : req.tools)
      tools.push_back({{"name", t.name},
                       {"description", t.description},
                       {"input_schema", json::parse(t.parameters)}});
    body["tools"] = std::move(tools);
  }
  if (!req.system.empty())
    body["system"] = req.system;
  http_request out;
  out.url = url_;
  out.headers = {"Content-Type: application/json", "Accept: text/event-stream",
                 std::string{"anthropic-version: "} + api_version};
  if (!opts_.api_key.empty())
    out.headers.push_back("x-api-key: " + opts_.api_key);
  out.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return out;
}

std::unique_ptr<stream_decoder> anthropic_provider::make_decoder() const {
  return std::make_unique<anthropic_decoder>();
}

void anthropic_decoder::on_event(const sse_event& ev, decoded& out) {
  auto doc = json::parse(ev.data, nullptr, false);
  if (!doc.is_object()) {
    out.error = make_failure(failure_kind::bad_stream,
                             "unreadable " + ev.type.substr(0, 40)
                               + " event: " + ev.data.substr(0, 200));
    return;
  }
  // The JSON names the event too; it wins over the `event:` line, which
  // some proxies drop.
  auto type = text_at(doc, "type");
  if (type.empty())
    type = ev.type;
  if (type == "content_block_delta") {
    auto& delta = field(doc, "delta");
    auto kind = text_at(delta, "type");
    if (kind == "text_delta") {
      out.text += text_at(delta, "text");
    } else if (kind == "input_json_delta") {
      add_to_call(int_at(doc, "index", 0), {}, {},
                  text_at(delta, "partial_json"));
    }
    // thinking_delta and signature_delta carry no reply text, but they are
    // the model at work: they count for the first-token timeout.
    out.progress = true;
  } else if (type == "content_block_start") {
    auto& block = field(doc, "content_block");
    auto kind = text_at(block, "type");
    if (kind == "text") {
      out.text += text_at(block, "text");
      out.progress = !out.text.empty();
    } else if (kind == "tool_use") {
      add_to_call(int_at(doc, "index", 0), text_at(block, "id"),
                  text_at(block, "name"), {});
      out.progress = true;
    }
  } else if (type == "message_start") {
    auto& message = field(doc, "message");
    summary_.model = text_at(message, "model");
    auto& usage = field(message, "usage");
    summary_.input_tokens = int_at(usage, "input_tokens", -1);
    summary_.output_tokens = int_at(usage, "output_tokens", -1);
  } else if (type == "message_delta") {
    if (auto reason = text_at(field(doc, "delta"), "stop_reason");
        !reason.empty())
      summary_.finish_reason = std::move(reason);
    auto& usage = field(doc, "usage");
    summary_.output_tokens
      = int_at(usage, "output_tokens", summary_.output_tokens);
  } else if (type == "message_stop") {
    out.done = true;
  } else if (type == "error") {
    auto& err = field(doc, "error");
    out.error = stream_error(text_at(err, "type"), text_at(err, "message"));
  }
  // ping, content_block_stop and event types added to the API later need
  // nothing: Anthropic's versioning policy says to ignore unknown events.
}

} // namespace parley::agent
