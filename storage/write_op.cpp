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
    }
  }
  return plan;
}

} // namespace parley::storage
