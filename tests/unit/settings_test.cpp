#define CAF_SUITE settings
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "config/log.hpp"
#include "config/settings.hpp"

using parley::load_settings;
using parley::settings;
using parley::settings_result;

namespace {

using env_map = std::map<std::string, std::string>;

settings_result load(const std::vector<std::string>& args,
                     const env_map& env = {}) {
  return load_settings(args, [&env](const char* name) -> const char* {
    auto i = env.find(name);
    return i == env.end() ? nullptr : i->second.c_str();
  });
}

std::string error_of(const std::vector<std::string>& args,
                     const env_map& env = {}) {
  return load(args, env).error;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Every row of CONTRACT.md's table, written out independently of the
// implementation's table, with a sample value and where it lands.
struct row {
  std::string variable;
  std::string flag;
  std::string sample;
  std::function<std::string(const settings&)> read;
};

std::vector<row> contract_rows() {
  auto num = [](auto member) {
    return [member](const settings& x) { return std::to_string(x.*member); };
  };
  auto txt = [](auto member) {
    return [member](const settings& x) { return x.*member; };
  };
  return {
      {"PARLEY_HOST", "--host", "0.0.0.0", txt(&settings::host)},
      {"PARLEY_PORT", "--port", "9001", num(&settings::port)},
      {"PARLEY_DATABASE_URL", "--database-url", "sqlite:/tmp/x.db",
       txt(&settings::database_url)},
      {"PARLEY_IDLE_WARNING_SECONDS", "--idle-warning-seconds", "7",
       num(&settings::idle_warning_seconds)},
      {"PARLEY_SESSION_END_SECONDS", "--session-end-seconds", "300",
       num(&settings::session_end_seconds)},
      {"PARLEY_SESSION_TTL_SECONDS", "--session-ttl-seconds", "3600",
       num(&settings::session_ttl_seconds)},
      {"PARLEY_AGENT", "--agent", "anthropic", txt(&settings::agent)},
      {"PARLEY_LLM_BASE_URL", "--llm-base-url", "http://127.0.0.1:11434/v1",
       txt(&settings::llm_base_url)},
      {"PARLEY_LLM_API_KEY", "--llm-api-key", "sk-123",
       txt(&settings::llm_api_key)},
      {"PARLEY_LLM_MODEL", "--llm-model", "llama3", txt(&settings::llm_model)},
      {"PARLEY_STREAM_DELAY_MS", "--stream-delay-ms", "0",
       num(&settings::stream_delay_ms)},
      {"PARLEY_BUILTIN_WORDS", "--builtin-words", "50",
       num(&settings::builtin_words)},
      {"PARLEY_KNOWLEDGE_DIR", "--knowledge-dir", "/srv/kb",
       txt(&settings::knowledge_dir)},
      {"PARLEY_JWT_SECRET", "--jwt-secret", "s3cret",
       txt(&settings::jwt_secret)},
      {"PARLEY_JWKS_URL", "--jwks-url", "file:///tmp/jwks.json",
       txt(&settings::jwks_url)},
      {"PARLEY_JWT_ISSUER", "--jwt-issuer", "https://issuer.example",
       txt(&settings::jwt_issuer)},
      {"PARLEY_JWT_AUDIENCE", "--jwt-audience", "parley",
       txt(&settings::jwt_audience)},
      {"PARLEY_MAX_FRAME_BYTES", "--max-frame-bytes", "1024",
       num(&settings::max_frame_bytes)},
      {"PARLEY_MAX_IMAGE_BYTES", "--max-image-bytes", "2048",
       num(&settings::max_image_bytes)},
      {"PARLEY_LOG_LEVEL", "--log-level", "debug", txt(&settings::log_level)},
  };
}

} // namespace

// -- defaults and precedence --------------------------------------------------

CAF_TEST(defaults follow the contract) {
  auto r = load({});
  CAF_CHECK_EQUAL(r.error, "");
  CAF_CHECK(!r.help);
  auto& x = r.values;
  CAF_CHECK_EQUAL(x.host, "127.0.0.1");
  CAF_CHECK_EQUAL(x.port, 8000);
  CAF_CHECK_EQUAL(x.database_url, "sqlite:parley.db");
  CAF_CHECK_EQUAL(x.idle_warning_seconds, 120);
  CAF_CHECK_EQUAL(x.session_end_seconds, 240);
  CAF_CHECK_EQUAL(x.session_ttl_seconds, 86400);
  CAF_CHECK_EQUAL(x.agent, "builtin");
  CAF_CHECK_EQUAL(x.llm_base_url, "");
  CAF_CHECK_EQUAL(x.llm_api_key, "");
  CAF_CHECK_EQUAL(x.stream_delay_ms, 20);
  CAF_CHECK_EQUAL(x.builtin_words, 0);
  CAF_CHECK_EQUAL(x.jwt_secret, "");
  CAF_CHECK_EQUAL(x.max_frame_bytes, 65536u);
  CAF_CHECK_EQUAL(x.max_image_bytes, 5242880u);
  CAF_CHECK_EQUAL(x.log_level, "info");
}

CAF_TEST(every setting reads its variable) {
  for (auto& r : contract_rows()) {
    auto result = load({}, {{r.variable, r.sample}});
    CAF_CHECK_EQUAL(result.error, "");
    CAF_CHECK_EQUAL(r.read(result.values), r.sample);
  }
}

CAF_TEST(every setting reads its flag in both forms) {
  for (auto& r : contract_rows()) {
    auto spaced = load({r.flag, r.sample});
    CAF_CHECK_EQUAL(spaced.error, "");
    CAF_CHECK_EQUAL(r.read(spaced.values), r.sample);
    auto joined = load({r.flag + "=" + r.sample});
    CAF_CHECK_EQUAL(joined.error, "");
    CAF_CHECK_EQUAL(r.read(joined.values), r.sample);
  }
}

CAF_TEST(a flag beats the variable and the variable beats the default) {
  env_map env{{"PARLEY_PORT", "9000"}, {"PARLEY_HOST", "0.0.0.0"}};
  auto r = load({"--port", "9100"}, env);
  CAF_CHECK_EQUAL(r.error, "");
  CAF_CHECK_EQUAL(r.values.port, 9100);
  CAF_CHECK_EQUAL(r.values.host, "0.0.0.0");
  CAF_CHECK_EQUAL(r.values.agent, "builtin");
}

CAF_TEST(a flag stands in for a bad variable) {
  auto r = load({"--port=8080"}, {{"PARLEY_PORT", "abc"}});
  CAF_CHECK_EQUAL(r.error, "");
  CAF_CHECK_EQUAL(r.values.port, 8080);
}

CAF_TEST(flag equals form keeps later equals signs) {
  auto r = load({"--jwt-secret=a=b=", "--database-url=sqlite:x=y.db"});
  CAF_CHECK_EQUAL(r.error, "");
  CAF_CHECK_EQUAL(r.values.jwt_secret, "a=b=");
  CAF_CHECK_EQUAL(r.values.database_url, "sqlite:x=y.db");
}

CAF_TEST(the last of a repeated flag wins) {
  auto r = load({"--port", "1", "--port=2"});
  CAF_CHECK_EQUAL(r.error, "");
  CAF_CHECK_EQUAL(r.values.port, 2);
}

CAF_TEST(an empty variable counts as unset) {
  auto r = load({}, {{"PARLEY_PORT", ""}, {"PARLEY_AGENT", ""}});
  CAF_CHECK_EQUAL(r.error, "");
  CAF_CHECK_EQUAL(r.values.port, 8000);
  CAF_CHECK_EQUAL(r.values.agent, "builtin");
}

CAF_TEST(accepted database urls) {
  for (auto url :
       {"sqlite:parley.db", "sqlite::memory:", "sqlite:///tmp/a.db",
        "postgresql://u:p@localhost:5432/db", "postgres://localhost/db"}) {
    auto r = load({"--database-url", url});
    CAF_CHECK_EQUAL(r.error, "");
    CAF_CHECK_EQUAL(r.values.database_url, url);
  }
}

CAF_TEST(edge values that are fine) {
  auto r = load({"--port", "0", "--stream-delay-ms", "0", "--builtin-words",
                 "0", "--port=65535"});
  CAF_CHECK_EQUAL(r.error, "");
  CAF_CHECK_EQUAL(r.values.port, 65535);
}

// -- bad values ---------------------------------------------------------------

CAF_TEST(a bad port names the setting) {
  CAF_CHECK_EQUAL(error_of({}, {{"PARLEY_PORT", "abc"}}),
                  "invalid value for PARLEY_PORT (--port): \"abc\" is not a "
                  "port number");
  CAF_CHECK_EQUAL(error_of({"--port", "70000"}),
                  "invalid value for PARLEY_PORT (--port): \"70000\" is not "
                  "a port number");
  CAF_CHECK_EQUAL(error_of({"--port=-1"}),
                  "invalid value for PARLEY_PORT (--port): \"-1\" is not a "
                  "port number");
  CAF_CHECK_EQUAL(error_of({"--port", "80 "}),
                  "invalid value for PARLEY_PORT (--port): \"80 \" is not a "
                  "port number");
}

CAF_TEST(bad numbers name the setting) {
  CAF_CHECK_EQUAL(error_of({}, {{"PARLEY_IDLE_WARNING_SECONDS", "-5"}}),
                  "invalid value for PARLEY_IDLE_WARNING_SECONDS "
                  "(--idle-warning-seconds): \"-5\" is negative");
  CAF_CHECK_EQUAL(error_of({"--session-ttl-seconds=12x"}),
                  "invalid value for PARLEY_SESSION_TTL_SECONDS "
                  "(--session-ttl-seconds): \"12x\" is not a whole number");
  CAF_CHECK_EQUAL(error_of({"--stream-delay-ms", "1.5"}),
                  "invalid value for PARLEY_STREAM_DELAY_MS "
                  "(--stream-delay-ms): \"1.5\" is not a whole number");
  CAF_CHECK_EQUAL(error_of({"--builtin-words="}),
                  "invalid value for PARLEY_BUILTIN_WORDS (--builtin-words): "
                  "\"\" is not a whole number");
  CAF_CHECK_EQUAL(error_of({"--max-frame-bytes", "0"}),
                  "invalid value for PARLEY_MAX_FRAME_BYTES "
                  "(--max-frame-bytes): \"0\" is smaller than 1");
  auto huge = error_of({"--max-image-bytes", "99999999999999999999999"});
  CAF_CHECK(contains(huge, "PARLEY_MAX_IMAGE_BYTES (--max-image-bytes)"));
  CAF_CHECK(contains(huge, "is larger than"));
  auto big_int = error_of({}, {{"PARLEY_SESSION_END_SECONDS", "3000000000"}});
  CAF_CHECK(contains(big_int, "PARLEY_SESSION_END_SECONDS "
                              "(--session-end-seconds)"));
}

CAF_TEST(unknown agent and log level name the setting) {
  CAF_CHECK_EQUAL(error_of({"--agent", "gpt"}),
                  "invalid value for PARLEY_AGENT (--agent): \"gpt\" is not "
                  "one of builtin, openai, anthropic");
  CAF_CHECK_EQUAL(error_of({}, {{"PARLEY_LOG_LEVEL", "verbose"}}),
                  "invalid value for PARLEY_LOG_LEVEL (--log-level): "
                  "\"verbose\" is not one of debug, info, warn, error");
}

CAF_TEST(a bad database url names the setting and hides the password) {
  auto e = error_of({"--database-url", "mysql://bob:hunter2@db/x"});
  CAF_CHECK(contains(e, "invalid value for PARLEY_DATABASE_URL "
                        "(--database-url): "));
  CAF_CHECK(!contains(e, "hunter2"));
  CAF_CHECK(contains(e, "mysql://bob:***@db/x"));
  CAF_CHECK(contains(error_of({}, {{"PARLEY_DATABASE_URL", "parley.db"}}),
                     "PARLEY_DATABASE_URL"));
  CAF_CHECK(
      contains(error_of({"--database-url=sqlite:"}), "PARLEY_DATABASE_URL"));
  CAF_CHECK(contains(error_of({"--database-url=postgresql://"}),
                     "PARLEY_DATABASE_URL"));
}

CAF_TEST(session end must come after the warning) {
  CAF_CHECK_EQUAL(error_of({"--session-end-seconds", "60"}),
                  "invalid value for PARLEY_SESSION_END_SECONDS "
                  "(--session-end-seconds): \"60\" is not greater than "
                  "PARLEY_IDLE_WARNING_SECONDS (120)");
  CAF_CHECK_EQUAL(
      error_of({"--idle-warning-seconds=2", "--session-end-seconds=4"}), "");
}

CAF_TEST(unknown flags and stray arguments are errors) {
  CAF_CHECK_EQUAL(error_of({"--nope"}), "unknown flag \"--nope\" (see --help)");
  CAF_CHECK_EQUAL(error_of({"--nope=1"}),
                  "unknown flag \"--nope\" (see --help)");
  CAF_CHECK_EQUAL(error_of({"--PORT", "1"}),
                  "unknown flag \"--PORT\" (see --help)");
  CAF_CHECK_EQUAL(error_of({"serve"}),
                  "unexpected argument \"serve\" (see --help)");
  CAF_CHECK_EQUAL(error_of({"-p", "1"}),
                  "unexpected argument \"-p\" (see --help)");
}

CAF_TEST(a flag without its value is an error) {
  CAF_CHECK_EQUAL(error_of({"--port"}),
                  "missing value for PARLEY_PORT (--port)");
  CAF_CHECK_EQUAL(error_of({"--host", "--port", "1"}),
                  "missing value for PARLEY_HOST (--host)");
}

CAF_TEST(errors are one line) {
  auto e = error_of({"--agent", "a\nb\"c"});
  CAF_CHECK(!e.empty());
  CAF_CHECK(!contains(e, "\n"));
  CAF_CHECK(contains(e, "\"a\\x0ab\\\"c\""));
}

CAF_TEST(the first error is reported) {
  CAF_CHECK(contains(error_of({"--port", "x", "--agent", "y"}), "PARLEY_PORT"));
}

// -- help ---------------------------------------------------------------------

CAF_TEST(help flags) {
  CAF_CHECK(load({"--help"}).help);
  CAF_CHECK(load({"-h"}).help);
  CAF_CHECK(!load({"--port", "1"}).help);
  // Asking for help with a typo elsewhere still shows the help.
  auto r = load({"--port", "abc", "--help"});
  CAF_CHECK(r.help);
  CAF_CHECK_EQUAL(r.error, "");
}

CAF_TEST(help lists every variable flag and default) {
  auto text = parley::help_text();
  for (auto& r : contract_rows()) {
    CAF_CHECK(contains(text, r.variable + "\n"));
    CAF_CHECK(contains(text, r.flag + ", "));
  }
  for (auto x : {"127.0.0.1", "8000", "sqlite:parley.db", "120", "240", "86400",
                 "builtin", "65536", "5242880", "provider's usual",
                 "the shipped sample folder", "--help"})
    CAF_CHECK(contains(text, x));
  std::size_t width = 0;
  std::size_t line = 0;
  for (char c : text) {
    line = c == '\n' ? 0 : line + 1;
    width = std::max(width, line);
  }
  CAF_CHECK_LESS_OR_EQUAL(width, 80u);
}

// -- logger -------------------------------------------------------------------

CAF_TEST(log lines carry an iso 8601 utc time and the level) {
  using namespace std::chrono;
  system_clock::time_point at{milliseconds{1714564800123}};
  CAF_CHECK_EQUAL(parley::format_log_line(at, parley::log_level::warn, "hi"),
                  "2024-05-01T12:00:00.123Z WARN hi");
  CAF_CHECK_EQUAL(
      parley::format_log_line(at, parley::log_level::info, "a\nb\tc"),
      "2024-05-01T12:00:00.123Z INFO a\\nb\\tc");
}

CAF_TEST(log level filters) {
  using parley::log_enabled;
  using parley::log_level;
  auto before = parley::current_log_level();
  parley::set_log_level("warn");
  CAF_CHECK(!log_enabled(log_level::debug));
  CAF_CHECK(!log_enabled(log_level::info));
  CAF_CHECK(log_enabled(log_level::warn));
  CAF_CHECK(log_enabled(log_level::error));
  parley::set_log_level("nonsense");
  CAF_CHECK(parley::current_log_level() == log_level::warn);
  parley::set_log_level("debug");
  CAF_CHECK(log_enabled(log_level::debug));
  parley::set_log_level(before);
}
