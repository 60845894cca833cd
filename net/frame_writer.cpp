#include "net/frame_writer.hpp"

#include <algorithm>
#include <charconv>
#include <memory>

#include "net/json_text.hpp"

namespace parley::net {

namespace {

// A long frame (a `complete` with a long reply) does not keep its buffer.
constexpr std::size_t max_kept_buffer = std::size_t{64} * 1024;
constexpr std::size_t initial_buffer = 1024;

std::string& thread_buffer() {
  thread_local std::string buffer(initial_buffer, '\0');
  return buffer;
}

} // namespace

frame_writer::frame_writer() : buffer_(thread_buffer()) {
  // nop
}

void frame_writer::grow(std::size_t n) {
  buffer_.resize(std::max(2 * buffer_.size(), size_ + n));
}

void frame_writer::str(std::string_view s) {
  // Room for the worst case; what escaping did not use is given back.
  auto bound = json_string_bound(s.size());
  auto* at = room(bound);
  auto* end = write_json_string(at, s);
  size_ -= bound - static_cast<std::size_t>(end - at);
}

void frame_writer::number(std::int64_t n) {
  constexpr std::size_t max_digits = 20; // a sign and 19 digits
  auto* at = room(max_digits);
  auto* end = std::to_chars(at, at + max_digits, n).ptr;
  size_ -= max_digits - static_cast<std::size_t>(end - at);
}

frame_ptr frame_writer::finish() {
  auto frame = std::make_shared<const std::string>(buffer_.data(), size_);
  size_ = 0;
  if (buffer_.size() > max_kept_buffer)
    std::string(initial_buffer, '\0').swap(buffer_);
  return frame;
}

} // namespace parley::net
