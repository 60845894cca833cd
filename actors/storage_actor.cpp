#include "actors/storage_actor.hpp"

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "storage/store.hpp"

namespace parley {

namespace {

// Runs one blocking call; an exception becomes the request's error.
template <class F>
auto guarded(F f) -> caf::result<decltype(f())> {
  try {
    return f();
  } catch (const std::exception& e) {
    return caf::make_error(caf::sec::runtime_error, e.what());
  }
}

} // namespace

caf::behavior storage_actor(caf::event_based_actor*,
                            std::shared_ptr<storage::store> db) {
  return {
    [db](const save_session& x) {
      return guarded([&] {
        if (x.create)
          db->insert_session(x.session);
        else
          db->update_session(x.session);
        return true;
      });
    },
    [db](const save_message& x) {
      return guarded([&] {
        db->insert_message(x.message);
        return true;
      });
    },
    [db](const load_session& x) {
      return guarded([&] {
        session_lookup out;
        if (auto s = db->find_session(x.session_id)) {
          out.found = true;
          out.session = std::move(*s);
        }
        return out;
      });
    },
    [db](const load_messages& x) {
      return guarded([&] { return message_list{db->messages(x.session_id)}; });
    },
  };
}

} // namespace parley
