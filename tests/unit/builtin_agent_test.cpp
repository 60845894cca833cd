#define CAF_SUITE builtin_agent
#include <caf/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "agent/builtin_agent.hpp"

using namespace parley::agent;
using nlohmann::json;

namespace {

std::string joined(const turn_output& out) {
  std::string text;
  for (auto& x : out.chunks)
    text += x;
  return text;
}

} // namespace

CAF_TEST(replies are several words streamed word by word) {
  auto out = builtin_agent{}.answer({"How much does it cost?", "{}"});
  CAF_CHECK(out.chunks.size() > 10);
  for (std::size_t i = 0; i + 1 < out.chunks.size(); ++i)
    CAF_CHECK_EQUAL(out.chunks[i].back(), ' ');
  CAF_CHECK(joined(out).find("Pricing") != std::string::npos);
  CAF_CHECK_EQUAL(out.suggestions.size(), 3u);
  CAF_CHECK(out.needs_info);
}

CAF_TEST(a fixed word count gives exactly that many words) {
  for (int n : {1, 7, 50, 300}) {
    auto out = builtin_agent{n}.answer({"hi", "{}"});
    CAF_CHECK_EQUAL(out.chunks.size(), static_cast<std::size_t>(n));
  }
}

CAF_TEST(name and email are picked out of the text) {
  auto out = builtin_agent{}.answer(
    {"My name is alice smith and my email is alice@example.com", "{}"});
  auto data = json::parse(out.conversation_data);
  CAF_CHECK_EQUAL(data["name"], "Alice Smith");
  CAF_CHECK_EQUAL(data["email"], "alice@example.com");
  CAF_CHECK(!out.needs_info);
  CAF_CHECK(joined(out).find("Alice Smith") != std::string::npos);
}

CAF_TEST(profile data is kept and merged across turns) {
  auto first = extract_profile("I'm Bob", R"({"plan":"gold"})");
  auto second = extract_profile("reach me at bob@x.io", first);
  auto data = json::parse(second);
  CAF_CHECK_EQUAL(data["plan"], "gold");
  CAF_CHECK_EQUAL(data["name"], "Bob");
  CAF_CHECK_EQUAL(data["email"], "bob@x.io");
}

CAF_TEST(phrases that are not names are not taken as names) {
  for (auto text : {"I am interested in a lease", "I am back after lunch",
                    "i'm looking for help", "this is great"}) {
    auto data = json::parse(extract_profile(text, "{}"));
    CAF_CHECK(!data.contains("name"));
  }
  auto data = json::parse(extract_profile("Hi, I'm Carol Diaz.", "{}"));
  CAF_CHECK_EQUAL(data["name"], "Carol Diaz");
}

CAF_TEST(hostile conversation data does not break the agent) {
  auto out = builtin_agent{}.answer({"hello", R"({"name": 5, "email": []})"});
  CAF_CHECK(out.needs_info);
  out = builtin_agent{}.answer({"hello", "not json"});
  CAF_CHECK_EQUAL(json::parse(out.conversation_data), json::object());
}
