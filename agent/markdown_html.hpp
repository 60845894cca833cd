#pragma once

// A reply's markdown as HTML for clients that show it formatted (seed 001's
// htmlFormattedMessage). cmark (CommonMark's reference implementation) in
// safe mode: raw HTML is dropped and javascript:/vbscript:/file:/data: links
// are emptied, so model output cannot inject markup.

#include <string>
#include <string_view>

namespace parley::agent {

std::string markdown_html(std::string_view markdown);

} // namespace parley::agent
