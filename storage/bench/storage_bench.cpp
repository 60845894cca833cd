// Messages persisted per second through parley's storage service (lanes of
// detached storage actors with group commit, as the engine runs them), with 1, 100 and 1000 concurrent
// writers, each waiting for the acknowledgement of one save_message before
// sending the next; and, for comparison, the same inserts done one
// transaction each. Not a test: it prints a table.
//
//   parley_storage_bench [--scale X] [--only sqlite|postgresql]
//                        [--writers N] [--lanes N]
//
// PostgreSQL: PARLEY_BENCH_DATABASE_URL, else PARLEY_TEST_DATABASE_URL (as
// set by scripts/pg-test-env.sh -- parley_storage_bench); skipped if
// neither is set. SQLite: a file in a temp dir. --scale multiplies the
// message counts (default 1); --writers N runs only the group-commit row
// with N writers (100,000 messages times the scale); --lanes N sets the
// storage lanes (connections), default: what the backend finds useful.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "actors/spawn_function.hpp"
#include "actors/storage_actor.hpp"
#include "actors/uuid.hpp"
#include "storage/store.hpp"

using namespace parley;
using clock_type = std::chrono::steady_clock;

namespace {

struct bench_config : caf::actor_system_config {
  bench_config() {
    add_message_types<caf::id_block::parley>();
    set("logger.file-verbosity", caf::atom("quiet"));
    set("logger.console-verbosity", caf::atom("quiet"));
  }
};

// Counts the transactions the actor makes.
class counting_store : public storage::store {
public:
  explicit counting_store(std::shared_ptr<storage::store> inner)
    : inner_(std::move(inner)) {
    // nop
  }

  std::size_t batches = 0;
  double busy_seconds = 0; // inside write_batch

  void migrate() override {
    inner_->migrate();
  }

  std::int64_t schema_version() override {
    return inner_->schema_version();
  }

  void ping() override {
    inner_->ping();
  }

  std::size_t write_parallelism() const override {
    return inner_->write_parallelism();
  }

protected:
  void do_write_batch(const std::vector<storage::write_op>& ops) override {
    auto start = clock_type::now();
    inner_->write_batch(ops);
    busy_seconds
      += std::chrono::duration<double>(clock_type::now() - start).count();
    ++batches;
  }

  std::optional<storage::session_record>
  do_find_session(const std::string& id) override {
    return inner_->find_session(id);
  }

  std::vector<storage::message_record>
  do_messages(const std::string& session_id) override {
    return inner_->messages(session_id);
  }

  std::vector<storage::session_record>
  do_conversations_of(const std::string& owner_id) override {
    return inner_->conversations_of(owner_id);
  }

private:
  std::shared_ptr<storage::store> inner_;
};

// About the size of a chat line.
const std::string text = "Hello there, how much does the premium plan cost "
                         "per month, and is there a discount for a year?";

// Ids as the engine makes them (time-ordered), so the id index grows as it
// does in a server.
storage::message_record make_message(const std::string& sid, int i) {
  return storage::text_message(make_ordered_uuid(),
                                 sid,
                                 "user",
                                 "message",
                                 text,
                                 "complete",
                                 1700000000000 + i);
}

storage::session_record make_session(const std::string& id) {
  storage::session_record x;
  x.id = id;
  x.visitor_id = id + "-visitor";
  x.status = "active";
  x.created_at = 1700000000000;
  x.expires_at = 1700086400000;
  x.last_activity_at = x.created_at;
  return x;
}

// Stores messages i..n-1 one request at a time, then reports to `done`.
void write_from(caf::event_based_actor* self, caf::actor storage,
                caf::actor done, std::string sid, int i, int n, int failed) {
  if (i == n) {
    self->send(done, failed);
    self->quit();
    return;
  }
  self
    ->request(storage, caf::timespan{std::chrono::seconds(120)},
              save_message{make_message(sid, i)})
    .then(
      [=](bool) { write_from(self, storage, done, sid, i + 1, n, failed); },
      [=](caf::error&) {
        write_from(self, storage, done, sid, i + 1, n, failed + 1);
      });
}

struct result {
  std::string mode;
  std::size_t lanes = 1;
  int writers = 0;
  int messages = 0;
  double seconds = 0;
  std::size_t transactions = 0;
  int failed = 0;
  double busy = 0; // share of the time a lane spent committing
};

std::string run_tag() {
  std::random_device rd;
  return "b" + std::to_string(rd() % 1000000);
}

// `writers` actors store `per_writer` messages each through the storage
// service with `lanes` connections; `max_batch` 1 turns group commit off.
result through_actor(caf::actor_system& sys, const std::string& url,
                     int writers, int per_writer, std::size_t max_batch,
                     std::size_t lanes) {
  // Every lane's connection, counted.
  auto counters = std::make_shared<std::vector<std::shared_ptr<counting_store>>>();
  auto connect = [url, counters] {
    auto x = std::make_shared<counting_store>(
      std::shared_ptr<storage::store>{storage::open_store(url)});
    counters->push_back(x);
    return x;
  };
  storage_options opts{connect()};
  opts.connect = connect;
  opts.lanes = lanes;
  opts.max_batch = max_batch;
  auto storage = spawn_storage(sys, opts);
  auto tag = run_tag() + "-w" + std::to_string(writers) + "-";
  std::vector<storage::write_op> sessions;
  for (int w = 0; w < writers; ++w)
    sessions.push_back(
      storage::write_op::insert(make_session(tag + std::to_string(w))));
  opts.db->write_batch(sessions);
  for (auto& x : *counters) {
    x->batches = 0;
    x->busy_seconds = 0;
  }
  caf::scoped_actor self{sys};
  auto done = caf::actor{self};
  auto start = clock_type::now();
  for (int w = 0; w < writers; ++w) {
    auto sid = tag + std::to_string(w);
    spawn_function(sys, [=](caf::event_based_actor* client) {
      write_from(client, storage, done, sid, 0, per_writer, 0);
    });
  }
  result r;
  for (int w = 0; w < writers; ++w)
    self->receive([&](int failed) { r.failed += failed; });
  r.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  self->send_exit(storage, caf::exit_reason::user_shutdown);
  self->wait_for(storage);
  r.mode = max_batch == 1 ? "actor, 1 tx per message" : "actor, group commit";
  r.lanes = counters->size();
  r.writers = writers;
  r.messages = writers * per_writer;
  for (auto& x : *counters) {
    r.transactions += x->batches;
    r.busy += x->busy_seconds / r.seconds / counters->size();
  }
  return r;
}

// The plain loop: one insert_message call (one transaction) per message.
result one_tx_each(std::shared_ptr<storage::store> db, int messages) {
  auto sid = run_tag() + "-direct";
  db->insert_session(make_session(sid));
  auto start = clock_type::now();
  for (int i = 0; i < messages; ++i)
    db->insert_message(make_message(sid, i));
  result r;
  r.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  r.mode = "store, 1 tx per message";
  r.busy = 1;
  r.writers = 1;
  r.messages = messages;
  r.transactions = static_cast<std::size_t>(messages);
  return r;
}

// The database's own limit: write_batch with `size` messages at a time,
// spread over sessions of 100 messages.
result batches_of(std::shared_ptr<storage::store> db, int messages, int size) {
  auto tag = run_tag() + "-batched-";
  auto sessions = std::max(1, messages / 100);
  std::vector<storage::write_op> ops;
  for (int i = 0; i < sessions; ++i)
    ops.push_back(
      storage::write_op::insert(make_session(tag + std::to_string(i))));
  db->write_batch(ops);
  ops.clear();
  auto start = clock_type::now();
  for (int i = 0; i < messages; ++i) {
    auto sid = tag + std::to_string(i % sessions);
    ops.push_back(storage::write_op::insert(make_message(sid, i)));
    if (ops.size() == static_cast<std::size_t>(size) || i + 1 == messages) {
      db->write_batch(ops);
      ops.clear();
    }
  }
  result r;
  r.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  r.mode = "store, write_batch";
  r.busy = 1;
  r.writers = 1;
  r.messages = messages;
  r.transactions = static_cast<std::size_t>((messages + size - 1) / size);
  return r;
}

void print(const std::string& backend, const result& r) {
  std::printf("%-11s %-25s %5zu %7d %9d %8.2f %11.0f %8.1f %6.0f%% %6d\n",
              backend.c_str(), r.mode.c_str(), r.lanes, r.writers, r.messages,
              r.seconds, r.messages / r.seconds,
              r.transactions ? double(r.messages) / r.transactions : 0.0,
              r.busy * 100, r.failed);
  std::fflush(stdout);
}

void bench(caf::actor_system& sys, const std::string& backend,
           const std::string& url, double scale, int only_writers,
           std::size_t lanes) {
  auto db = std::shared_ptr<storage::store>{storage::open_store(url)};
  db->migrate();
  auto n = [scale](int x) { return std::max(1, int(x * scale)); };
  if (only_writers > 0) {
    print(backend, through_actor(sys, url, only_writers,
                                 n(100000) / only_writers, 1000, lanes));
    return;
  }
  print(backend, one_tx_each(db, n(2000)));
  print(backend, batches_of(db, n(100000), 1000));
  print(backend, through_actor(sys, url, 1, n(2000), 1000, lanes));
  print(backend, through_actor(sys, url, 100, n(200), 1000, lanes));
  print(backend, through_actor(sys, url, 1000, n(100), 1000, lanes));
  print(backend, through_actor(sys, url, 1000, n(5), 1, lanes));
}

} // namespace

int main(int argc, char** argv) {
  double scale = 1;
  int writers = 0;
  std::size_t lanes = 0;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--scale" && i + 1 < argc) {
      scale = std::atof(argv[++i]);
    } else if (arg == "--lanes" && i + 1 < argc) {
      lanes = static_cast<std::size_t>(std::atoi(argv[++i]));
    } else if (arg == "--writers" && i + 1 < argc) {
      writers = std::atoi(argv[++i]);
    } else if (arg == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: %s [--scale X] [--only sqlite|postgresql] "
                   "[--writers N] [--lanes N]\n",
                   argv[0]);
      return 2;
    }
  }
  std::string pg_url;
  for (auto var : {"PARLEY_BENCH_DATABASE_URL", "PARLEY_TEST_DATABASE_URL"})
    if (auto x = std::getenv(var); x && *x && pg_url.empty())
      pg_url = x;
  bench_config cfg;
  caf::actor_system sys{cfg};
  std::printf("%-11s %-25s %5s %7s %9s %8s %11s %8s %7s %6s\n", "backend",
              "mode", "lanes", "writers", "messages", "seconds", "msgs/s",
              "msgs/tx", "in tx", "failed");
  try {
    if (only.empty() || only == "sqlite") {
      auto dir = std::filesystem::temp_directory_path()
                 / ("parley-storage-bench-" + run_tag());
      std::filesystem::create_directories(dir);
      bench(sys, "sqlite", "sqlite:" + (dir / "bench.db").string(), scale,
            writers, lanes);
      std::filesystem::remove_all(dir);
    }
    if (only.empty() || only == "postgresql") {
      if (pg_url.empty())
        std::printf("postgresql  skipped: set PARLEY_BENCH_DATABASE_URL or "
                    "run under scripts/pg-test-env.sh\n");
      else
        bench(sys, "postgresql", pg_url, scale, writers, lanes);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "storage bench failed: %s\n", e.what());
    return 1;
  }
  return 0;
}
