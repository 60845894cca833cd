#include "net/sse_dialect.hpp"

#include <memory>

#include "net/json_text.hpp"

namespace parley::net {

namespace {

constexpr std::string_view end_event = "event: end\n";
constexpr std::string_view error_event = "event: error\n";

void id_line(std::string& out, const event& ev, std::uint32_t seq) {
  if (ev.response_id.empty())
    return;
  out += "id: ";
  out += ev.response_id;
  out += ':';
  out += std::to_string(seq);
  out += '\n';
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
  std::string out;
  switch (ev.kind) {
  case event_kind::chunk:
    id_line(out, ev, ev.seq);
    out += "event: message\ndata: {\"type\":\"content\",\"content\":";
    append_json_string(out, ev.text);
    out += "}\n\n";
    break;
  case event_kind::complete: {
    auto seq = ev.seq;
    if (!ev.sources.empty()) {
      id_line(out, ev, ++seq);
      out += "event: sources\ndata: {\"type\":\"sources\",\"sources\":[";
      bool first = true;
      for (auto& s : ev.sources) {
        out += first ? "{\"id\":" : ",{\"id\":";
        first = false;
        append_json_string(out, s.id);
        out += ",\"title\":";
        append_json_string(out, s.title);
        out += ",\"content\":";
        append_json_string(out, s.content);
        out += '}';
      }
      out += "]}\n\n";
    }
    id_line(out, ev, ++seq);
    out += end_event;
    out += "data: {\"type\":\"end\"}\n\n";
    break;
  }
  case event_kind::error:
    id_line(out, ev, ev.seq + 1);
    out += error_event;
    out += "data: {\"error\":\"Failed to process message\"}\n\n";
    break;
  default:
    return nullptr;
  }
  return std::make_shared<const std::string>(std::move(out));
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
