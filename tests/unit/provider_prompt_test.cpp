#define CAF_SUITE provider_prompt
#include <caf/test/unit_test.hpp>

#include <string>
#include <vector>

#include "agent/prompt.hpp"

using namespace parley::agent;

namespace {

std::vector<chat_message> dialogue() {
  return {{"user", "aaaa"},
          {"assistant", "bbbb"},
          {"user", "cccc"},
          {"assistant", "dddd"},
          {"user", "eeee"}};
}

std::string roles(const llm_request& r) {
  std::string out;
  for (auto& m : r.messages)
    out += m.role.substr(0, 1);
  return out;
}

} // namespace

CAF_TEST(everything fits) {
  auto r = build_request("sys", "{}", dialogue(), 1000);
  CAF_CHECK_EQUAL(r.system, "sys");
  CAF_CHECK_EQUAL(roles(r), "uauau");
  CAF_CHECK_EQUAL(r.messages.back().content, "eeee");
}

CAF_TEST(the budget keeps the most recent messages) {
  // 12 characters: eeee, dddd, cccc; then it would start with "assistant"
  // only if it cut there, which it does not.
  auto r = build_request("sys", "{}", dialogue(), 12);
  CAF_CHECK_EQUAL(roles(r), "uau");
  CAF_CHECK_EQUAL(r.messages.front().content, "cccc");
  // 8 characters: dddd, eeee; the assistant opener is dropped.
  r = build_request("sys", "{}", dialogue(), 8);
  CAF_CHECK_EQUAL(roles(r), "u");
  CAF_CHECK_EQUAL(r.messages.front().content, "eeee");
}

CAF_TEST(the newest message always goes) {
  auto r = build_request("sys", "{}", {{"user", std::string(500, 'x')}}, 10);
  CAF_REQUIRE_EQUAL(r.messages.size(), 1u);
  CAF_CHECK_EQUAL(r.messages[0].content.size(), 500u);
  r = build_request("sys", "{}", dialogue(), 0);
  CAF_CHECK_EQUAL(roles(r), "u");
}

CAF_TEST(empty messages and other roles are dropped and neighbours merged) {
  std::vector<chat_message> xs{{"assistant", "greeting"}, {"user", "hi"},
                               {"tool", "result"},        {"user", "  "},
                               {"user", "there"},         {"assistant", ""},
                               {"assistant", "ok"},       {"user", "bye"}};
  auto r = build_request("sys", "{}", xs, 1000);
  CAF_CHECK_EQUAL(roles(r), "uau");
  CAF_CHECK_EQUAL(r.messages[0].content, "hi\n\nthere");
  CAF_CHECK_EQUAL(r.messages[1].content, "ok");
}

CAF_TEST(what the visitor told us goes into the system prompt) {
  auto r = build_request("sys", R"({"name":"Alice","email":"a@b.c"})",
                         dialogue(), 1000);
  CAF_CHECK_EQUAL(r.system,
                  "sys\n\nWhat the visitor has told us so far (JSON): "
                  R"({"email":"a@b.c","name":"Alice"})");
  CAF_CHECK_EQUAL(build_request("sys", "not json", {}, 10).system, "sys");
  CAF_CHECK_EQUAL(build_request("sys", "{}", {}, 10).system, "sys");
}

CAF_TEST(knowledge passages are numbered into the system prompt) {
  CAF_CHECK_EQUAL(with_passages("Be nice.", {}), "Be nice.");
  std::vector<passage> ps{{"a.md#1", "Pricing", "It is free."},
                          {"b.md#2", "Support", "Write to us."}};
  CAF_CHECK_EQUAL(with_passages("Be nice.", ps),
                  "Be nice.\n\nAnswer from these knowledge passages when they "
                  "cover the question; say so when they do not.\n\n"
                  "[1] Pricing\nIt is free.\n\n[2] Support\nWrite to us.");
}
