#include "net/visitor_dialect.hpp"

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "net/client_json.hpp"
#include "net/flat_json.hpp"
#include "net/frame_writer.hpp"
#include "net/ids.hpp"
#include "net/utf8.hpp"
#include "storage/text_check.hpp"

namespace parley::net {

namespace {

// -- encoding ---------------------------------------------------------------

// Frames are written by hand (net/frame_writer.hpp), no DOM on the hot
// path.

// `key` carries its punctuation: `,"session_id":`.
void opt_str(frame_writer& out, std::string_view key,
             const std::string& value) {
  if (value.empty())
    return;
  out.raw(key);
  out.str(value);
}

void boolean(frame_writer& out, std::string_view key, bool value) {
  out.raw(key);
  out.raw(value ? "true" : "false");
}

void number(frame_writer& out, std::string_view key, int value) {
  out.raw(key);
  out.number(value);
}

// conversation_data is JSON object text from storage, embedded as it is.
// The cheap shape check keeps a corrupt value from breaking the frame.
bool looks_like_object(std::string_view s) {
  auto first = s.find_first_not_of(" \t\r\n");
  auto last = s.find_last_not_of(" \t\r\n");
  return first != std::string_view::npos && s[first] == '{' && s[last] == '}';
}

std::string_view type_name(event_kind kind) {
  switch (kind) {
    case event_kind::connected:
      return "connected";
    case event_kind::chunk:
      return "chunk";
    case event_kind::complete:
      return "complete";
    case event_kind::idle_warning:
      return "idle_warning";
    case event_kind::session_end:
      return "session_end";
    case event_kind::error:
    case event_kind::message:
      break;
  }
  return "error";
}

// The seed's chunk example, field for field: type, chunk, done, complete,
// message_id (then session_id, which the example leaves out).
void chunk_frame(frame_writer& out, const event& ev) {
  out.raw(R"({"type":"chunk","chunk":)");
  out.str(ev.text);
  out.raw(R"(,"done":false)");
  boolean(out, R"(,"complete":)", ev.complete);
  opt_str(out, R"(,"message_id":)", ev.message_id);
  opt_str(out, R"(,"session_id":)", ev.session_id);
  out.raw("}");
}

void metadata(frame_writer& out, const event& ev) {
  switch (ev.kind) {
    case event_kind::connected:
      out.raw(R"(,"metadata":{"status":"connected"})");
      break;
    case event_kind::idle_warning:
      out.raw(R"(,"metadata":{"type":"idle_warning")");
      number(out, R"(,"timeout_seconds":)", ev.timeout_seconds);
      out.raw("}");
      break;
    case event_kind::session_end:
      out.raw(R"(,"metadata":{"type":"session_end")");
      opt_str(out, R"(,"reason":)", ev.reason);
      number(out, R"(,"timeout_seconds":)", ev.timeout_seconds);
      out.raw("}");
      break;
    case event_kind::error:
      out.raw(R"(,"metadata":{"error_type":)");
      out.str(ev.reason.empty() ? std::string_view{"processing_error"}
                                : std::string_view{ev.reason});
      out.raw("}");
      break;
    default:
      break;
  }
}

// Every other frame follows the seed's common schema, in its order.
void common_frame(frame_writer& out, const event& ev) {
  out.raw(R"({"type":")");
  out.raw(type_name(ev.kind));
  out.raw("\"");
  opt_str(out, R"(,"session_id":)", ev.session_id);
  opt_str(out, R"(,"message_id":)", ev.message_id);
  opt_str(out, R"(,"response_id":)", ev.response_id);
  if (ev.kind == event_kind::complete) {
    out.raw(R"(,"message":)");
    out.str(ev.text);
  } else if (ev.kind != event_kind::error) {
    opt_str(out, R"(,"message":)", ev.text);
  }
  boolean(out, R"(,"done":)", ev.kind == event_kind::complete);
  boolean(out, R"(,"complete":)", ev.complete);
  if (looks_like_object(ev.conversation_data)) {
    out.raw(R"(,"conversation_data":)");
    out.raw(ev.conversation_data);
  }
  if (ev.needs_info)
    boolean(out, R"(,"needs_info":)", *ev.needs_info);
  if (!ev.suggestions.empty()) {
    out.raw(R"(,"suggestions":[)");
    for (std::size_t i = 0; i < ev.suggestions.size(); ++i) {
      if (i > 0)
        out.raw(",");
      out.str(ev.suggestions[i]);
    }
    out.raw("]");
  }
  if (ev.kind == event_kind::error) {
    out.raw(R"(,"error":)");
    out.str(ev.text);
  }
  metadata(out, ev);
  out.raw("}");
}

void layout(frame_writer& out, const event& ev) {
  if (ev.kind == event_kind::chunk)
    chunk_frame(out, ev);
  else
    common_frame(out, ev);
}

// -- decoding ---------------------------------------------------------------

// Python's str.isspace(), which the seed's server used to strip messages.
bool is_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85
         || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A)
         || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F
         || c == 0x3000;
}

bool is_blank(std::string_view s) {
  for (std::size_t i = 0; i < s.size();)
    if (!is_space(utf8_next(s, i)))
      return false;
  return true;
}

// The first `n` characters (code points) of valid UTF-8 text.
std::string_view first_chars(std::string_view s, std::size_t n) {
  std::size_t i = 0;
  for (; i < s.size() && n > 0; --n)
    utf8_next(s, i);
  return s.substr(0, i);
}

// The top-level string fields of a visitor command, read as the parser
// goes: no document is built (it was two thirds of a message's decoding).
// As in a document, the last value of a repeated key counts, and a value
// that is not a string leaves its field unset. Depth is counted here, so
// no separate pass looks for deep nesting.
struct command_fields {
  using json = nlohmann::json;
  std::optional<std::string> type, session_id, message, visitor_id;
  bool object = false; // the top level is an object
  bool too_deep = false;
  int depth = 0;
  std::optional<std::string>* slot = nullptr; // where the next value goes

  std::optional<std::string>* field(std::string_view key) {
    if (key == "type")
      return &type;
    if (key == "session_id")
      return &session_id;
    if (key == "message")
      return &message;
    if (key == "visitor_id")
      return &visitor_id;
    return nullptr;
  }

  bool other_value() {
    if (slot != nullptr)
      slot->reset();
    slot = nullptr;
    return true;
  }
  bool open(bool is_object) {
    if (depth == 0)
      object = is_object;
    other_value();
    if (++depth > max_json_depth) {
      too_deep = true;
      return false;
    }
    return true;
  }
  bool close() {
    --depth;
    return true;
  }

  // The parser's callbacks (nlohmann::json_sax).
  bool null() {
    return other_value();
  }
  bool boolean(bool) {
    return other_value();
  }
  bool number_integer(json::number_integer_t) {
    return other_value();
  }
  bool number_unsigned(json::number_unsigned_t) {
    return other_value();
  }
  bool number_float(json::number_float_t, const std::string&) {
    return other_value();
  }
  bool binary(json::binary_t&) {
    return other_value();
  }
  bool string(std::string& x) {
    if (slot != nullptr)
      *slot = std::move(x);
    slot = nullptr;
    return true;
  }
  bool key(std::string& x) {
    slot = depth == 1 ? field(x) : nullptr;
    return true;
  }
  bool start_object(std::size_t) {
    return open(true);
  }
  bool start_array(std::size_t) {
    return open(false);
  }
  bool end_object() {
    return close();
  }
  bool end_array() {
    return close();
  }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception&) {
    return false;
  }
};

} // namespace

frame_ptr encode_visitor(const event& ev) {
  if (ev.kind == event_kind::message)
    return nullptr; // the visitor chat has whole replies in `complete`
  frame_writer w;
  layout(w, ev);
  return w.finish();
}

frame_ptr visitor_pong() {
  static const frame_ptr frame = std::make_shared<const std::string>(
    R"({"type":"pong","done":false,"complete":false})");
  return frame;
}

visitor_command decode_visitor(std::string_view text) {
  using kind = visitor_command::kind_type;
  visitor_command cmd;
  auto invalid = [&cmd](std::string error) {
    cmd.kind = kind::invalid;
    cmd.error = std::move(error);
    return std::move(cmd);
  };
  // Both readers reject ill-formed UTF-8 (nlohmann lone surrogate escapes
  // too), so every string taken is valid UTF-8.
  command_fields doc;
  bool parsed = scan_flat_object(text, [&doc](auto key, auto value) {
    if (auto* slot = doc.field(key))
      slot->emplace(value);
  });
  if (parsed) {
    doc.object = true;
  } else {
    doc = command_fields{};
    parsed = nlohmann::json::sax_parse(text, &doc);
  }
  if (doc.too_deep)
    return invalid(json_too_deep_text);
  if (!parsed)
    return invalid("Invalid JSON");
  if (!doc.object)
    return invalid("Message must be a JSON object");
  auto& type = doc.type;
  if (!type)
    return invalid("type is required");
  if (*type == "ping") {
    cmd.kind = kind::ping;
    return cmd;
  }
  if (doc.session_id)
    cmd.session_id = canonical_uuid(*doc.session_id);
  if (*type != "chat_message")
    return invalid("Unknown message type: "
                   + std::string(first_chars(*type, 64)));
  auto& message = doc.message;
  if (!message || is_blank(*message))
    return invalid("message is required");
  // Valid UTF-8 already (JSON text); so only a NUL, which PostgreSQL
  // cannot store, fails the check every backend's text passes.
  if (!storage::storable_text(*message))
    return invalid("message must not contain NUL characters");
  if (cmd.session_id.empty())
    return invalid("Session not found");
  auto& vid = doc.visitor_id;
  if (!vid)
    return invalid("Visitor ID does not match");
  cmd.visitor_id = is_uuid(*vid) ? canonical_uuid(*vid) : *vid;
  cmd.message = std::move(*message);
  cmd.kind = kind::chat_message;
  return cmd;
}

} // namespace parley::net
