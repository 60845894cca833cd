#include "actors/storage_actor.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "config/log.hpp"
#include "storage/backoff.hpp"
#include "storage/health.hpp"
#include "storage/store.hpp"
#include "storage/text_check.hpp"

namespace parley {

storage_options::storage_options(std::shared_ptr<storage::store> x)
  : db(std::move(x)) {
  // nop
}

namespace {

// Self-messages; atom_constant needs no entry in the type-ID block.
using flush_atom = caf::atom_constant<caf::atom("st_flush")>;
using retry_atom = caf::atom_constant<caf::atom("st_retry")>;
using expire_atom = caf::atom_constant<caf::atom("st_expire")>;
using probe_atom = caf::atom_constant<caf::atom("st_probe")>;

using self_ptr = caf::event_based_actor*;
using time_point = caf::actor_clock::time_point;

// A write that is not committed yet; its requester waits for `rp`.
struct waiting_write {
  storage::write_op op;
  caf::typed_response_promise<bool> rp;
  time_point deadline; // when it gives up if the database is down
  // Non-zero: this write and the next in_doubt - 1 were one transaction
  // whose commit may or may not have happened.
  std::size_t in_doubt = 0;
};

struct storage_state {
  explicit storage_state(storage_options x)
    : opts(std::move(x)), retry(opts.min_backoff, opts.max_backoff) {
    // nop
  }

  storage_options opts;
  std::deque<waiting_write> queue;
  storage::backoff retry;
  bool down = false;
  std::string reason; // why the database is down
  // A self-message of each kind is on its way: send no second one.
  bool flush_sent = false;
  bool retry_sent = false;
  bool expire_sent = false;
};

caf::error storage_error(std::string text) {
  return caf::make_error(caf::sec::runtime_error, std::move(text));
}

void answer_front(storage_state& st, std::size_t n, bool stored,
                  const std::string& why = {}) {
  for (std::size_t i = 0; i < n; ++i) {
    if (stored)
      st.queue.front().rp.deliver(true);
    else
      st.queue.front().rp.deliver(storage_error(why));
    st.queue.pop_front();
  }
}

// -- outages ------------------------------------------------------------------

void schedule_expiry(self_ptr self, storage_state& st) {
  if (st.expire_sent || !st.down || st.queue.empty())
    return;
  st.expire_sent = true;
  auto delay = std::max(st.queue.front().deadline - self->clock().now(),
                        caf::timespan::zero());
  self->delayed_send(self, delay, expire_atom::value);
}

void schedule_retry(self_ptr self, storage_state& st) {
  if (st.retry_sent)
    return;
  st.retry_sent = true;
  auto delay = st.retry.next();
  if (delay == delay.zero())
    self->send(self, retry_atom::value);
  else
    self->delayed_send(self, delay, retry_atom::value);
}

void go_down(self_ptr self, storage_state& st, std::string reason) {
  if (!st.down || reason != st.reason)
    log_warn("storage: database unavailable: ", reason);
  st.down = true;
  st.reason = std::move(reason);
  if (st.opts.health)
    st.opts.health->set_degraded(st.reason, st.opts.lane);
  schedule_retry(self, st);
  schedule_expiry(self, st);
}

void come_up(storage_state& st) {
  log_info("storage: database reachable again");
  st.down = false;
  st.reason.clear();
  st.retry.reset();
  if (st.opts.health)
    st.opts.health->set_ok(st.opts.lane);
}

// -- writes -------------------------------------------------------------------

// Commits the first `n` queued writes in one transaction and answers them.
// A write the database refuses (say, a duplicate id) would fail the whole
// transaction, so then each goes alone and only the bad ones fail.
void commit_front(self_ptr self, storage_state& st, std::size_t n) {
  auto doubtful = st.queue.front().in_doubt;
  if (doubtful > 0)
    n = doubtful; // the same transaction again, first settled
  std::vector<storage::write_op> ops;
  ops.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    ops.push_back(std::move(st.queue[i].op));
  auto put_back = [&] {
    for (std::size_t i = 0; i < n; ++i)
      st.queue[i].op = std::move(ops[i]);
  };
  try {
    if (doubtful > 0) {
      // The connection broke during its COMMIT: ask the database.
      if (st.opts.db->committed(ops)) {
        answer_front(st, n, true);
        return;
      }
      st.queue.front().in_doubt = 0;
    }
    st.opts.db->write_batch(ops);
    answer_front(st, n, true);
  } catch (const storage::commit_unknown& e) {
    // Settled once the database is back: found committed, or retried.
    put_back();
    st.queue.front().in_doubt = n;
    go_down(self, st, e.what());
  } catch (const storage::unavailable& e) {
    // Nothing committed: the writes wait for the database.
    put_back();
    go_down(self, st, e.what());
  } catch (const std::exception& e) {
    put_back();
    if (n == 1) {
      answer_front(st, 1, false, e.what());
      return;
    }
    for (std::size_t i = 0; i < n && !st.down; ++i)
      commit_front(self, st, 1);
  }
}

void commit_queue(self_ptr self, storage_state& st) {
  while (!st.down && !st.queue.empty())
    commit_front(self, st, std::min(st.queue.size(), st.opts.max_batch));
}

caf::result<bool> enqueue(self_ptr self, storage_state& st,
                          storage::write_op op) {
  // Bad text fails this request alone, before it can fail a batch.
  try {
    if (op.what == storage::write_op::kind::insert_message)
      storage::check_text(op.message);
    else
      storage::check_text(op.session);
  } catch (const std::exception& e) {
    return storage_error(e.what());
  }
  if (st.down && st.queue.size() >= st.opts.max_waiting)
    return storage_error("storage: too many writes waiting for the "
                         "database; it is unavailable: "
                         + st.reason);
  auto rp = self->make_response_promise<bool>();
  st.queue.push_back(
    waiting_write{std::move(op), rp, self->clock().now() + st.opts.max_wait});
  if (st.down) {
    schedule_expiry(self, st);
  } else if (!st.flush_sent) {
    // The mailbox is FIFO: the flush comes after every write already in
    // it, so all of them go into one transaction.
    st.flush_sent = true;
    self->send(self, flush_atom::value);
  }
  return rp;
}

// -- reads --------------------------------------------------------------------

template <class T, class F>
caf::result<T> read(self_ptr self, storage_state& st, F f) {
  // Writes sent before this read are committed first, so it sees them.
  commit_queue(self, st);
  if (st.down)
    return storage_error("storage: the database is unavailable: "
                         + st.reason);
  try {
    return f();
  } catch (const storage::unavailable& e) {
    go_down(self, st, e.what());
    return storage_error(e.what());
  } catch (const std::exception& e) {
    return storage_error(e.what());
  }
}

// -- timers -------------------------------------------------------------------

void on_retry(self_ptr self, storage_state& st) {
  st.retry_sent = false;
  if (!st.down)
    return;
  try {
    st.opts.db->ping();
  } catch (const std::exception& e) {
    go_down(self, st, e.what());
    return;
  }
  come_up(st);
  commit_queue(self, st);
}

void on_expire(self_ptr self, storage_state& st) {
  st.expire_sent = false;
  if (!st.down)
    return;
  auto now = self->clock().now();
  while (!st.queue.empty() && st.queue.front().deadline <= now) {
    auto& front = st.queue.front();
    auto why = "storage: gave up waiting for the database: " + st.reason;
    if (front.in_doubt > 0) {
      why += " (the write may have been stored)";
      // The rest of its transaction stays in doubt.
      if (front.in_doubt > 1)
        st.queue[1].in_doubt = front.in_doubt - 1;
    }
    answer_front(st, 1, false, why);
  }
  schedule_expiry(self, st);
}

void on_probe(self_ptr self, storage_state& st) {
  self->delayed_send(self, st.opts.probe_interval, probe_atom::value);
  if (st.down)
    return; // retries are on their way
  try {
    st.opts.db->ping();
  } catch (const std::exception& e) {
    go_down(self, st, e.what());
  }
}

// -- lanes --------------------------------------------------------------------

caf::behavior storage_router(caf::event_based_actor* self,
                             std::vector<caf::actor> lanes) {
  auto lane_of = [lanes](const std::string& session_id) {
    return lanes[std::hash<std::string>{}(session_id) % lanes.size()];
  };
  self->set_exit_handler([self, lanes](caf::exit_msg& msg) {
    for (auto& lane : lanes)
      self->send_exit(lane, msg.reason);
    self->quit(msg.reason);
  });
  // delegate: the lane answers the requester directly.
  return {
    [self, lane_of](save_session& x) {
      auto lane = lane_of(x.session.id);
      return self->delegate(lane, std::move(x));
    },
    [self, lane_of](save_message& x) {
      auto lane = lane_of(x.message.session_id);
      return self->delegate(lane, std::move(x));
    },
    [self, lane_of](load_session& x) {
      auto lane = lane_of(x.session_id);
      return self->delegate(lane, std::move(x));
    },
    [self, lane_of](drop_session& x) {
      auto lane = lane_of(x.session_id);
      return self->delegate(lane, std::move(x));
    },
    [self, lane_of](save_member& x) {
      auto lane = lane_of(x.session_id);
      return self->delegate(lane, std::move(x));
    },
    [self, lane_of](load_messages& x) {
      auto lane = lane_of(x.session_id);
      return self->delegate(lane, std::move(x));
    },
    // Any lane: the conversations were committed before anyone was told
    // they exist.
    [self, lane_of](load_conversations& x) {
      auto lane = lane_of(x.owner_id);
      return self->delegate(lane, std::move(x));
    },
  };
}

caf::actor spawn_lane(caf::actor_system& sys, storage_options opts) {
  if (opts.detached)
    return sys.spawn<caf::detached>(storage_actor, std::move(opts));
  return sys.spawn(storage_actor, std::move(opts));
}

} // namespace

caf::actor spawn_storage(caf::actor_system& sys, storage_options opts) {
  auto n = opts.lanes > 0 ? opts.lanes : opts.db->write_parallelism();
  if (n <= 1 || !opts.connect)
    return spawn_lane(sys, std::move(opts));
  std::vector<caf::actor> lanes;
  for (std::size_t i = 0; i < n; ++i) {
    auto lane = opts;
    lane.lane = i;
    if (i > 0)
      lane.db = opts.connect();
    lanes.push_back(spawn_lane(sys, std::move(lane)));
  }
  return sys.spawn(storage_router, std::move(lanes));
}

caf::behavior storage_actor(caf::event_based_actor* self,
                            storage_options opts) {
  auto st = std::make_shared<storage_state>(std::move(opts));
  if (st->opts.probe_interval > st->opts.probe_interval.zero())
    self->delayed_send(self, st->opts.probe_interval, probe_atom::value);
  // Commit what is queued before stopping; what cannot be committed fails
  // (CAF answers requests still in the mailbox with an error).
  self->set_exit_handler([self, st](caf::exit_msg& msg) {
    commit_queue(self, *st);
    answer_front(*st, st->queue.size(), false,
                 "storage: shutting down before the database came back");
    self->quit(msg.reason);
  });
  return {
    [self, st](save_session& x) {
      return enqueue(self, *st,
                     x.create ? storage::write_op::insert(std::move(x.session))
                              : storage::write_op::update(
                                std::move(x.session)));
    },
    [self, st](save_message& x) {
      return enqueue(self, *st, storage::write_op::insert(std::move(x.message)));
    },
    [self, st](drop_session& x) {
      return enqueue(self, *st,
                     storage::write_op::remove(std::move(x.session_id)));
    },
    [self, st](save_member& x) {
      return enqueue(self, *st,
                     x.add ? storage::write_op::add_member(
                               std::move(x.session_id), std::move(x.user_id),
                               x.at)
                           : storage::write_op::remove_member(
                               std::move(x.session_id),
                               std::move(x.user_id)));
    },
    [self, st](const load_session& x) {
      return read<session_lookup>(self, *st, [&] {
        session_lookup out;
        if (auto s = st->opts.db->find_session(x.session_id)) {
          out.found = true;
          out.session = std::move(*s);
        }
        return out;
      });
    },
    [self, st](const load_messages& x) {
      return read<message_list>(self, *st, [&] {
        return message_list{st->opts.db->messages(x.session_id)};
      });
    },
    [self, st](const load_conversations& x) {
      return read<session_list>(self, *st, [&] {
        return session_list{st->opts.db->conversations_of(x.owner_id)};
      });
    },
    [self, st](flush_atom) {
      st->flush_sent = false;
      commit_queue(self, *st);
    },
    [self, st](retry_atom) { on_retry(self, *st); },
    [self, st](expire_atom) { on_expire(self, *st); },
    [self, st](probe_atom) { on_probe(self, *st); },
  };
}

} // namespace parley
