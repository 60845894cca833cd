#include "storage/store.hpp"

#include "storage/errors.hpp"
#include "storage/text_check.hpp"

namespace parley::storage {

void store::write_batch(const std::vector<write_op>& ops) {
  if (ops.empty())
    return;
  for (auto& op : ops) {
    if (op.what == write_op::kind::insert_message)
      check_text(op.message);
    else
      check_text(op.session);
    if (!storable_text(op.member))
      throw invalid_input("invalid member: the user id is not valid UTF-8 "
                          "text without NUL characters");
  }
  do_write_batch(ops);
}

void store::insert_session(const session_record& x) {
  write_batch({write_op::insert(x)});
}

void store::update_session(const session_record& x) {
  write_batch({write_op::update(x)});
}

void store::insert_message(const message_record& x) {
  write_batch({write_op::insert(x)});
}

bool store::committed(const std::vector<write_op>& ops) {
  auto plan = plan_batch(ops);
  if (!plan.new_sessions.empty())
    return find_session(plan.new_sessions.front()->id).has_value();
  if (plan.new_messages.empty())
    return false;
  auto& first = *plan.new_messages.front();
  for (auto& x : messages(first.session_id))
    if (x.id == first.id)
      return true;
  return false;
}

std::optional<session_record> store::find_session(const std::string& id) {
  if (!storable_text(id))
    return std::nullopt;
  return do_find_session(id);
}

std::vector<session_record>
store::conversations_of(const std::string& owner_id) {
  if (!storable_text(owner_id))
    return {};
  return do_conversations_of(owner_id);
}

std::vector<message_record> store::messages(const std::string& session_id) {
  if (!storable_text(session_id))
    return {};
  return do_messages(session_id);
}

} // namespace parley::storage
