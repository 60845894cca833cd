#include "net/caller.hpp"

#include "auth/authenticator.hpp"
#include "net/query.hpp"

namespace parley::net {

std::string request_token(std::string_view authorization,
                          std::string_view query) {
  return auth::token_from(authorization,
                          query_param(query, "token").value_or(""));
}

void identify(std::string token, const auth::authenticator& auth,
              std::function<void(caller)> done) {
  if (token.empty())
    return done(caller{{}, "Authentication required"});
  auth.verify_async(std::move(token), [done](auth::verify_result r) {
    if (!r.ok())
      return done(caller{{}, "Invalid token: " + r.text()});
    done(caller{r.value().sub, {}});
  });
}

} // namespace parley::net
