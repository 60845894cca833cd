#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace parley::agent {

// One server-sent event, as the WHATWG "event stream interpretation" builds
// it: `type` defaults to "message", `data` joins the data lines with '\n'.
struct sse_event {
  std::string type = "message";
  std::string data;
  std::string id; // the last event ID seen so far on the stream
};

// An incremental text/event-stream parser for upstream LLM streams. It takes
// bytes exactly as they come off the socket: a chunk may end anywhere, inside
// a line, inside a `data:` field name, between CR and LF, or inside a UTF-8
// sequence. It never decodes text (the JSON in `data` does that), so a split
// character is simply joined again in the line buffer.
//
// Lines end with CRLF, LF or CR; lines starting with ':' are comments; an
// empty line dispatches the event, unless it has no data line. An event
// without its closing empty line at end of stream is dropped, as the
// standard says: finish() tells whether that happened.
class sse_parser {
public:
  // `max_event_bytes` bounds one line plus the event's data, so a hostile
  // or broken upstream cannot make parley buffer without end.
  explicit sse_parser(std::size_t max_event_bytes = 4u << 20)
      : max_event_bytes_(max_event_bytes) {
    // nop
  }

  // Parses `bytes` and appends every event it completes to `out`. Returns
  // false once an event exceeds the bound; the parser then stays failed.
  bool feed(std::string_view bytes, std::vector<sse_event>& out);

  // End of stream: true when the stream stopped inside an event (a partial
  // line or data without its dispatching empty line).
  bool finish() const;

  bool failed() const {
    return failed_;
  }

  // The last `retry:` value in milliseconds, or -1.
  long long retry_ms() const {
    return retry_ms_;
  }

private:
  void on_line(std::vector<sse_event>& out);
  void dispatch(std::vector<sse_event>& out);

  std::size_t max_event_bytes_;
  std::string line_;       // the current line, without its terminator
  std::string data_;       // data lines of the current event
  std::string type_;       // the current event's `event:` value
  std::string last_id_;    // persists across events, as specified
  bool has_data_ = false;  // at least one data line (even "data:")
  bool after_cr_ = false;  // the previous byte was a CR ending a line
  bool first_line_ = true; // a UTF-8 BOM may open the stream
  bool failed_ = false;
  long long retry_ms_ = -1;
};

} // namespace parley::agent
