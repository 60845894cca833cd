#define CAF_SUITE tools
#include <caf/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "agent/knowledge_base.hpp"
#include "agent/tools.hpp"

using namespace parley::agent;
using nlohmann::json;

namespace {

knowledge_base sample() {
  knowledge_base kb;
  kb.add_document("pricing.md", "# Pricing\n\nParley is free.\n\n"
                                "## Hosted models\nTokens cost money.\n");
  kb.add_document("support.md", "# Support\n\nWrite to us.\n");
  return kb;
}

json result_of(const tool_outcome& x) {
  return json::parse(x.content);
}

} // namespace

CAF_TEST(the registry describes each tool with a json schema) {
  auto& tools = tool_registry();
  CAF_REQUIRE_EQUAL(tools.size(), 2u);
  for (auto& t : tools) {
    auto schema = json::parse(t.parameters);
    CAF_CHECK_EQUAL(schema["type"], "object");
    CAF_CHECK(!t.description.empty());
  }
  CAF_REQUIRE(find_tool("search_knowledge") != nullptr);
  CAF_CHECK(!find_tool("search_knowledge")->needs_approval);
  CAF_REQUIRE(find_tool("save_contact_details") != nullptr);
  CAF_CHECK(find_tool("save_contact_details")->needs_approval);
  CAF_CHECK(find_tool("rm_rf") == nullptr);
}

CAF_TEST(search_knowledge returns passages and cites them) {
  auto kb = sample();
  auto out = run_tool({"c1", "search_knowledge", R"({"query":"pricing"})"},
                      &kb, "{}");
  auto r = result_of(out);
  CAF_REQUIRE_EQUAL(r["results"].size(), 2u);
  CAF_CHECK_EQUAL(r["results"][0]["title"], "Pricing");
  CAF_CHECK_EQUAL(r["results"][0]["text"], "Parley is free.");
  CAF_REQUIRE_EQUAL(out.sources.size(), 2u);
  CAF_CHECK_EQUAL(out.sources[0].id, r["results"][0]["id"]);
  CAF_CHECK(out.conversation_data.empty());
  out = run_tool({"c1", "search_knowledge",
                  R"({"query":"pricing","max_results":1})"},
                 &kb, "{}");
  auto one = result_of(out);
  CAF_CHECK_EQUAL(one["results"].size(), 1u);
  out = run_tool({"c1", "search_knowledge", R"({"query":"zebra"})"}, &kb,
                 "{}");
  CAF_CHECK_EQUAL(result_of(out), json::parse(R"({"results":[]})"));
}

CAF_TEST(bad arguments give the model an error result) {
  auto kb = sample();
  auto error = [&](const std::string& name, const std::string& args) {
    auto r = result_of(run_tool({"c", name, args}, &kb, "{}"));
    return r.contains("error") ? r["error"].get<std::string>() : "(none)";
  };
  CAF_CHECK_EQUAL(error("search_knowledge", "{\"query\":"),
                  "arguments must be a JSON object");
  CAF_CHECK_EQUAL(error("search_knowledge", "[1]"),
                  "arguments must be a JSON object");
  CAF_CHECK_EQUAL(error("search_knowledge", ""),
                  "query must be a non-empty string");
  CAF_CHECK_EQUAL(error("search_knowledge", R"({"query":7})"),
                  "query must be a non-empty string");
  CAF_CHECK_EQUAL(error("search_knowledge",
                        R"({"query":"x","max_results":99})"),
                  "max_results must be an integer from 1 to 5");
  CAF_CHECK_EQUAL(error("save_contact_details", "{}"),
                  "give at least one of name, email, phone");
  CAF_CHECK_EQUAL(error("save_contact_details", R"({"email":"nope"})"),
                  "email is not an e-mail address");
  CAF_CHECK_EQUAL(error("save_contact_details",
                        R"({"name":")" + std::string(201, 'a') + "\"}"),
                  "name must be a string of 1 to 200 characters");
  CAF_CHECK_EQUAL(error("launch_rockets", "{}"),
                  "unknown tool: launch_rockets");
}

CAF_TEST(save_contact_details merges into the profile) {
  auto out = run_tool({"c", "save_contact_details",
                       R"({"name":"Ada","email":"ada@example.com"})"},
                      nullptr, R"({"plan":"gold","name":"A"})");
  CAF_CHECK_EQUAL(json::parse(out.conversation_data),
                  json::parse(R"({"plan":"gold","name":"Ada",
                                  "email":"ada@example.com"})"));
  auto saved = result_of(out);
  CAF_CHECK_EQUAL(saved["saved"]["name"], "Ada");
  auto declined = result_of(declined_tool());
  CAF_CHECK_EQUAL(declined["error"], "the user declined this action");
}

CAF_TEST(tool calls are stored as the json array of seed 000) {
  CAF_CHECK_EQUAL(json::parse(tool_calls_json(
                    {{"tc_1", "search_knowledge", R"({"query":"x"})"}})),
                  json::parse(R"([{"id":"tc_1","type":"function",
                    "function":{"name":"search_knowledge",
                    "arguments":"{\"query\":\"x\"}"}}])"));
}
