#include "agent/tools.hpp"

#include <nlohmann/json.hpp>

#include "agent/knowledge_base.hpp"
#include "agent/profile_scan.hpp"

namespace parley::agent {

namespace {

using json = nlohmann::json;

constexpr std::size_t max_results = 5;
constexpr std::size_t max_field_chars = 200;

std::string error_result(const std::string& text) {
  return json{{"error", text}}.dump();
}

std::string dumped(const json& x) {
  return x.dump(-1, ' ', false, json::error_handler_t::replace);
}

tool_outcome search_knowledge(const json& args, const knowledge_base* kb) {
  tool_outcome out;
  auto query = args.find("query");
  if (query == args.end() || !query->is_string() || query->empty()) {
    out.content = error_result("query must be a non-empty string");
    return out;
  }
  auto k = std::size_t{3};
  if (auto n = args.find("max_results"); n != args.end()) {
    if (!n->is_number_integer() || n->get<std::int64_t>() < 1
        || n->get<std::int64_t>() > static_cast<std::int64_t>(max_results)) {
      out.content = error_result("max_results must be an integer from 1 to "
                                 + std::to_string(max_results));
      return out;
    }
    k = n->get<std::size_t>();
  }
  json results = json::array();
  if (kb != nullptr)
    for (auto* p : kb->search(query->get<std::string>(), k)) {
      results.push_back({{"id", p->id}, {"title", p->title}, {"text", p->text}});
      out.sources.push_back(*p);
    }
  out.content = dumped(json{{"results", std::move(results)}});
  return out;
}

tool_outcome save_contact(const json& args,
                          const std::string& conversation_data) {
  tool_outcome out;
  json saved = json::object();
  for (auto key : {"name", "email", "phone"}) {
    auto i = args.find(key);
    if (i == args.end() || i->is_null())
      continue;
    if (!i->is_string() || i->empty()
        || i->get_ref<const std::string&>().size() > max_field_chars) {
      out.content = error_result(std::string{key} + " must be a string of 1 to "
                                 + std::to_string(max_field_chars)
                                 + " characters");
      return out;
    }
    saved[key] = *i;
  }
  if (saved.empty()) {
    out.content = error_result("give at least one of name, email, phone");
    return out;
  }
  if (saved.contains("email")
      && find_email(saved["email"].get<std::string>())
           != saved["email"].get<std::string>()) {
    out.content = error_result("email is not an e-mail address");
    return out;
  }
  auto profile = json::parse(conversation_data, nullptr, false);
  if (!profile.is_object())
    profile = json::object();
  profile.update(saved);
  out.conversation_data = dumped(profile);
  out.content = dumped(json{{"saved", std::move(saved)}});
  return out;
}

} // namespace

const std::vector<tool_spec>& tool_registry() {
  static const std::vector<tool_spec> all{
    {"search_knowledge",
     "Search the knowledge base (product documentation) for passages about "
     "a topic. Returns the best passages with their ids and titles.",
     R"({"type":"object","properties":{"query":{"type":"string","description":"what to look for"},"max_results":{"type":"integer","minimum":1,"maximum":5}},"required":["query"],"additionalProperties":false})",
     false},
    {"save_contact_details",
     "Save the user's contact details (name, e-mail address, phone number) "
     "so that the team can follow up. The user is asked to approve first.",
     R"({"type":"object","properties":{"name":{"type":"string"},"email":{"type":"string"},"phone":{"type":"string"}},"additionalProperties":false})",
     true},
  };
  return all;
}

const tool_spec* find_tool(const std::string& name) {
  for (auto& t : tool_registry())
    if (t.name == name)
      return &t;
  return nullptr;
}

tool_outcome run_tool(const tool_call& call, const knowledge_base* knowledge,
                      const std::string& conversation_data) {
  // Models stream "" for a call without arguments.
  auto args = call.arguments.empty() ? json::object()
                                     : json::parse(call.arguments, nullptr,
                                                   false);
  if (!args.is_object()) {
    tool_outcome out;
    out.content = error_result("arguments must be a JSON object");
    return out;
  }
  if (call.name == "search_knowledge")
    return search_knowledge(args, knowledge);
  if (call.name == "save_contact_details")
    return save_contact(args, conversation_data);
  tool_outcome out;
  out.content = error_result("unknown tool: " + call.name.substr(0, 100));
  return out;
}

tool_outcome declined_tool(bool expired) {
  tool_outcome out;
  out.content = error_result(expired ? "nobody approved this action in time"
                                     : "the user declined this action");
  return out;
}

std::string tool_calls_json(const std::vector<tool_call>& calls) {
  json out = json::array();
  for (auto& c : calls)
    out.push_back({{"id", c.id},
                   {"type", "function"},
                   {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
  return dumped(out);
}

} // namespace parley::agent
