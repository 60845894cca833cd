#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>

#include "actors/event.hpp"

namespace parley {

// Where a connection's frames go: its sink and its dialect's encoder.
struct connection_ref {
  std::weak_ptr<sink> out;
  encoder enc = nullptr;
};

// The local connections by id. Messages between actors carry only the id (a
// plain number); a conversation resolves it once, when the connection
// subscribes, so the per-chunk path never looks anything up here.
class connection_table {
public:
  std::uint64_t add(std::weak_ptr<sink> out, encoder enc);

  std::optional<connection_ref> find(std::uint64_t conn) const;

  // Notes that `conn` watches `conversation` (session `session_id`); false
  // if `conn` is gone.
  bool watch(std::uint64_t conn, const caf::actor& conversation,
             std::string_view session_id);

  // The conversation `conn` watches for `session_id`, if any: the
  // connection's commands for it go there without the registry. A
  // conversation is not let go while a connection watches it (it is a
  // subscriber until `leave`), and one that ends by itself is forgotten
  // (forget), so the handle is never stale. Null if none; the conversation
  // checks the session id (only a hash matches here).
  caf::actor watched(std::uint64_t conn, std::string_view session_id) const;

  // Forgets that any connection watches `conversation`, which ended while
  // watched (deleted, or failed): their next commands go to the registry.
  // Scans every connection; for rare ends only.
  void forget(const caf::actor_addr& conversation);

  // Forgets `conn`; returns the conversations it watched that still live.
  std::vector<caf::actor> remove(std::uint64_t conn);

  // Encodes `ev` in the connection's dialect and sends it to that connection.
  void send(std::uint64_t conn, const event& ev) const;

private:
  struct watch_entry {
    // Weak: a closed socket's entry must not keep a conversation (and, through
    // it, the storage actor's thread) alive at shutdown.
    caf::actor_addr conversation;
    std::size_t session_hash; // a hash, not the id: 8 bytes per socket
  };
  struct entry {
    connection_ref ref;
    std::vector<watch_entry> watching;
  };
  mutable std::mutex mtx_;
  std::unordered_map<std::uint64_t, entry> entries_;
  std::uint64_t next_id_ = 1;
};

// An `error` event with the seed's shape.
event error_event(std::string session_id, std::string text,
                  std::string type = "processing_error");

} // namespace parley
