#pragma once

#include <string>

namespace parley::agent {

// Hand-written scanners for what a visitor tells about themselves. They
// replace std::regex (a quarter of the CPU under load) and match exactly
// what these ECMAScript patterns matched with std::regex_search:
//
//   e-mail: [A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}
//   name:   (?:my name is|my name's|call me|name:)\s+
//             ([A-Za-z][A-Za-z'-]*(?:\s+(?!and\b)[A-Za-z][A-Za-z'-]*)?)
//           case-insensitively; failing that, case-sensitively
//           (?:\b[Ii] am|\b[Ii]'m|\b[Tt]his is)\s+
//             ([A-Z][A-Za-z'-]*(?:\s+[A-Z][A-Za-z'-]*)?)

// The leftmost e-mail address in `text`, or "".
std::string find_email(const std::string& text);

// The name after the leftmost introduction, as written (one or two words,
// the whitespace between them kept), or "".
std::string find_name(const std::string& text);

} // namespace parley::agent
