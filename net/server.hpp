#pragma once

// The network entry point. Deliberately free of Boost and CAF headers:
// main.cpp includes it.

namespace parley {
class engine;
struct settings;
} // namespace parley

namespace parley::net {

// Serves HTTP and WebSocket on cfg.host:cfg.port with one io thread per
// core until SIGINT or SIGTERM. Then it stops accepting, calls eng.stop(),
// closes every WebSocket with 1001 (going away), calls eng.finish() and
// returns 0 within about 5 s. Returns 1 after printing one line when it cannot
// listen. `eng` must be started; it must outlive the call.
int serve(engine& eng, const settings& cfg);

} // namespace parley::net
