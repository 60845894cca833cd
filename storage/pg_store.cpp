#include "storage/pg_store.hpp"

#include <algorithm>
#include <thread>

#include <pqxx/tablewriter>

#include "storage/migrations.hpp"
#include "storage/pg_array.hpp"
#include "storage/pg_connection.hpp"
#include "storage/pg_copy.hpp"
#include "storage/source_links.hpp"

namespace parley::storage {

namespace {

// Any fixed key works as long as every parley process uses the same one:
// "parley" in ASCII, then the lock's purpose (1: migrations).
constexpr const char* lock_migrations
    = "SELECT pg_advisory_xact_lock(x'7061726c65790001'::bigint)";

const std::string session_fields
  = "id, visitor_id, status, created_at, expires_at, last_activity_at, "
    "warning_sent, conversation_data, kind, owner_id, title";
const std::string session_columns = "SELECT " + session_fields
                                    + " FROM sessions ";

pg_connection::statement_list statements() {
  return {
      {"insert_sessions",
       "INSERT INTO sessions (id, visitor_id, status, created_at, expires_at, "
       "last_activity_at, warning_sent, conversation_data, kind, owner_id, "
       "title) "
       "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], "
       "$5::bigint[], $6::bigint[], $7::boolean[], $8::text[], $9::text[], "
       "$10::text[], $11::text[])"},
      // plan_batch() leaves one update per session: a session matched twice
      // in one UPDATE would get an arbitrary one of them.
      {"update_sessions",
       "UPDATE sessions AS s SET status = u.status, "
       "last_activity_at = u.last_activity_at, warning_sent = u.warning_sent, "
       "conversation_data = u.conversation_data, title = u.title "
       "FROM unnest($1::text[], $2::text[], $3::bigint[], $4::boolean[], "
       "$5::text[], $6::text[]) AS u(id, status, last_activity_at, "
       "warning_sent, conversation_data, title) WHERE s.id = u.id"},
      // A source row never changes: the first writer's row stands.
      {"insert_sources",
       "INSERT INTO knowledge_sources (id, title, content) "
       "SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) "
       "ON CONFLICT (id) DO NOTHING"},
      {"insert_source_links",
       "INSERT INTO message_knowledge (message_id, knowledge_id, position) "
       "SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) "
       "ON CONFLICT (message_id, knowledge_id) DO NOTHING"},
      {"source_links",
       "SELECT mk.message_id, k.id, k.title, k.content "
       "FROM messages m "
       "JOIN message_knowledge mk ON mk.message_id = m.id "
       "JOIN knowledge_sources k ON k.id = mk.knowledge_id "
       "WHERE m.session_id = $1 ORDER BY mk.message_id, mk.position"},
      // Then the newest user message's time (NULL for none): the index
      // read backwards stops at it.
      {"find_session",
       "SELECT " + session_fields
         + ", (SELECT created_at FROM messages WHERE session_id = $1 "
           "AND role = 'user' ORDER BY created_at DESC LIMIT 1) "
           "FROM sessions WHERE id = $1"},
      {"members",
       "SELECT user_id FROM conversation_members WHERE session_id = $1 "
       "ORDER BY added_at, user_id"},
      {"conversations_of",
       session_columns
         + "WHERE kind = 'conversation' AND (owner_id = $1 OR id IN "
           "(SELECT session_id FROM conversation_members WHERE user_id = $1)) "
           "ORDER BY created_at DESC, id"},
      {"add_member",
       "INSERT INTO conversation_members (session_id, user_id, added_at) "
       "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"},
      {"remove_member",
       "DELETE FROM conversation_members WHERE session_id = $1 "
       "AND user_id = $2"},
      // Children first; members go with their session (ON DELETE CASCADE).
      {"delete_links",
       "DELETE FROM message_knowledge WHERE message_id IN "
       "(SELECT id FROM messages WHERE session_id = ANY($1::text[]))"},
      {"delete_messages",
       "DELETE FROM messages WHERE session_id = ANY($1::text[])"},
      {"delete_sessions", "DELETE FROM sessions WHERE id = ANY($1::text[])"},
      {"messages",
       "SELECT id, session_id, role, kind, content, state, created_at, "
       "tool_call_id, tool_calls, image, html "
       "FROM messages WHERE session_id = $1 ORDER BY created_at, seq"},
  };
}

// What a failed batch says it was doing, like the SQLite backend's messages
// for single writes.
const char* describe(const batch_plan& plan) {
  auto kinds = !plan.new_sessions.empty() + !plan.new_messages.empty()
               + !plan.session_updates.empty() + !plan.member_changes.empty()
               + !plan.deleted_sessions.empty();
  if (kinds > 1)
    return "writing a batch";
  if (!plan.member_changes.empty())
    return "changing members";
  if (!plan.deleted_sessions.empty())
    return "deleting sessions";
  if (!plan.new_sessions.empty())
    return plan.new_sessions.size() == 1 ? "inserting a session"
                                         : "inserting sessions";
  if (!plan.new_messages.empty())
    return plan.new_messages.size() == 1 ? "inserting a message"
                                         : "inserting messages";
  return plan.session_updates.size() == 1 ? "updating a session"
                                          : "updating sessions";
}

std::int64_t read_version(pqxx::transaction_base& tx) {
  auto exists = tx.exec("SELECT to_regclass('schema_migrations') IS NOT NULL");
  if (!exists[0][0].as<bool>())
    return 0;
  auto newest = tx.exec("SELECT coalesce(max(version), 0) "
                        "FROM schema_migrations");
  return newest[0][0].as<std::int64_t>();
}

std::string text(const pqxx::field& x) {
  return std::string{x.c_str(), x.size()};
}

using sessions = std::vector<const session_record*>;
using messages = std::vector<const message_record*>;

void insert_sessions(pqxx::work& tx, const sessions& xs) {
  using x = session_record;
  tx.exec_prepared(
      "insert_sessions",
      pg_array(
          xs, [](const x& r) -> auto& { return r.id; }),
      pg_array(
          xs, [](const x& r) -> auto& { return r.visitor_id; }),
      pg_array(
          xs, [](const x& r) -> auto& { return r.status; }),
      pg_array(xs, [](const x& r) { return r.created_at; }),
      pg_array(xs, [](const x& r) { return r.expires_at; }),
      pg_array(xs, [](const x& r) { return r.last_activity_at; }),
      pg_array(xs, [](const x& r) { return r.warning_sent; }),
      pg_array(
          xs, [](const x& r) -> auto& { return r.conversation_data; }),
      pg_array(
          xs, [](const x& r) -> auto& { return r.kind; }),
      pg_array(
          xs, [](const x& r) -> auto& { return r.owner_id; }),
      pg_array(
          xs, [](const x& r) -> auto& { return r.title; }));
}

// Messages, the bulk of all writes, go by COPY: cheaper for the server than
// INSERT, and rows keep their order, so seq follows the batch.
void insert_messages(pqxx::work& tx, const messages& xs) {
  static const std::vector<std::string> columns{
      "id",         "session_id",   "role",       "kind",  "content", "state",
      "created_at", "tool_call_id", "tool_calls", "image", "html"};
  std::string lines;
  for (auto* x : xs) {
    if (!lines.empty())
      lines += '\n';
    for (auto* field :
         {&x->id, &x->session_id, &x->role, &x->kind, &x->content, &x->state}) {
      append_copy_field(lines, *field);
      lines += '\t';
    }
    append_copy_field(lines, x->created_at);
    for (auto* field :
         {&x->tool_call_id, &x->tool_calls, &x->image, &x->html}) {
      lines += '\t';
      append_copy_field(lines, *field);
    }
  }
  // tablewriter is deprecated for its own escaping, which we do not use;
  // stream_to, its successor, escapes UTF-8 wrongly in libpqxx 6.4.
#include <pqxx/internal/ignore-deprecated-pre.hxx>
  pqxx::tablewriter copy{tx, "messages", columns.begin(), columns.end()};
#include <pqxx/internal/ignore-deprecated-post.hxx>
  copy.write_raw_line(lines); // all rows at once; it adds the last newline
  copy.complete();
}

// The sources of the batch's messages and the links to them, each kind in
// one statement.
void insert_sources(pqxx::work& tx, const messages& xs) {
  struct link {
    const std::string* message_id;
    const knowledge_record* source;
    std::int64_t position;
  };
  std::vector<link> rows;
  for (auto* x : xs) {
    std::int64_t position = 0;
    for (auto& k : x->sources)
      rows.push_back({&x->id, &k, position++});
  }
  if (rows.empty())
    return;
  std::vector<const link*> ls;
  ls.reserve(rows.size());
  for (auto& r : rows)
    ls.push_back(&r);
  tx.exec_prepared(
    "insert_sources",
    pg_array(ls, [](const link& r) -> auto& { return r.source->id; }),
    pg_array(ls, [](const link& r) -> auto& { return r.source->title; }),
    pg_array(ls, [](const link& r) -> auto& { return r.source->content; }));
  tx.exec_prepared(
    "insert_source_links",
    pg_array(ls, [](const link& r) -> auto& { return *r.message_id; }),
    pg_array(ls, [](const link& r) -> auto& { return r.source->id; }),
    pg_array(ls, [](const link& r) { return r.position; }));
}

void update_sessions(pqxx::work& tx, const sessions& xs) {
  using x = session_record;
  auto result = tx.exec_prepared(
      "update_sessions",
      pg_array(
          xs, [](const x& r) -> auto& { return r.id; }),
      pg_array(
          xs, [](const x& r) -> auto& { return r.status; }),
      pg_array(xs, [](const x& r) { return r.last_activity_at; }),
      pg_array(xs, [](const x& r) { return r.warning_sent; }),
      pg_array(
          xs, [](const x& r) -> auto& { return r.conversation_data; }),
      pg_array(
          xs, [](const x& r) -> auto& { return r.title; }));
  // An update that matches nothing is a caller bug: say so, do not drop it.
  if (result.affected_rows() != xs.size())
    throw std::runtime_error("postgresql: updating a session failed: no "
                             "session with that id");
}

} // namespace

pg_store::pg_store(const std::string& url)
    : conn_(std::make_unique<pg_connection>(url, statements())) {
  // nop
}

pg_store::~pg_store() = default;

// -- schema -------------------------------------------------------------------

std::int64_t pg_store::schema_version() {
  return conn_->run("reading the schema version", [](pqxx::connection& c) {
    pqxx::read_transaction tx{c};
    return read_version(tx);
  });
}

void pg_store::migrate() {
  conn_->run("migrating", [](pqxx::connection& c) {
    pqxx::work tx{c};
    // Held until commit: a second process starting at once waits here, then
    // finds the schema current.
    tx.exec(lock_migrations);
    tx.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
            "version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)");
    for (auto* m : pending_migrations(postgresql_migrations(), read_version(tx),
                                      "postgresql")) {
      tx.exec(m->sql);
      tx.exec_params("INSERT INTO schema_migrations (version, applied_at) "
                     "VALUES ($1, (extract(epoch FROM clock_timestamp()) "
                     "* 1000)::bigint)",
                     m->version);
    }
    tx.commit();
  });
}

void pg_store::ping() {
  conn_->run("checking the connection", [](pqxx::connection& c) {
    pqxx::nontransaction tx{c};
    tx.exec("SELECT 1");
  });
}

std::size_t pg_store::write_parallelism() const {
  auto cores = std::thread::hardware_concurrency();
  return std::clamp<std::size_t>(cores, 2, 8);
}

// -- writes -------------------------------------------------------------------

void pg_store::do_write_batch(const std::vector<write_op>& ops) {
  auto plan = plan_batch(ops);
  conn_->run(describe(plan), [&plan](pqxx::connection& c) {
    pqxx::work tx{c};
    if (!plan.new_sessions.empty())
      insert_sessions(tx, plan.new_sessions);
    if (!plan.new_messages.empty()) {
      insert_messages(tx, plan.new_messages);
      insert_sources(tx, plan.new_messages);
    }
    if (!plan.session_updates.empty())
      update_sessions(tx, plan.session_updates);
    // Rare and order-sensitive (an add then a remove): one at a time.
    for (auto* x : plan.member_changes) {
      if (x->what == write_op::kind::add_member)
        tx.exec_prepared("add_member", x->session.id, x->member, x->at);
      else
        tx.exec_prepared("remove_member", x->session.id, x->member);
    }
    if (!plan.deleted_sessions.empty()) {
      auto ids = pg_array(plan.deleted_sessions,
                          [](const std::string& id) -> auto& { return id; });
      for (auto* step : {"delete_links", "delete_messages", "delete_sessions"})
        tx.exec_prepared(step, ids);
    }
    tx.commit();
  });
}

// -- reads --------------------------------------------------------------------

namespace {

session_record session_row(const pqxx::row& row) {
  session_record x;
    x.id = text(row[0]);
    x.visitor_id = text(row[1]);
    x.status = text(row[2]);
    x.created_at = row[3].as<std::int64_t>();
    x.expires_at = row[4].as<std::int64_t>();
    x.last_activity_at = row[5].as<std::int64_t>();
    x.warning_sent = row[6].as<bool>();
    x.conversation_data = text(row[7]);
    x.kind = text(row[8]);
    x.owner_id = text(row[9]);
    x.title = text(row[10]);
    return x;
}

} // namespace

std::optional<session_record> pg_store::do_find_session(const std::string& id) {
  return conn_->run("finding a session", [&id](pqxx::connection& c) {
    pqxx::nontransaction tx{c};
    auto r = tx.exec_prepared("find_session", id);
    if (r.empty())
      return std::optional<session_record>{};
    auto x = session_row(r[0]);
    if (!r[0][11].is_null())
      take_activity_from(x, r[0][11].as<std::int64_t>());
    for (auto row : tx.exec_prepared("members", id))
      x.members.push_back(text(row[0]));
    return std::optional<session_record>{std::move(x)};
  });
}

std::vector<session_record>
pg_store::do_conversations_of(const std::string& owner_id) {
  return conn_->run("listing conversations",
                    [&owner_id](pqxx::connection& c) {
                      pqxx::nontransaction tx{c};
                      std::vector<session_record> result;
                      for (auto row : tx.exec_prepared("conversations_of",
                                                       owner_id))
                        result.push_back(session_row(row));
                      return result;
                    });
}

std::vector<message_record>
pg_store::do_messages(const std::string& session_id) {
  return conn_->run("reading messages", [&session_id](pqxx::connection& c) {
    pqxx::nontransaction tx{c};
    auto r = tx.exec_prepared("messages", session_id);
    std::vector<message_record> result;
    result.reserve(r.size());
    for (auto row : r) {
      message_record x;
      x.id = text(row[0]);
      x.session_id = text(row[1]);
      x.role = text(row[2]);
      x.kind = text(row[3]);
      x.content = text(row[4]);
      x.state = text(row[5]);
      x.created_at = row[6].as<std::int64_t>();
      x.tool_call_id = text(row[7]);
      x.tool_calls = text(row[8]);
      x.image = text(row[9]);
      x.html = text(row[10]);
      result.push_back(std::move(x));
    }
    std::vector<source_link> links;
    for (auto row : tx.exec_prepared("source_links", session_id))
      links.push_back(
        {text(row[0]), {text(row[1]), text(row[2]), text(row[3])}});
    attach_sources(result, std::move(links));
    return result;
  });
}

} // namespace parley::storage
