#pragma once

#include <cstdint>
#include <vector>

#include "storage/records.hpp"

namespace parley::storage {

// One write of a batch (see store::write_batch).
struct write_op {
  enum class kind : std::uint8_t { insert_session, update_session,
                                   insert_message, delete_session,
                                   add_member, remove_member };

  kind what = kind::insert_message;
  // insert_session and update_session; the others use only session.id
  session_record session;
  message_record message; // insert_message
  std::string member;     // add_member, remove_member: the user id
  std::int64_t at = 0;    // add_member: when (epoch ms)

  static write_op insert(session_record x);
  static write_op update(session_record x);
  static write_op insert(message_record x);
  // Deletes the session with its messages, their source links and its
  // members.
  static write_op remove(std::string session_id);
  // Adding a member twice, or removing one who is not, changes nothing.
  static write_op add_member(std::string session_id, std::string user,
                             std::int64_t at);
  static write_op remove_member(std::string session_id, std::string user);
};

// A batch in the order both backends apply it: new sessions first (so that
// messages of a session created in the same batch find it), then messages in
// batch order, then one update per session, its last in the batch (an
// earlier update is overwritten within the same transaction anyway), then
// member changes in batch order, then deletes (a session deleted by the
// batch loses whatever the batch wrote for it).
struct batch_plan {
  std::vector<const session_record*> new_sessions;
  std::vector<const message_record*> new_messages;
  std::vector<const session_record*> session_updates;
  std::vector<const write_op*> member_changes;
  std::vector<const std::string*> deleted_sessions;
};

// Pointers into `ops`, which must outlive the plan.
batch_plan plan_batch(const std::vector<write_op>& ops);

} // namespace parley::storage
