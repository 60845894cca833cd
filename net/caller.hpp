#pragma once

// Who a signed-in request (REST, WebSocket upgrade or event stream) comes
// from, by its JWT: `Authorization: Bearer` or `?token=`. Shared by every
// signed-in dialect so that they refuse the same tokens with the same words.

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

// `authorization` is the header's value, `query` the raw query string.
caller identify(std::string_view authorization, std::string_view query,
                const auth::authenticator& auth);

} // namespace parley::net
