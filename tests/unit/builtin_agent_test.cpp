#define CAF_SUITE builtin_agent
#include <caf/test/unit_test.hpp>

#include <random>
#include <regex>

#include <nlohmann/json.hpp>

#include "agent/builtin_agent.hpp"
#include "agent/knowledge_base.hpp"
#include "agent/profile_scan.hpp"

using namespace parley::agent;
using nlohmann::json;

namespace {

std::string joined(const turn_output& out) {
  std::string text;
  for (auto& x : out.chunks)
    text += x;
  return text;
}

// The std::regex patterns the scanners replaced: the reference they must
// match exactly.
std::string regex_email(const std::string& text) {
  static const std::regex email{
    R"([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})"};
  std::smatch m;
  return std::regex_search(text, m, email) ? m.str() : std::string{};
}

std::string regex_name(const std::string& text) {
  static const std::regex explicit_intro{
    R"((?:my name is|my name's|call me|name:)\s+([A-Za-z][A-Za-z'-]*(?:\s+(?!and\b)[A-Za-z][A-Za-z'-]*)?))",
    std::regex::icase};
  static const std::regex casual_intro{
    R"((?:\b[Ii] am|\b[Ii]'m|\b[Tt]his is)\s+([A-Z][A-Za-z'-]*(?:\s+[A-Z][A-Za-z'-]*)?))"};
  std::smatch m;
  if (std::regex_search(text, m, explicit_intro)
      || std::regex_search(text, m, casual_intro))
    return m.str(1);
  return {};
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

CAF_TEST(the scanners find what the regular expressions found) {
  struct example {
    const char* text;
    const char* email;
    const char* name;
  };
  example cases[] = {
    {"alice@example.com", "alice@example.com", ""},
    {"mail: a.b+c@mail.example.co.uk.", "a.b+c@mail.example.co.uk", ""},
    {"x@y.z and then b@c.de", "b@c.de", ""},
    {"a@b@c.com", "b@c.com", ""},
    {"@example.com user@.io me@host.c1om", "", ""},
    {"me@host-1.example.c0m2.org3", "me@host-1.example.c0m2.org", ""},
    {"MY NAME IS bob and I like tea", "", "bob"},
    {"my name is  Ann\tMarie-Claire, hi", "", "Ann\tMarie-Claire"},
    {"my name is Ann andrew", "", "Ann andrew"},
    {"my name is Ann And-more", "", "Ann"},
    {"my name is 42, call me Al", "", "Al"},
    {"army name is Ted", "", "Ted"},
    {"Name:\nO'Neil", "", "O'Neil"},
    {"I am Bob Smith Jr", "", "Bob Smith"},
    {"Hi, I'm carol, I am Dave", "", "Dave"},
    {"This is Eve.", "", "Eve"},
    {"AI am Zed", "", ""},
    {"i'm Zoe and", "", "Zoe"},
    {"I am\n\nMax", "", "Max"},
    {"", "", ""},
  };
  for (auto& c : cases) {
    CAF_MESSAGE("text: " << c.text);
    CAF_CHECK_EQUAL(find_email(c.text), c.email);
    CAF_CHECK_EQUAL(find_name(c.text), c.name);
    CAF_CHECK_EQUAL(find_email(c.text), regex_email(c.text));
    CAF_CHECK_EQUAL(find_name(c.text), regex_name(c.text));
  }
}

CAF_TEST(the scanners agree with the regular expressions on random text) {
  // Pieces that make the patterns start, almost match and fail.
  static const char* pieces[]
    = {"my name is", "My Name's", "call me", "NAME:", "I am", "i'm", "This is",
       "this is", "and", "And", "andy", " ", "  ", "\t", "\n", "@", ".",
       "..", "-", "'", "_", "%", "+", ":", "a", "Bo", "x1", "com", "Z",
       "\xc3\xa9", "9", ",", "I", "T", "my name", "e@", "co"};
  std::minstd_rand rng{4242};
  std::uniform_int_distribution<std::size_t> pick{0, std::size(pieces) - 1};
  std::uniform_int_distribution<int> length{0, 14};
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    for (int n = length(rng); n > 0; --n)
      text += pieces[pick(rng)];
    auto email = find_email(text);
    auto name = find_name(text);
    if (email != regex_email(text) || name != regex_name(text)) {
      CAF_FAIL("scanner and regex differ on " << json(text).dump() << ": "
                                                << email << " / " << name);
    }
  }
}

CAF_TEST(with knowledge the reply quotes the best passage and cites sources) {
  knowledge_base kb;
  kb.add_document("pricing.md", "# Pricing\n\nParley is free. You pay for "
                                "the machine.\n\n## Hosted models\n"
                                "Tokens cost what your provider bills.\n");
  kb.add_document("support.md", "# Support\n\nWrite to us by e-mail.\n");
  auto out = builtin_agent{0, &kb}.answer(
    {"What does it cost? I'm Dana, dana@example.com", "{}"});
  CAF_REQUIRE_EQUAL(out.sources.size(), 1u);
  CAF_CHECK_EQUAL(out.sources[0].title, "Pricing - Hosted models");
  CAF_CHECK_EQUAL(joined(out),
                  "Thanks, Dana! From \"Pricing - Hosted models\": Tokens "
                  "cost what your provider bills. Is there anything else I "
                  "can help you with today?");
  // No passage shares a term: the reply is the usual one, without sources.
  out = builtin_agent{0, &kb}.answer({"hello", "{}"});
  CAF_CHECK(out.sources.empty());
  CAF_CHECK(joined(out).find("From") == std::string::npos);
  // The word count stays exact with knowledge.
  out = builtin_agent{9, &kb}.answer({"pricing", "{}"});
  CAF_CHECK_EQUAL(out.chunks.size(), 9u);
  CAF_CHECK_EQUAL(out.sources.size(), 2u);
}
