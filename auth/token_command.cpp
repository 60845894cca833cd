#include "auth/token_command.hpp"

#include <charconv>
#include <iostream>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "auth/jwt.hpp"

namespace parley::auth {

namespace {

constexpr std::int64_t default_ttl = 3600;
constexpr std::int64_t max_ttl = std::int64_t{365} * 24 * 3600;

struct options {
  std::string sub;
  std::optional<std::string> name;
  std::int64_t ttl = default_ttl;
  bool help = false;
};

bool starts_with(std::string_view x, std::string_view prefix) {
  return x.substr(0, prefix.size()) == prefix;
}

// Parses `args` into `out`; returns the error line, or "" on success.
std::string parse(const std::vector<std::string>& args, options& out) {
  bool have_sub = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      out.help = true;
      continue;
    }
    auto eq = arg.find('=');
    auto flag = arg.substr(0, eq);
    if (flag != "--sub" && flag != "--name" && flag != "--ttl")
      return "unexpected argument \"" + std::string{arg}
             + "\" (see parley token --help)";
    std::string value;
    if (eq != std::string_view::npos)
      value = std::string{arg.substr(eq + 1)};
    else if (i + 1 < args.size() && !starts_with(args[i + 1], "--"))
      value = args[++i];
    else
      return "missing value for " + std::string{flag};
    if (flag == "--sub") {
      if (value.empty())
        return "--sub is empty";
      out.sub = value;
      have_sub = true;
    } else if (flag == "--name") {
      out.name = value;
    } else {
      auto first = value.data();
      auto last = first + value.size();
      auto [end, ec] = std::from_chars(first, last, out.ttl);
      if (value.empty() || ec != std::errc{} || end != last || out.ttl < 1
          || out.ttl > max_ttl)
        return "--ttl \"" + value + "\" is not a number of seconds from 1 to "
               + std::to_string(max_ttl);
    }
  }
  if (!have_sub && !out.help)
    return "--sub is required (the user id the token stands for)";
  return "";
}

} // namespace

std::string token_help_text() {
  return "usage: parley token --sub ID [--name NAME] [--ttl SECONDS]\n"
         "\n"
         "Prints an HS256 token signed with PARLEY_JWT_SECRET, for trying\n"
         "out the signed-in endpoints. It carries sub, name (if given), iat\n"
         "and exp (now + ttl, default 3600), plus iss and aud when\n"
         "PARLEY_JWT_ISSUER and PARLEY_JWT_AUDIENCE are set.\n";
}

int run_token_command(const std::vector<std::string>& args,
                      const settings& cfg) {
  return run_token_command(args, cfg, std::cout, std::cerr,
                           std::chrono::system_clock::now());
}

int run_token_command(const std::vector<std::string>& args, const settings& cfg,
                      std::ostream& out, std::ostream& err,
                      std::chrono::system_clock::time_point now) {
  constexpr int usage_error = 2;
  options opts;
  if (auto why = parse(args, opts); !why.empty()) {
    err << "parley token: " << why << '\n';
    return usage_error;
  }
  if (opts.help) {
    out << token_help_text();
    return 0;
  }
  if (cfg.jwt_secret.empty()) {
    err << "parley token: PARLEY_JWT_SECRET is not set (the token would "
           "have no key to be signed with)\n";
    return usage_error;
  }
  using std::chrono::seconds;
  auto iat = std::chrono::duration_cast<seconds>(now.time_since_epoch());
  nlohmann::json claims{
      {"sub", opts.sub}, {"iat", iat.count()}, {"exp", iat.count() + opts.ttl}};
  if (opts.name)
    claims["name"] = *opts.name;
  if (!cfg.jwt_issuer.empty())
    claims["iss"] = cfg.jwt_issuer;
  if (!cfg.jwt_audience.empty())
    claims["aud"] = cfg.jwt_audience;
  try {
    out << mint_hs256(cfg.jwt_secret, claims) << '\n';
  } catch (const nlohmann::json::exception&) {
    err << "parley token: --sub and --name must be UTF-8 text\n";
    return usage_error;
  }
  return 0;
}

} // namespace parley::auth
