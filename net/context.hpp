#pragma once

// What every connection of one server shares: the engine, the settings, the
// shutdown flag and the registries shutdown walks. Owned by serve(); it
// outlives the io_context and so every session.

#include <atomic>

#include "net/registry.hpp"

namespace parley {
class engine;
struct settings;
} // namespace parley

namespace parley::auth {
class authenticator;
} // namespace parley::auth

namespace parley::net {

class http_session;
class ws_session;

struct context {
  context(engine& e, const settings& c, const auth::authenticator& a)
    : eng(e), cfg(c), auth(a) {
    // nop
  }

  engine& eng;
  const settings& cfg;
  const auth::authenticator& auth; // who signed-in requests come from
  // Set once shutdown begins: no new work reaches the engine.
  std::atomic<bool> stopping{false};
  registry<http_session> http_sessions;
  registry<ws_session> ws_sessions;
};

} // namespace parley::net
