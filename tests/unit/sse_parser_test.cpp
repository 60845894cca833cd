#define CAF_SUITE sse_parser
#include <caf/test/unit_test.hpp>

#include <string>
#include <vector>

#include "agent/sse_parser.hpp"

using parley::agent::sse_event;
using parley::agent::sse_parser;

namespace {

struct sample {
  const char* name;
  std::string stream;
  std::vector<sse_event> expected;
  bool unfinished = false; // the stream stops inside an event
};

sse_event ev(std::string type, std::string data, std::string id = {}) {
  return sse_event{std::move(type), std::move(data), std::move(id)};
}

// Streams as upstreams write them, plus the corners of the standard.
std::vector<sample> samples() {
  return {
    {"openai style, LF",
     "data: {\"choices\":[{\"delta\":{\"content\":\"h\xC3\xA9llo \xF0\x9F\x91"
     "\x8B\"}}]}\n\ndata: [DONE]\n\n",
     {ev("message", "{\"choices\":[{\"delta\":{\"content\":\"h\xC3\xA9llo "
                    "\xF0\x9F\x91\x8B\"}}]}"),
      ev("message", "[DONE]")}},
    {"anthropic style, CRLF, comments and pings",
     ": hello\r\n\r\nevent: message_start\r\ndata: {\"type\":"
     "\"message_start\"}\r\n\r\nevent: ping\r\ndata: {\"type\": \"ping\"}"
     "\r\n\r\n: keep-alive\r\nevent: content_block_delta\r\ndata: "
     "{\"text\":\"\xE2\x80\x94 na\xC3\xAFve\"}\r\n\r\n",
     {ev("message_start", "{\"type\":\"message_start\"}"),
      ev("ping", "{\"type\": \"ping\"}"),
      ev("content_block_delta", "{\"text\":\"\xE2\x80\x94 na\xC3\xAFve\"}")}},
    {"CR line ends and multi-line data",
     "data: a\rdata: b\r\rdata:\r\r",
     {ev("message", "a\nb"), ev("message", "")}},
    {"mixed line ends",
     "data: one\r\n\ndata: two\n\r\ndata: three\r\r\n",
     {ev("message", "one"), ev("message", "two"), ev("message", "three")}},
    {"one leading space is dropped, others kept",
     "data:tight\n\ndata:  loose\n\n",
     {ev("message", "tight"), ev("message", " loose")}},
    {"a UTF-8 BOM opens the stream",
     "\xEF\xBB\xBF"
     "data: x\n\n",
     {ev("message", "x")}},
    {"an event without data is not dispatched; its type does not leak",
     "event: lonely\n\ndata: y\n\n",
     {ev("message", "y")}},
    {"a field name alone", "data\n\n", {ev("message", "")}},
    {"unknown fields and retry are not data",
     "foo: bar\nretry: 1500\nretry: x\ndata: z\n\n",
     {ev("message", "z")}},
    {"ids persist across events",
     "id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n",
     {ev("message", "a", "7"), ev("message", "b", "7"),
      ev("message", "c", "")}},
    {"an event cut by the end of the stream is dropped",
     "data: whole\n\ndata: cut",
     {ev("message", "whole")},
     true},
    {"data without its empty line is dropped too",
     "data: whole\n\ndata: cut\n",
     {ev("message", "whole")},
     true},
  };
}

bool same(const std::vector<sse_event>& xs, const std::vector<sse_event>& ys) {
  if (xs.size() != ys.size())
    return false;
  for (std::size_t i = 0; i < xs.size(); ++i)
    if (xs[i].type != ys[i].type || xs[i].data != ys[i].data
        || xs[i].id != ys[i].id)
      return false;
  return true;
}

std::string show(const std::vector<sse_event>& xs) {
  std::string out;
  for (auto& x : xs)
    out += "[" + x.type + "|" + x.data + "|" + x.id + "]";
  return out;
}

// Feeds `stream` cut at `cuts` (ascending offsets) and checks the result.
void check_cut(const sample& s, const std::vector<std::size_t>& cuts) {
  sse_parser p;
  std::vector<sse_event> out;
  std::size_t from = 0;
  for (auto cut : cuts) {
    CAF_REQUIRE(
      p.feed(std::string_view{s.stream}.substr(from, cut - from), out));
    from = cut;
  }
  CAF_REQUIRE(p.feed(std::string_view{s.stream}.substr(from), out));
  if (!same(out, s.expected) || p.finish() != s.unfinished) {
    std::string where;
    for (auto c : cuts)
      where += std::to_string(c) + " ";
    CAF_FAIL(s.name << ": cut at " << where << "gave " << show(out)
                    << ", finish " << p.finish());
  }
}

} // namespace

CAF_TEST(whole streams parse) {
  for (auto& s : samples())
    check_cut(s, {});
}

CAF_TEST(every single split point) {
  for (auto& s : samples())
    for (std::size_t i = 0; i <= s.stream.size(); ++i)
      check_cut(s, {i});
}

CAF_TEST(every pair of split points) {
  for (auto& s : samples())
    for (std::size_t i = 0; i <= s.stream.size(); ++i)
      for (std::size_t j = i; j <= s.stream.size(); ++j)
        check_cut(s, {i, j});
}

CAF_TEST(byte by byte) {
  for (auto& s : samples()) {
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < s.stream.size(); ++i)
      cuts.push_back(i);
    check_cut(s, cuts);
  }
}

CAF_TEST(retry is remembered) {
  sse_parser p;
  std::vector<sse_event> out;
  p.feed("retry: 1500\n\n", out);
  CAF_CHECK_EQUAL(p.retry_ms(), 1500);
  CAF_CHECK(out.empty());
}

CAF_TEST(an event larger than the bound fails the parser) {
  sse_parser p{64};
  std::vector<sse_event> out;
  CAF_CHECK(p.feed("data: small\n\n", out));
  CAF_CHECK_EQUAL(out.size(), 1u);
  std::string big(40, 'x');
  CAF_CHECK(p.feed("data: " + big + "\n", out));
  CAF_CHECK(!p.feed("data: " + big + "\n", out)); // data adds up
  CAF_CHECK(p.failed());
  CAF_CHECK(!p.feed("\n", out));
  CAF_CHECK_EQUAL(out.size(), 1u);
  sse_parser q{64};
  CAF_CHECK(!q.feed(std::string(100, 'y'), out)); // one endless line
}
