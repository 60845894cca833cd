#include "storage/write_op.hpp"

#include <string_view>
#include <unordered_map>
#include <utility>

namespace parley::storage {

write_op write_op::insert(session_record x) {
  write_op op;
  op.what = kind::insert_session;
  op.session = std::move(x);
  return op;
}

write_op write_op::update(session_record x) {
  write_op op;
  op.what = kind::update_session;
  op.session = std::move(x);
  return op;
}

write_op write_op::insert(message_record x) {
  write_op op;
  op.what = kind::insert_message;
  op.message = std::move(x);
  return op;
}

write_op write_op::remove(std::string session_id) {
  write_op op;
  op.what = kind::delete_session;
  op.session.id = std::move(session_id);
  return op;
}

write_op write_op::add_member(std::string session_id, std::string user,
                              std::int64_t at) {
  write_op op;
  op.what = kind::add_member;
  op.session.id = std::move(session_id);
  op.member = std::move(user);
  op.at = at;
  return op;
}

write_op write_op::remove_member(std::string session_id, std::string user) {
  write_op op;
  op.what = kind::remove_member;
  op.session.id = std::move(session_id);
  op.member = std::move(user);
  return op;
}

batch_plan plan_batch(const std::vector<write_op>& ops) {
  batch_plan plan;
  // Session id -> its slot in session_updates, so a later update replaces
  // an earlier one in place.
  std::unordered_map<std::string_view, std::size_t> update_slot;
  for (auto& op : ops) {
    switch (op.what) {
      case write_op::kind::insert_session:
        plan.new_sessions.push_back(&op.session);
        break;
      case write_op::kind::insert_message:
        plan.new_messages.push_back(&op.message);
        break;
      case write_op::kind::update_session: {
        auto [i, added] = update_slot.emplace(op.session.id,
                                              plan.session_updates.size());
        if (added)
          plan.session_updates.push_back(&op.session);
        else
          plan.session_updates[i->second] = &op.session;
        break;
      }
      case write_op::kind::add_member:
      case write_op::kind::remove_member:
        plan.member_changes.push_back(&op);
        break;
      case write_op::kind::delete_session:
        plan.deleted_sessions.push_back(&op.session.id);
        break;
    }
  }
  return plan;
}

} // namespace parley::storage
