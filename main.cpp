// parley: wiring only. Settings -> engine (actors, storage) -> network.

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "actors/engine.hpp"
#include "auth/token_command.hpp"
#include "config/log.hpp"
#include "config/settings.hpp"
#include "net/server.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto getenv_fn = [](const char* name) {
    return static_cast<const char*>(std::getenv(name));
  };
  // `parley token ...`: settings come from the environment; the words after
  // "token" are the command's own flags.
  if (!args.empty() && args.front() == "token") {
    auto env = parley::load_settings({}, getenv_fn);
    if (!env.error.empty()) {
      std::cerr << "parley token: " << env.error << '\n';
      return 2;
    }
    return parley::auth::run_token_command({args.begin() + 1, args.end()},
                                           env.values);
  }
  auto loaded = parley::load_settings(args, getenv_fn);
  if (loaded.help) {
    std::cout << parley::help_text();
    return EXIT_SUCCESS;
  }
  if (!loaded.error.empty()) {
    std::cerr << "parley: " << loaded.error << '\n';
    return EXIT_FAILURE;
  }
  auto& cfg = loaded.values;
  parley::set_log_level(cfg.log_level);
  parley::engine eng{cfg};
  try {
    eng.start();
  } catch (const std::exception& e) {
    std::cerr << "parley: cannot start: " << e.what() << '\n';
    return EXIT_FAILURE;
  }
  return parley::net::serve(eng, cfg);
}
