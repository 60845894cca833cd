#pragma once

// `parley token --sub ID [--name NAME] [--ttl S]`: prints an HS256 token
// signed with PARLEY_JWT_SECRET, for trying the signed-in dialects out.

#include <chrono>
#include <iosfwd>
#include <string>
#include <vector>

#include "config/settings.hpp"

namespace parley::auth {

// Runs the command; `args` are the words after "token". Prints the token and
// a newline on stdout and returns 0; on a usage error (no secret, no --sub,
// bad --ttl, unknown flag) prints one line on stderr and returns 2.
int run_token_command(const std::vector<std::string>& args,
                      const settings& cfg);

// The same with explicit streams and clock, for tests.
int run_token_command(const std::vector<std::string>& args, const settings& cfg,
                      std::ostream& out, std::ostream& err,
                      std::chrono::system_clock::time_point now);

// The text of `parley token --help`.
std::string token_help_text();

} // namespace parley::auth
