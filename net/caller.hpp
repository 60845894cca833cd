#pragma once

// Who a signed-in request (REST, WebSocket upgrade or event stream) comes
// from, by its JWT: `Authorization: Bearer` or `?token=`. Shared by every
// signed-in dialect so that they refuse the same tokens with the same words.

#include <functional>
#include <string>
#include <string_view>

namespace parley::auth {
class authenticator;
} // namespace parley::auth

namespace parley::net {

struct caller {
  std::string sub;   // the token's subject, when verified
  std::string error; // else why the request is refused (a 401)
  bool ok() const {
    return error.empty();
  }
};

// The token of a request: `authorization` is the header's value, `query`
// the raw query string. Empty when there is none.
std::string request_token(std::string_view authorization,
                          std::string_view query);

// Verifies `token` without blocking. A key id the cached JWKS lacks waits
// for its refresh (rate limited), so the first request after an issuer
// rotated its keys succeeds. `done` may run on the JWKS worker thread.
void identify(std::string token, const auth::authenticator& auth,
              std::function<void(caller)> done);

} // namespace parley::net
