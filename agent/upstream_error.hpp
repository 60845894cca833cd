#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "agent/llm_types.hpp"

// Turning upstream trouble into a `failure`: one clear text for people, a
// redacted detail for the log, and whether a retry may help.

namespace parley::agent {

// An HTTP error answer. `body` is the upstream's error document (JSON in
// both APIs); only the log sees what it says.
failure http_failure(long status, std::string_view body,
                     std::chrono::milliseconds retry_after);

// A failure of one of the other kinds, with its standard text.
failure make_failure(failure_kind kind, std::string detail = {});

// An `error` the provider sent inside the stream, from its type word
// ("overloaded_error", "rate_limit_error", ...) and message.
failure stream_error(std::string_view type, std::string_view message);

// The Retry-After value as a delay: delta-seconds or an HTTP date.
// Negative when absent or unreadable.
std::chrono::milliseconds
parse_retry_after(std::string_view value,
                  std::chrono::system_clock::time_point now);

// The message of an upstream error document ({"error": {"message": ..}}
// in both APIs), or the start of the raw text; at most `limit` bytes.
std::string error_message_of(std::string_view body, std::size_t limit = 300);

// `text` with every occurrence of `secret` replaced by "[redacted]".
std::string redact(std::string text, std::string_view secret);

// "750 ms", "30 s": a duration as people read it.
std::string describe_ms(long long ms);

} // namespace parley::agent
