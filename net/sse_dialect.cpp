#include "net/sse_dialect.hpp"

#include <memory>

#include "net/frame_writer.hpp"

namespace parley::net {

namespace {

constexpr std::string_view end_event = "event: end\n";
constexpr std::string_view error_event = "event: error\n";

void id_line(frame_writer& out, const event& ev, std::uint32_t seq) {
  if (ev.response_id.empty())
    return;
  out.raw("id: ");
  out.raw(ev.response_id);
  out.raw(":");
  out.number(seq);
  out.raw("\n");
}

} // namespace

const std::string& sse_start() {
  static const std::string text
      = "data: {\"event\":\"start\",\"data\":{\"message\":\"Starting AI "
        "response...\"}}\n\n";
  return text;
}

const std::string& sse_heartbeat() {
  static const std::string text = ": keep-alive\n\n";
  return text;
}

frame_ptr encode_sse(const event& ev) {
  frame_writer out;
  switch (ev.kind) {
  case event_kind::chunk:
    id_line(out, ev, ev.seq);
    out.raw("event: message\ndata: {\"type\":\"content\",\"content\":");
    out.str(ev.text);
    out.raw("}\n\n");
    break;
  case event_kind::complete: {
    auto seq = ev.seq;
    if (!ev.sources.empty()) {
      id_line(out, ev, ++seq);
      out.raw("event: sources\ndata: {\"type\":\"sources\",\"sources\":[");
      bool first = true;
      for (auto& s : ev.sources) {
        out.raw(first ? "{\"id\":" : ",{\"id\":");
        first = false;
        out.str(s.id);
        out.raw(",\"title\":");
        out.str(s.title);
        out.raw(",\"content\":");
        out.str(s.content);
        out.raw("}");
      }
      out.raw("]}\n\n");
    }
    id_line(out, ev, ++seq);
    out.raw(end_event);
    out.raw("data: {\"type\":\"end\"}\n\n");
    break;
  }
  case event_kind::error:
    id_line(out, ev, ev.seq + 1);
    out.raw(error_event);
    out.raw("data: {\"error\":\"Failed to process message\"}\n\n");
    break;
  default:
    return nullptr;
  }
  return out.finish();
}

bool sse_final(const std::string& frame) {
  // Data lines hold JSON, whose strings escape newlines: these lines can
  // only be event lines.
  auto at_line = [&](std::string_view line) {
    auto pos = frame.find(line);
    return pos != std::string::npos && (pos == 0 || frame[pos - 1] == '\n');
  };
  return at_line(end_event) || at_line(error_event);
}

} // namespace parley::net
