#pragma once

// Where a signed-in conversation keeps its owner: in the visitor id slot,
// under a prefix no visitor id may carry. The visitor API clears ids that
// start with it, so knowing someone's `sub` (not a secret) never opens
// their conversations through the visitor chat.

#include <string>

namespace parley {

constexpr char owner_prefix = '\x01';

inline std::string owner_key(const std::string& sub) {
  std::string key{owner_prefix};
  key += "user:";
  key += sub;
  return key;
}

} // namespace parley
