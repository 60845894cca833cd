#pragma once

// A frame written piece by piece into this thread's buffer, then copied
// once into a string of its exact size: one allocation per frame and no
// slack, without a measuring pass that would escape every string twice.
// A piece costs a bounds check and a memcpy; std::string::append is an
// out-of-line call with checks of its own, and a chunk frame has about ten
// pieces. One writer per thread at a time.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "actors/event.hpp"

namespace parley::net {

class frame_writer {
public:
  frame_writer();

  frame_writer(const frame_writer&) = delete;
  frame_writer& operator=(const frame_writer&) = delete;

  // `s` as it is. Inline: keys are literals, copied in a few moves.
  void raw(std::string_view s) {
    std::memcpy(room(s.size()), s.data(), s.size());
  }

  // `s` as a JSON string literal (net/json_text.hpp).
  void str(std::string_view s);

  // `n` in decimal.
  void number(std::int64_t n);

  // What was written, as a frame; the writer is empty after it.
  frame_ptr finish();

private:
  // Where the next `n` bytes go; they count as written.
  char* room(std::size_t n) {
    if (buffer_.size() - size_ < n)
      grow(n);
    auto* at = buffer_.data() + size_;
    size_ += n;
    return at;
  }
  void grow(std::size_t n);

  std::string& buffer_; // this thread's; its size is what it can hold
  std::size_t size_ = 0;
};

} // namespace parley::net
