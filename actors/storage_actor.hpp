#pragma once

#include <memory>

#include <caf/fwd.hpp>

namespace parley {

namespace storage {
class store;
} // namespace storage

// Owns the database. Speaks save_session, save_message (reply: bool),
// load_session (reply: session_lookup) and load_messages (reply:
// message_list); a failing call answers with an error instead.
// The engine spawns it detached, so blocking I/O never runs on CAF's
// scheduler threads; tests spawn it scheduled, for determinism.
caf::behavior storage_actor(caf::event_based_actor* self,
                            std::shared_ptr<storage::store> db);

} // namespace parley
