#include "agent/markdown_html.hpp"

#include <cstdlib>
#include <memory>

#include <cmark.h>

namespace parley::agent {

std::string markdown_html(std::string_view markdown) {
  // CMARK_OPT_SAFE is the default since cmark 0.29 and spelled out for
  // older ones; VALIDATE_UTF8 replaces invalid bytes instead of passing them.
  auto options = CMARK_OPT_SAFE | CMARK_OPT_VALIDATE_UTF8;
  std::unique_ptr<char, decltype(&std::free)> html{
      cmark_markdown_to_html(markdown.data(), markdown.size(), options),
      &std::free};
  return html ? std::string{html.get()} : std::string{};
}

} // namespace parley::agent
