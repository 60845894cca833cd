#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

namespace parley {

// The timeout of requests to the storage service: none. The service answers
// every request itself (a write it cannot store fails after max_wait; a
// PostgreSQL call on a dead connection fails by tcp_user_timeout), and a CAF
// request timeout costs a clock-thread insert per request plus a stale
// message to the requester when it fires, several percent of the server's
// CPU when a thousand visitors write at once.
constexpr auto storage_wait = caf::infinite;

namespace storage {
class health;
class store;
} // namespace storage

// How the storage actor batches, waits and retries.
struct storage_options {
  // Implicit, so that spawn(storage_actor, db) takes the defaults.
  storage_options(std::shared_ptr<storage::store> db); // NOLINT

  std::shared_ptr<storage::store> db;

  // Opens another connection to the same database, for more lanes (see
  // spawn_storage); without it there is one lane, on `db`.
  std::function<std::shared_ptr<storage::store>()> connect;

  // Lanes writing in parallel; 0: as many as db->write_parallelism().
  std::size_t lanes = 0;

  // Lanes run on threads of their own (tests turn it off, for
  // determinism).
  bool detached = true;

  // Where /healthz reads whether the database answers.
  std::shared_ptr<storage::health> health;

  // Which lane this is, for `health`.
  std::size_t lane = 0;

  // Writes per transaction.
  std::size_t max_batch = 1000;

  // While the database is down, writes wait for it, at most this many and
  // this long each; beyond that they fail at once or when their time is up.
  std::size_t max_waiting = 10000;
  std::chrono::milliseconds max_wait{5000};

  // Reconnect attempts: at once, then after min_backoff, doubling up to
  // max_backoff.
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{5000};

  // How often an idle actor checks that the database still answers, so
  // that /healthz notices an outage without traffic; zero turns it off
  // (tests: the test scheduler would fire the timer forever).
  std::chrono::milliseconds probe_interval{0};
};

// One lane: owns a connection. Speaks save_session, save_message,
// drop_session, save_member (reply: bool, once
// the write is committed), load_session (reply: session_lookup) and
// load_messages (reply: message_list); a failing call answers with an error
// instead.
//
// Group commit: writes queue up while the actor works through its mailbox,
// then go to the database in one transaction. A read first commits the
// queued writes, so it sees every write sent before it.
//
// Spawned detached, blocking I/O never runs on CAF's scheduler threads;
// tests spawn it scheduled, for determinism.
caf::behavior storage_actor(caf::event_based_actor* self, storage_options opts);

// Spawns the storage service and returns the actor to send requests to:
// `lanes` storage actors, each on a connection of its own, behind a router
// (on the scheduler: it only forwards) that sends every request to the lane
// of its session. A session's writes and reads thus stay in order, and
// sessions on different lanes commit in parallel. With one lane, that lane
// itself. Stopping the returned actor stops the lanes, after they commit
// what they queued.
caf::actor spawn_storage(caf::actor_system& sys, storage_options opts);

} // namespace parley
