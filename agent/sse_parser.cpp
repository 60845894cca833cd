#include "agent/sse_parser.hpp"

namespace parley::agent {

namespace {

constexpr std::string_view bom = "\xEF\xBB\xBF";

// Field values lose one leading space: "data: x" and "data:x" are the same.
std::string_view value_of(std::string_view line, std::size_t colon) {
  if (colon == std::string_view::npos)
    return {};
  auto value = line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ')
    value.remove_prefix(1);
  return value;
}

bool all_digits(std::string_view x) {
  if (x.empty() || x.size() > 12)
    return false;
  for (char c : x)
    if (c < '0' || c > '9')
      return false;
  return true;
}

} // namespace

bool sse_parser::feed(std::string_view bytes, std::vector<sse_event>& out) {
  if (failed_)
    return false;
  std::size_t pos = 0;
  // A CR ended the last line of the previous chunk: a LF right after it
  // belongs to the same line break.
  if (after_cr_ && !bytes.empty()) {
    after_cr_ = false;
    if (bytes.front() == '\n')
      pos = 1;
  }
  while (pos < bytes.size()) {
    auto rest = bytes.substr(pos);
    // Scanning for both terminators at once keeps this linear in the input.
    auto end = rest.find_first_of("\r\n");
    if (end == std::string_view::npos) {
      line_.append(rest);
      if (line_.size() + data_.size() > max_event_bytes_) {
        failed_ = true;
        return false;
      }
      return true;
    }
    line_.append(rest.substr(0, end));
    if (line_.size() + data_.size() > max_event_bytes_) {
      failed_ = true;
      return false;
    }
    pos += end + 1;
    if (rest[end] == '\r') {
      if (pos < bytes.size()) {
        if (bytes[pos] == '\n')
          ++pos;
      } else {
        after_cr_ = true;
      }
    }
    on_line(out);
    line_.clear();
  }
  return true;
}

bool sse_parser::finish() const {
  return !line_.empty() || has_data_;
}

void sse_parser::on_line(std::vector<sse_event>& out) {
  std::string_view line = line_;
  if (first_line_) {
    first_line_ = false;
    if (line.substr(0, bom.size()) == bom)
      line.remove_prefix(bom.size());
  }
  if (line.empty())
    return dispatch(out);
  if (line.front() == ':')
    return; // a comment, often a keep-alive
  auto colon = line.find(':');
  auto field = line.substr(0, colon);
  auto value = value_of(line, colon);
  if (field == "data") {
    data_.append(value);
    data_ += '\n';
    has_data_ = true;
  } else if (field == "event") {
    type_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos)
      last_id_.assign(value);
  } else if (field == "retry") {
    if (all_digits(value))
      retry_ms_ = std::stoll(std::string{value});
  }
  // Any other field is ignored, as the standard says.
}

void sse_parser::dispatch(std::vector<sse_event>& out) {
  if (has_data_) {
    sse_event ev;
    if (!type_.empty())
      ev.type = std::move(type_);
    data_.pop_back(); // the '\n' after the last data line
    ev.data = std::move(data_);
    ev.id = last_id_;
    out.push_back(std::move(ev));
  }
  data_.clear();
  type_.clear();
  has_data_ = false;
}

} // namespace parley::agent
