#include "agent/profile_scan.hpp"

#include <cstddef>

namespace parley::agent {

namespace {

using size_t = std::size_t;

bool is_alpha(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// ECMAScript \w and \s in the "C" locale.
bool is_word(char c) {
  return is_alpha(c) || is_digit(c) || c == '_';
}

bool is_space(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

bool is_local(char c) {
  return is_alpha(c) || is_digit(c) || c == '.' || c == '_' || c == '%'
         || c == '+' || c == '-';
}

bool is_domain(char c) {
  return is_alpha(c) || is_digit(c) || c == '.' || c == '-';
}

bool is_name_char(char c) {
  return is_alpha(c) || c == '\'' || c == '-';
}

char lower(char c) {
  return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c;
}

// Whether `word` (lower case) is at `at`, compared case-insensitively.
bool has_icase(const std::string& text, size_t at, const char* word) {
  for (; *word != '\0'; ++word, ++at)
    if (at >= text.size() || lower(text[at]) != *word)
      return false;
  return true;
}

bool has_exact(const std::string& text, size_t at, const char* word) {
  return text.compare(at, std::char_traits<char>::length(word), word) == 0;
}

size_t skip_spaces(const std::string& text, size_t at) {
  while (at < text.size() && is_space(text[at]))
    ++at;
  return at;
}

size_t skip_name_chars(const std::string& text, size_t at) {
  while (at < text.size() && is_name_char(text[at]))
    ++at;
  return at;
}

// After an introduction ending at `at`: \s+ then the one or two words (the
// first starting with a character `first_ok` accepts). Returns the name, or
// "" when there is none. `explicit_intro` adds the (?!and\b) of the first
// pattern before a second word.
template <class FirstOk>
std::string name_after(const std::string& text, size_t at, FirstOk first_ok,
                       bool explicit_intro) {
  auto start = skip_spaces(text, at);
  if (start == at || start >= text.size() || !first_ok(text[start]))
    return {};
  auto end = skip_name_chars(text, start + 1);
  // The optional second word: the greedy \s+ must be followed by its first
  // letter; giving back whitespace would leave a space there instead.
  auto second = skip_spaces(text, end);
  if (second > end && second < text.size() && first_ok(text[second])) {
    bool is_and = explicit_intro && has_icase(text, second, "and")
                  && (second + 3 >= text.size() || !is_word(text[second + 3]));
    if (!is_and)
      end = skip_name_chars(text, second + 1);
  }
  return text.substr(start, end - start);
}

} // namespace

std::string find_email(const std::string& text) {
  // A match's local part is the whole run of local characters before an @
  // (the run cannot stop early: the next character would not be the @), so
  // trying each @ in order tries each start position in order.
  for (auto at = text.find('@'); at != std::string::npos;
       at = text.find('@', at + 1)) {
    auto start = at;
    while (start > 0 && is_local(text[start - 1]))
      --start;
    if (start == at)
      continue;
    auto end = at + 1;
    while (end < text.size() && is_domain(text[end]))
      ++end;
    // The greedy [A-Za-z0-9.-]+ gives back until a dot follows that has two
    // letters after it: the last such dot, with one domain character or
    // more before it.
    for (auto dot = end; dot-- > at + 2;) {
      // Letters are domain characters: two after the dot lie inside the run.
      if (text[dot] == '.' && dot + 2 < end && is_alpha(text[dot + 1])
          && is_alpha(text[dot + 2])) {
        auto tld_end = dot + 3;
        while (tld_end < end && is_alpha(text[tld_end]))
          ++tld_end;
        return text.substr(start, tld_end - start);
      }
    }
  }
  return {};
}

std::string find_name(const std::string& text) {
  static constexpr const char* explicit_intros[]
    = {"my name is", "my name's", "call me", "name:"};
  for (size_t at = 0; at < text.size(); ++at)
    for (auto intro : explicit_intros)
      if (has_icase(text, at, intro)) {
        auto name = name_after(
          text, at + std::char_traits<char>::length(intro), is_alpha, true);
        if (!name.empty())
          return name;
      }
  static constexpr const char* casual_intros[] = {" am", "'m"};
  for (size_t at = 0; at < text.size(); ++at) {
    if (at > 0 && is_word(text[at - 1]))
      continue; // \b: the intro must start a word
    const char* tails[2] = {nullptr, nullptr};
    if (text[at] == 'I' || text[at] == 'i') {
      tails[0] = casual_intros[0];
      tails[1] = casual_intros[1];
    } else if (text[at] == 'T' || text[at] == 't') {
      tails[0] = "his is";
    }
    for (auto tail : tails)
      if (tail != nullptr && has_exact(text, at + 1, tail)) {
        auto name = name_after(
          text, at + 1 + std::char_traits<char>::length(tail), is_upper,
          false);
        if (!name.empty())
          return name;
      }
  }
  return {};
}

} // namespace parley::agent
