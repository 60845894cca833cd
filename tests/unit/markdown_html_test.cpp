#define CAF_SUITE markdown_html
#include <caf/test/unit_test.hpp>

#include <string>

#include "agent/markdown_html.hpp"

using parley::agent::markdown_html;

namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

} // namespace

CAF_TEST(markdown renders) {
  auto html = markdown_html("# Plans\n\n- **Pro**: 20 EUR\n- `free`\n");
  CAF_CHECK(contains(html, "<h1>Plans</h1>"));
  CAF_CHECK(contains(html, "<li><strong>Pro</strong>: 20 EUR</li>"));
  CAF_CHECK(contains(html, "<code>free</code>"));
}

CAF_TEST(raw html and script links are neutralised) {
  auto html = markdown_html(
      "hi <script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
      "[x](javascript:alert(1)) [y](https://example.com)");
  CAF_CHECK(!contains(html, "<script"));
  CAF_CHECK(!contains(html, "onerror"));
  CAF_CHECK(!contains(html, "javascript:"));
  CAF_CHECK(contains(html, R"(href="https://example.com")"));
}

CAF_TEST(invalid utf8 does not survive) {
  auto html = markdown_html("caf\xc3 ok");
  CAF_CHECK(!contains(html, "caf\xc3 "));
  CAF_CHECK(contains(html, "ok"));
}
