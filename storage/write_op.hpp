#pragma once

#include <cstdint>
#include <vector>

#include "storage/records.hpp"

namespace parley::storage {

// One write of a batch (see store::write_batch).
struct write_op {
  enum class kind : std::uint8_t { insert_session, update_session,
                                   insert_message };

  kind what = kind::insert_message;
  session_record session; // insert_session and update_session
  message_record message; // insert_message

  static write_op insert(session_record x);
  static write_op update(session_record x);
  static write_op insert(message_record x);
};

// A batch in the order both backends apply it: new sessions first (so that
// messages of a session created in the same batch find it), then messages in
// batch order, then one update per session, its last in the batch (an
// earlier update is overwritten within the same transaction anyway).
struct batch_plan {
  std::vector<const session_record*> new_sessions;
  std::vector<const message_record*> new_messages;
  std::vector<const session_record*> session_updates;
};

// Pointers into `ops`, which must outlive the plan.
batch_plan plan_batch(const std::vector<write_op>& ops);

} // namespace parley::storage
