#include "net/conversation_json.hpp"

#include <nlohmann/json.hpp>

#include "net/image_data.hpp"
#include "net/rest.hpp"

namespace parley::net {

namespace {

using json = nlohmann::ordered_json;

std::string dump(const json& doc) {
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

json or_null(const std::string& s) {
  return s.empty() ? json(nullptr) : json(s);
}

json message_doc(const storage::message_record& m) {
  auto calls = json::parse(m.tool_calls, nullptr, false);
  auto image = storage::split_data_url(m.image);
  auto sources = json::array();
  for (auto& k : m.sources)
    sources.push_back({{"id", k.id}, {"title", k.title}});
  return {{"id", m.id},
          {"conversation_id", m.session_id},
          {"role", m.role},
          {"content", m.content},
          {"tool_call_id", or_null(m.tool_call_id)},
          {"tool_calls", calls.is_array() ? std::move(calls) : json(nullptr)},
          {"image", or_null(m.image)},
          {"base64_image", or_null(std::string{image.base64})},
          {"media_type", or_null(std::string{image.media_type})},
          {"state", m.state},
          {"sources", std::move(sources)},
          {"created_at", iso8601_utc_ms(m.created_at)}};
}

json conversation_doc(const storage::session_record& s) {
  return {{"id", s.id},
          {"title", s.title},
          {"owner_id", s.owner_id},
          {"created_at", iso8601_utc_ms(s.created_at)},
          {"updated_at", iso8601_utc_ms(s.last_activity_at)}};
}

// What seed 000's chat shows: the user's and the agent's messages and the
// tool rounds between them.
bool is_chat_line(const storage::message_record& m) {
  return m.kind == "message" || m.kind == "tool_call"
         || m.kind == "tool_result";
}

} // namespace

std::string message_json(const storage::message_record& m) {
  return dump(message_doc(m));
}

std::string
conversation_json(const storage::session_record& s,
                  const std::vector<storage::message_record>* messages) {
  auto doc = conversation_doc(s);
  doc["members"] = s.members;
  if (messages != nullptr) {
    auto xs = json::array();
    for (auto& m : *messages)
      if (is_chat_line(m))
        xs.push_back(message_doc(m));
    doc["messages"] = std::move(xs);
    doc["conversation"] = conversation_doc(s);
  }
  return dump(doc);
}

std::string
conversation_list_json(const std::vector<storage::session_record>& xs) {
  auto out = json::array();
  for (auto& s : xs)
    out.push_back(conversation_doc(s));
  return dump(out);
}

} // namespace parley::net
