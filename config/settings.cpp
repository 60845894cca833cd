#include "config/settings.hpp"

#include <cctype>
#include <charconv>
#include <limits>
#include <map>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <variant>

namespace parley {

namespace {

// -- the table of settings ----------------------------------------------------

using text_member = std::string settings::*;
using int_member = int settings::*;
using int64_member = std::int64_t settings::*;
using size_member = std::size_t settings::*;
using port_member = std::uint16_t settings::*;
using any_member = std::variant<text_member, int_member, int64_member,
                                size_member, port_member>;

// Returns why a text value is rejected, or an empty string when it is fine.
using text_check = std::string (*)(std::string_view);

// One row of CONTRACT.md's settings table. Parsing, defaults and --help all
// read this table, so a new setting is one new row.
struct descriptor {
  descriptor(std::string_view flag, any_member member, std::string_view meaning)
      : flag(flag), member(member), meaning(meaning) {
    // nop
  }

  std::string_view flag; // "port": flag --port, variable PARLEY_PORT
  any_member member;
  std::string_view meaning;
  std::string_view default_note;         // --help shows it instead of a value
  std::int64_t min = 0;                  // numbers only
  std::int64_t max = 0;                  // numbers only
  std::vector<std::string_view> choices; // texts only; empty: anything
  text_check check = nullptr;            // texts only
};

std::string check_not_empty(std::string_view x) {
  return x.empty() ? "is empty" : "";
}

bool starts_with(std::string_view x, std::string_view prefix) {
  return x.substr(0, prefix.size()) == prefix;
}

std::string check_database_url(std::string_view x) {
  auto named = [&](std::string_view scheme) {
    return starts_with(x, scheme) && x.size() > scheme.size();
  };
  if (named("sqlite:") || named("postgresql://") || named("postgres://"))
    return "";
  return "is neither sqlite:PATH nor postgresql://user:pass@host:port/db";
}

descriptor text(std::string_view flag, text_member m, std::string_view meaning,
                std::string_view default_note = {},
                text_check check = nullptr) {
  descriptor d{flag, m, meaning};
  d.default_note = default_note;
  d.check = check;
  return d;
}

descriptor choice(std::string_view flag, text_member m,
                  std::vector<std::string_view> choices,
                  std::string_view meaning) {
  descriptor d{flag, m, meaning};
  d.choices = std::move(choices);
  return d;
}

template <class T>
descriptor number(std::string_view flag, T settings::*m, std::int64_t min,
                  std::int64_t max, std::string_view meaning) {
  descriptor d{flag, m, meaning};
  d.min = min;
  d.max = max;
  return d;
}

constexpr std::int64_t one_year = std::int64_t{365} * 24 * 3600;
constexpr std::int64_t one_gib = std::int64_t{1} << 30;
constexpr std::int64_t one_hour_ms = std::int64_t{3600} * 1000;

const std::vector<descriptor>& table() {
  // Upper bounds catch typos (an extra zero or three) and keep millisecond
  // arithmetic on these values far from overflow.
  static const std::vector<descriptor> rows{
      text("host", &settings::host, "listen address", {}, check_not_empty),
      number("port", &settings::port, 0, 65535,
             "one port for HTTP, WebSocket, SSE and Socket.IO "
             "(0: any free port)"),
      text("database-url", &settings::database_url,
           "sqlite:PATH (embedded) or postgresql://user:pass@host:port/db", {},
           check_database_url),
      number("idle-warning-seconds", &settings::idle_warning_seconds, 1,
             one_year, "visitor inactivity before idle_warning"),
      number("session-end-seconds", &settings::session_end_seconds, 1, one_year,
             "visitor inactivity before session_end (counted from the last "
             "activity, not from the warning)"),
      number("session-ttl-seconds", &settings::session_ttl_seconds, 1,
             100 * one_year,
             "a visitor session expires this long after creation"),
      choice("agent", &settings::agent, {"builtin", "openai", "anthropic"},
             "builtin (offline, no network), openai (any OpenAI-compatible "
             "chat completions server) or anthropic"),
      text("llm-base-url", &settings::llm_base_url,
           "LLM server, e.g. http://127.0.0.1:11434/v1", "provider's usual"),
      text("llm-api-key", &settings::llm_api_key, "LLM API key; never logged"),
      text("llm-model", &settings::llm_model, "LLM model name",
           "provider-specific"),
      text("llm-system-prompt", &settings::llm_system_prompt,
           "system prompt for openai/anthropic replies",
           "a short visitor-chat prompt"),
      text("llm-system-prompt-file", &settings::llm_system_prompt_file,
           "file holding the system prompt; beats PARLEY_LLM_SYSTEM_PROMPT"),
      number("llm-max-tokens", &settings::llm_max_tokens, 0, 1000000,
             "longest reply in tokens (0: the provider's default; "
             "anthropic, which needs one, then gets 1024)"),
      number("llm-history-chars", &settings::llm_history_chars, 0,
             100000000,
             "characters of past messages sent with each turn, most recent "
             "first (the visitor's new message always goes)"),
      number("llm-connect-timeout-ms", &settings::llm_connect_timeout_ms, 1,
             one_hour_ms, "time to connect to the LLM server"),
      number("llm-first-token-timeout-ms",
             &settings::llm_first_token_timeout_ms, 1, one_hour_ms,
             "time from sending a request to the model's first token"),
      number("llm-idle-timeout-ms", &settings::llm_idle_timeout_ms, 1,
             one_hour_ms,
             "longest silence of the LLM server in the middle of a reply"),
      number("llm-max-retries", &settings::llm_max_retries, 0, 10,
             "retries of a failed LLM request (429, 5xx, no connection), "
             "only before the first token"),
      number("llm-retry-base-ms", &settings::llm_retry_base_ms, 1,
             one_hour_ms,
             "first retry delay; each further retry waits twice as long"),
      number("llm-retry-max-ms", &settings::llm_retry_max_ms, 1, one_hour_ms,
             "longest retry delay; a Retry-After asking for more fails the "
             "reply at once"),
      number("llm-max-tool-steps", &settings::llm_max_tool_steps, 0, 20,
             "tool rounds (model -> tools -> model) in one reply (0: tools "
             "are not offered)"),
      number("stream-delay-ms", &settings::stream_delay_ms, 0, one_hour_ms,
             "pause between the builtin agent's chunks (0: as fast as "
             "possible)"),
      number("builtin-words", &settings::builtin_words, 0, 1000000,
             "when > 0, every builtin reply is exactly this many words"),
      text("knowledge-dir", &settings::knowledge_dir,
           "text/markdown files the agent retrieves sources from",
           "the shipped sample folder"),
      text("jwt-secret", &settings::jwt_secret, "HS256 key for user tokens"),
      text("jwks-url", &settings::jwks_url,
           "JWKS for RS256/ES256 tokens (Clerk-style); file:// allowed"),
      text("jwt-issuer", &settings::jwt_issuer,
           "token issuer, checked when set"),
      text("jwt-audience", &settings::jwt_audience,
           "token audience, checked when set"),
      number("max-frame-bytes", &settings::max_frame_bytes, 1, one_gib,
             "largest inbound WebSocket frame / request body"),
      number("max-image-bytes", &settings::max_image_bytes, 1, one_gib,
             "largest decoded base64 image"),
      text("cors-origins", &settings::cors_origins,
           "browser origins that may call the HTTP API: * (any), a "
           "comma-separated list (https://app.example.com,...), or none"),
      choice("log-level", &settings::log_level,
             {"debug", "info", "warn", "error"}, "debug, info, warn or error"),
  };
  return rows;
}

// -- naming -------------------------------------------------------------------

std::string variable_of(const descriptor& d) {
  std::string result = "PARLEY_";
  for (char c : d.flag)
    result += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return result;
}

std::string flag_of(const descriptor& d) {
  return "--" + std::string{d.flag};
}

// "PARLEY_PORT (--port)": how errors name a setting.
std::string name_of(const descriptor& d) {
  return variable_of(d) + " (" + flag_of(d) + ")";
}

// Quotes a value for a one-line message: escapes quotes, backslashes and
// control characters.
std::string quoted(std::string_view x) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string result = "\"";
  for (char c : x) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      result += '\\';
      result += c;
    } else if (u < 0x20 || u == 0x7f) {
      result += "\\x";
      result += hex[u >> 4];
      result += hex[u & 0xf];
    } else {
      result += c;
    }
  }
  return result + "\"";
}

// Hides the password of "scheme://user:password@host" so that an error
// message never shows it.
std::string redact_url(std::string_view x) {
  auto scheme_end = x.find("://");
  if (scheme_end == std::string_view::npos)
    return std::string{x};
  auto user_begin = scheme_end + 3;
  auto at = x.find('@', user_begin);
  if (at == std::string_view::npos)
    return std::string{x};
  auto colon = x.find(':', user_begin);
  if (colon == std::string_view::npos || colon > at)
    return std::string{x};
  return std::string{x.substr(0, colon + 1)} + "***"
         + std::string{x.substr(at)};
}

// -- parsing ------------------------------------------------------------------

template <class T>
constexpr bool is_text = std::is_same_v<T, std::string>;

// Parses `value` into the member `d` names; returns why it is rejected, or an
// empty string on success.
std::string apply(const descriptor& d, std::string_view value, settings& out) {
  return std::visit(
      [&](auto member) -> std::string {
        using value_type = std::decay_t<decltype(out.*member)>;
        if constexpr (is_text<value_type>) {
          if (!d.choices.empty()) {
            for (auto c : d.choices)
              if (c == value) {
                out.*member = std::string{value};
                return "";
              }
            std::string expected;
            for (auto c : d.choices)
              expected += (expected.empty() ? "" : ", ") + std::string{c};
            return quoted(value) + " is not one of " + expected;
          }
          if (d.check) {
            auto why = d.check(value);
            if (!why.empty())
              return quoted(redact_url(value)) + " " + why;
          }
          out.*member = std::string{value};
          return "";
        } else {
          constexpr bool is_port = std::is_same_v<value_type, std::uint16_t>;
          std::int64_t n = 0;
          auto first = value.data();
          auto last = first + value.size();
          auto [end, ec] = std::from_chars(first, last, n);
          bool parsed = !value.empty() && end == last;
          if (is_port
              && (!parsed || ec != std::errc{} || n < d.min || n > d.max))
            return quoted(value) + " is not a port number";
          if (!parsed
              || (ec != std::errc{} && ec != std::errc::result_out_of_range))
            return quoted(value) + " is not a whole number";
          bool negative = value.front() == '-';
          if (negative && d.min >= 0)
            return quoted(value) + " is negative";
          if (ec == std::errc::result_out_of_range || n > d.max)
            return quoted(value) + " is larger than " + std::to_string(d.max);
          if (n < d.min)
            return quoted(value) + " is smaller than " + std::to_string(d.min);
          out.*member = static_cast<value_type>(n);
          return "";
        }
      },
      d.member);
}

const descriptor* find_by_flag(std::string_view flag) {
  for (auto& d : table())
    if (d.flag == flag)
      return &d;
  return nullptr;
}

const descriptor& find_by_member(any_member m) {
  for (auto& d : table())
    if (d.member == m)
      return d;
  throw std::logic_error("setting missing from the table");
}

// Settings that are only wrong together.
std::string check_combination(const settings& x) {
  if (x.session_end_seconds <= x.idle_warning_seconds) {
    auto& end = find_by_member(&settings::session_end_seconds);
    auto& warn = find_by_member(&settings::idle_warning_seconds);
    return "invalid value for " + name_of(end) + ": "
           + quoted(std::to_string(x.session_end_seconds))
           + " is not greater than " + variable_of(warn) + " ("
           + std::to_string(x.idle_warning_seconds) + ")";
  }
  return "";
}

// What --help shows as the default of `d`.
std::string default_of(const descriptor& d) {
  if (!d.default_note.empty())
    return std::string{d.default_note};
  static const settings defaults;
  return std::visit(
      [](auto member) -> std::string {
        auto& x = defaults.*member;
        if constexpr (is_text<std::decay_t<decltype(x)>>)
          return x.empty() ? "(none)" : x;
        else
          return std::to_string(x);
      },
      d.member);
}

// Appends `text` word-wrapped to 80 columns, each line indented by `indent`.
void append_wrapped(std::string& out, std::string_view text,
                    std::size_t indent) {
  constexpr std::size_t width = 80;
  std::size_t column = 0;
  while (!text.empty()) {
    auto space = text.find(' ');
    auto word = text.substr(0, space);
    text = space == std::string_view::npos ? "" : text.substr(space + 1);
    if (column > indent && column + 1 + word.size() > width) {
      out += '\n';
      column = 0;
    }
    if (column == 0) {
      out.append(indent, ' ');
      column = indent;
    } else {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
  }
  out += '\n';
}

} // namespace

settings_result
load_settings(const std::vector<std::string>& args,
              const std::function<const char*(const char*)>& getenv_fn) {
  settings_result result;
  auto fail = [&](std::string why) {
    if (result.error.empty())
      result.error = std::move(why);
  };
  // Flags first, so that a flag can stand in for a bad variable.
  std::map<const descriptor*, std::string> flags;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      result.help = true;
      continue;
    }
    if (!starts_with(arg, "--") || arg.size() == 2) {
      fail("unexpected argument " + quoted(arg) + " (see --help)");
      continue;
    }
    auto eq = arg.find('=');
    auto name = arg.substr(2, eq == std::string_view::npos ? eq : eq - 2);
    auto d = find_by_flag(name);
    if (d == nullptr) {
      fail("unknown flag " + quoted(arg.substr(0, eq)) + " (see --help)");
      continue;
    }
    if (eq != std::string_view::npos)
      flags[d] = std::string{arg.substr(eq + 1)};
    else if (i + 1 < args.size() && !starts_with(args[i + 1], "--"))
      flags[d] = args[++i];
    else
      fail("missing value for " + name_of(*d));
  }
  for (auto& d : table()) {
    std::string why;
    if (auto i = flags.find(&d); i != flags.end()) {
      why = apply(d, i->second, result.values);
    } else if (getenv_fn) {
      // An empty variable counts as unset, as `PARLEY_X=` in an env file
      // usually means "no value".
      auto env = getenv_fn(variable_of(d).c_str());
      if (env != nullptr && *env != '\0')
        why = apply(d, env, result.values);
    }
    if (!why.empty())
      fail("invalid value for " + name_of(d) + ": " + why);
  }
  if (result.error.empty())
    fail(check_combination(result.values));
  // `parley --port x --help` still prints the help, as users expect.
  if (result.help)
    result.error.clear();
  return result;
}

std::string help_text() {
  std::string out
      = "usage: parley [--flag value | --flag=value]...\n"
        "\n"
        "Every setting is a flag or an environment variable; a flag beats the\n"
        "variable, the variable beats the default. An empty variable counts "
        "as\n"
        "unset.\n"
        "\n"
        "  -h, --help  print this text and exit\n";
  for (auto& d : table()) {
    out += "\n  " + flag_of(d) + ", " + variable_of(d) + "\n";
    append_wrapped(out, d.meaning, 6);
    append_wrapped(out, "default: " + default_of(d), 6);
  }
  return out;
}

} // namespace parley
