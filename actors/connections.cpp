#include "actors/connections.hpp"

#include <algorithm>
#include <functional>

#include <caf/actor_cast.hpp>

namespace parley {

std::uint64_t connection_table::add(std::weak_ptr<sink> out, encoder enc) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto id = next_id_++;
  entries_.emplace(id, entry{connection_ref{std::move(out), enc}, {}});
  return id;
}

std::optional<connection_ref>
connection_table::find(std::uint64_t conn) const {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = entries_.find(conn); i != entries_.end())
    return i->second.ref;
  return std::nullopt;
}

bool connection_table::watch(std::uint64_t conn, const caf::actor& conversation,
                             std::string_view session_id) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = entries_.find(conn);
  if (i == entries_.end())
    return false;
  auto& xs = i->second.watching;
  auto addr = conversation.address();
  if (std::none_of(xs.begin(), xs.end(), [&](const watch_entry& x) {
        return x.conversation == addr;
      }))
    xs.push_back({std::move(addr), std::hash<std::string_view>{}(session_id)});
  return true;
}

caf::actor connection_table::watched(std::uint64_t conn,
                                     std::string_view session_id) const {
  auto hash = std::hash<std::string_view>{}(session_id);
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = entries_.find(conn);
  if (i == entries_.end())
    return nullptr;
  for (auto& x : i->second.watching)
    if (x.session_hash == hash)
      return caf::actor_cast<caf::actor>(x.conversation);
  return nullptr;
}

void connection_table::forget(const caf::actor_addr& conversation) {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& kvp : entries_) {
    auto& xs = kvp.second.watching;
    xs.erase(std::remove_if(xs.begin(), xs.end(),
                            [&](const watch_entry& x) {
                              return x.conversation == conversation;
                            }),
             xs.end());
  }
}

std::vector<caf::actor> connection_table::remove(std::uint64_t conn) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = entries_.find(conn);
  if (i == entries_.end())
    return {};
  std::vector<caf::actor> result;
  for (auto& x : i->second.watching)
    if (auto conv = caf::actor_cast<caf::actor>(x.conversation))
      result.push_back(std::move(conv));
  entries_.erase(i);
  return result;
}

void connection_table::send(std::uint64_t conn, const event& ev) const {
  auto ref = find(conn);
  if (!ref)
    return;
  auto out = ref->out.lock();
  if (!out)
    return;
  if (auto frame = ref->enc(ev))
    out->send(std::move(frame));
}

event error_event(std::string session_id, std::string text,
                  std::string type) {
  event ev;
  ev.kind = event_kind::error;
  ev.session_id = std::move(session_id);
  ev.text = std::move(text);
  ev.reason = std::move(type);
  return ev;
}

} // namespace parley
