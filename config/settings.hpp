#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace parley {

// Every setting of CONTRACT.md: an environment variable PARLEY_X and a flag
// --x; a flag beats the variable, the variable beats the default.
struct settings {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8000;
  std::string database_url = "sqlite:parley.db";
  int idle_warning_seconds = 120;
  int session_end_seconds = 240;
  std::int64_t session_ttl_seconds = 86400;
  std::string agent = "builtin"; // builtin | openai | anthropic
  std::string llm_base_url;
  std::string llm_api_key; // never logged
  std::string llm_model;
  // Real providers (PARLEY_AGENT openai / anthropic) only:
  std::string llm_system_prompt;      // empty: agent::default_system_prompt
  std::string llm_system_prompt_file; // beats llm_system_prompt when set
  int llm_max_tokens = 0;             // 0: the provider's default
  int llm_history_chars = 24000;      // past messages sent, newest first
  int llm_connect_timeout_ms = 10000;
  int llm_first_token_timeout_ms = 60000;
  int llm_idle_timeout_ms = 30000; // silence mid-stream
  int llm_max_retries = 2;         // only before the first token
  int llm_retry_base_ms = 500;     // exponential backoff: base, 2x, 4x...
  int llm_retry_max_ms = 30000;    // longest wait, Retry-After included
  int llm_max_tool_steps = 4;      // tool rounds per reply
  int stream_delay_ms = 20;
  int builtin_words = 0;
  std::string knowledge_dir;
  std::string jwt_secret;
  std::string jwks_url;
  std::string jwt_issuer;
  std::string jwt_audience;
  std::size_t max_frame_bytes = 65536;
  std::size_t max_image_bytes = 5242880;
  std::string cors_origins = "*"; // "*", a comma-separated list, "none"
  std::string log_level = "info"; // debug | info | warn | error
};

// Result of reading the command line and environment.
struct settings_result {
  settings values;
  bool help = false; // --help was given: print help_text() and exit 0
  std::string error; // non-empty: one line naming the bad setting
};

// Reads settings from `args` (argv without the program name) and from the
// environment through `getenv_fn` (std::getenv in main, a map in tests).
settings_result
load_settings(const std::vector<std::string>& args,
              const std::function<const char*(const char*)>& getenv_fn);

// The --help text listing every setting, its variable, flag and default.
std::string help_text();

} // namespace parley
