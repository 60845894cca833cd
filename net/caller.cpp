#include "net/caller.hpp"

#include "auth/authenticator.hpp"
#include "net/query.hpp"

namespace parley::net {

caller identify(std::string_view authorization, std::string_view query,
                const auth::authenticator& auth) {
  caller who;
  auto token = auth::token_from(authorization,
                                query_param(query, "token").value_or(""));
  if (token.empty()) {
    who.error = "Authentication required";
    return who;
  }
  auto verified = auth.verify(token);
  if (!verified.ok())
    who.error = "Invalid token: " + verified.text();
  else
    who.sub = verified.value().sub;
  return who;
}

} // namespace parley::net
