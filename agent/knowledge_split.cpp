#include "agent/knowledge_split.hpp"

#include <cstdint>
#include <sstream>

namespace parley::agent {

namespace {

std::string trimmed(const std::string& x) {
  auto first = x.find_first_not_of(" \t\r");
  if (first == std::string::npos)
    return {};
  auto last = x.find_last_not_of(" \t\r");
  return x.substr(first, last - first + 1);
}

// "## Hosted models" -> 2 and "Hosted models"; 0 when not a heading.
int heading_level(const std::string& line, std::string& text) {
  std::size_t n = 0;
  while (n < line.size() && line[n] == '#')
    ++n;
  if (n == 0 || n > 6 || n >= line.size() || line[n] != ' ')
    return 0;
  text = trimmed(line.substr(n + 1));
  return static_cast<int>(n);
}

std::string hex8(std::uint32_t x) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(8, '0');
  for (int i = 7; i >= 0; --i, x >>= 4)
    out[static_cast<std::size_t>(i)] = digits[x & 0xf];
  return out;
}

std::uint32_t fnv1a(const std::string& x) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : x) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

class splitter {
public:
  splitter(const std::string& name, std::size_t max_chars)
      : name_(name), max_chars_(max_chars) {
    // nop
  }

  void heading(int level, const std::string& text) {
    end_paragraph();
    flush();
    if (level == 1 && doc_title_.empty()) {
      doc_title_ = text;
      section_.clear();
    } else {
      section_ = text;
    }
  }

  void line(const std::string& text) {
    if (text.empty())
      return end_paragraph();
    if (!paragraph_.empty())
      paragraph_ += ' ';
    paragraph_ += text;
  }

  std::vector<passage> finish() {
    end_paragraph();
    flush();
    return std::move(out_);
  }

private:
  void end_paragraph() {
    if (paragraph_.empty())
      return;
    if (!text_.empty() && text_.size() + paragraph_.size() > max_chars_)
      flush();
    if (!text_.empty())
      text_ += "\n\n";
    text_ += paragraph_;
    paragraph_.clear();
  }

  void flush() {
    if (text_.empty())
      return;
    passage p;
    p.title = doc_title_.empty() ? name_ : doc_title_;
    if (!section_.empty())
      p.title += " - " + section_;
    p.text = std::move(text_);
    text_.clear();
    p.id = name_ + '#' + hex8(fnv1a(p.title + '\n' + p.text));
    out_.push_back(std::move(p));
  }

  const std::string& name_;
  std::size_t max_chars_;
  std::string doc_title_;
  std::string section_;
  std::string paragraph_;
  std::string text_;
  std::vector<passage> out_;
};

} // namespace

std::vector<passage> split_document(const std::string& name,
                                    const std::string& text,
                                    std::size_t max_chars) {
  splitter s{name, max_chars};
  std::istringstream in{text};
  std::string heading_text;
  for (std::string raw; std::getline(in, raw);) {
    auto line = trimmed(raw);
    if (auto level = heading_level(line, heading_text); level > 0)
      s.heading(level, heading_text);
    else
      s.line(line);
  }
  return s.finish();
}

} // namespace parley::agent
