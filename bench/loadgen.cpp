// parley_loadgen: the load generator of issue 7. It speaks the visitor chat
// dialect (seed 002) to parley or to the node-ws peer on 127.0.0.1 and
// prints, per scenario, one human line and one JSON line. Event-driven: one
// io_context per --threads, every connection an asynchronous state machine.
//
//   parley_loadgen SCENARIO --port N [--target parley|node-ws] [flags]
//
// Run without arguments for the flags and each scenario's defaults.

#include <signal.h>
#include <sys/types.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <nlohmann/json.hpp>

#include "bench/client.hpp"
#include "bench/proc_stats.hpp"
#include "bench/report.hpp"

namespace parley::bench {

namespace {

using json = nlohmann::ordered_json;

// -- options ------------------------------------------------------------------

struct options {
  std::string scenario;
  std::string name; // the "scenario" of the output; empty = scenario
  std::string target = "parley";
  unsigned short port = 8000;
  int threads = 1;
  int conns = -1;   // -1: the scenario's default
  int replies = -1; // -1: the scenario's default
  int words = 50;
  double pace_ms = 20;
  double ramp_ms = -1; // paced: -1 = one pacing interval
  double warning_s = 5;
  double grace_s = -1; // timers: -1 = max(2, warning)
  double duration_s = 10;
  double idle_s = 5;
  double settle_s = 1;
  pid_t server_pid = 0;
  double timeout_s = 300;
  int connect_concurrency = 200;
  int http_conns = 8;
  bool verify = false;
  std::string message = "Hello! What are your opening hours?";
};

const char* usage_text =
    R"(usage: parley_loadgen SCENARIO --port N [flags]
       parley_loadgen report RESULTS.jsonl [--previous OLD.jsonl]

Scenarios (defaults in brackets):
  throughput  --conns [100] --replies [20]: every connection sends its next
              message when the previous reply is complete. Chunk frames/s,
              replies/s, time to first chunk p50/p99.
  footprint   --conns [10000] --idle-seconds [5] --settle-seconds [1]:
              sessions connected, one message each, then idle. Server RSS
              per session and server CPU while idle (needs --server-pid).
  paced       --conns [1000] --replies [1] --pace-ms [20] --ramp-ms [pace]:
              concurrent replies paced by the server (PARLEY_STREAM_DELAY_MS
              must equal --pace-ms); first messages spread over --ramp-ms.
              Delay of chunk i against first chunk + i x pace, p50/p99; TTFC.
  timers      --conns [10000] --warning-seconds [5] --grace-seconds
              [max(2,warning)]: one message each, then wait for idle_warning.
              Received vs expected, lateness against complete + warning.
  fanout      --conns [1000] --replies [10]: one session open in every
              socket (?session_id=&visitor_id=), the first sends, all
              receive. Frames/s, p99 delay behind the first socket to get
              the same chunk, round time.
  churn       --conns [50] --duration [10]: that many loops of create session
              -> connect -> one reply -> close, for --duration seconds.
              Sessions/s, loop time p50/p99.

Flags:
  --port N                server port on 127.0.0.1 [8000]
  --target NAME           label in the output: parley or node-ws [parley]
  --name NAME             scenario name in the output [the scenario]
  --threads N             io_context threads of the generator [1]
  --words N               chunks expected per reply, 0 = unchecked [50]
  --server-pid PID        read the server's RSS and CPU time from /proc
  --timeout S             bound on the whole scenario [300]
  --connect-concurrency N connections set up at once [200]
  --http-conns N          keep-alive connections creating sessions [8]
  --message TEXT          the visitor's message
  --verify                parse every frame and check replies (slower)

Exit status: 0 clean, 2 errors or timeout (figures still printed), 1 usage.
)";

[[noreturn]] void usage(const std::string& complaint) {
  if (!complaint.empty())
    std::cerr << "parley_loadgen: " << complaint << "\n\n";
  std::cerr << usage_text;
  std::exit(1);
}

double to_number(const std::string& flag, const std::string& text) {
  try {
    std::size_t used = 0;
    double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v) && v >= 0)
      return v;
  } catch (const std::exception&) {
    // reported below
  }
  usage("bad value for " + flag + ": " + text);
}

options parse_options(int argc, char** argv) {
  options o;
  if (argc < 2)
    usage("");
  o.scenario = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--verify") {
      o.verify = true;
      continue;
    }
    if (flag == "--help" || flag == "-h")
      usage("");
    if (i + 1 >= argc)
      usage("missing value for " + flag);
    std::string value = argv[++i];
    auto num = [&] { return to_number(flag, value); };
    auto whole = [&] {
      double v = num();
      if (v != std::floor(v) || v > 1e9)
        usage("bad value for " + flag + ": " + value);
      return static_cast<int>(v);
    };
    if (flag == "--port") {
      int p = whole();
      if (p < 1 || p > 65535)
        usage("bad port " + value);
      o.port = static_cast<unsigned short>(p);
    } else if (flag == "--name") {
      o.name = value;
    } else if (flag == "--target") {
      o.target = value;
    } else if (flag == "--threads") {
      o.threads = std::max(1, whole());
    } else if (flag == "--conns") {
      o.conns = std::max(1, whole());
    } else if (flag == "--replies") {
      o.replies = std::max(1, whole());
    } else if (flag == "--words") {
      o.words = whole();
    } else if (flag == "--pace-ms") {
      o.pace_ms = num();
    } else if (flag == "--ramp-ms") {
      o.ramp_ms = num();
    } else if (flag == "--warning-seconds") {
      o.warning_s = num();
    } else if (flag == "--grace-seconds") {
      o.grace_s = num();
    } else if (flag == "--duration") {
      o.duration_s = num();
    } else if (flag == "--idle-seconds") {
      o.idle_s = num();
    } else if (flag == "--settle-seconds") {
      o.settle_s = num();
    } else if (flag == "--server-pid") {
      o.server_pid = static_cast<pid_t>(whole());
    } else if (flag == "--timeout") {
      o.timeout_s = num();
    } else if (flag == "--connect-concurrency") {
      o.connect_concurrency = std::max(1, whole());
    } else if (flag == "--http-conns") {
      o.http_conns = std::max(1, whole());
    } else if (flag == "--message") {
      o.message = value;
    } else {
      usage("unknown flag " + flag);
    }
  }
  struct defaults {
    const char* name;
    int conns;
    int replies;
  };
  static const defaults table[] = {
      {"throughput", 100, 20}, {"footprint", 10000, 1}, {"paced", 1000, 1},
      {"timers", 10000, 1},    {"fanout", 1000, 10},    {"churn", 50, 1},
  };
  bool known = false;
  for (const auto& d : table) {
    if (o.scenario == d.name) {
      known = true;
      if (o.conns < 0)
        o.conns = d.conns;
      if (o.replies < 0)
        o.replies = d.replies;
    }
  }
  if (!known)
    usage("unknown scenario " + o.scenario);
  if (o.ramp_ms < 0)
    o.ramp_ms = o.pace_ms;
  if (o.name.empty())
    o.name = o.scenario;
  if (o.grace_s < 0)
    o.grace_s = std::max(2.0, o.warning_s);
  return o;
}

// -- figures ------------------------------------------------------------------

double round3(double v) {
  return std::round(v * 1000.0) / 1000.0;
}

json opt_number(std::optional<double> v) {
  return v ? json(round3(*v)) : json(nullptr);
}

std::string fmt(std::optional<double> v, int precision = 2) {
  if (!v)
    return "n/a";
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(precision);
  out << *v;
  return out.str();
}

std::string pct(std::optional<double> v) {
  return v ? fmt(v, 3) + "%" : "n/a";
}

// A reading of the CPU time of the generator and (if known) the server.
struct cpu_mark {
  time_point at;
  double self = 0;
  std::optional<double> server;
  std::optional<double> server_switches;
};

cpu_mark mark_cpu(pid_t server_pid) {
  cpu_mark m;
  m.at = steady::now();
  m.self = self_cpu_seconds();
  if (server_pid > 0) {
    m.server = read_cpu_seconds(server_pid);
    m.server_switches = read_switches(server_pid);
  }
  return m;
}

// CPU use between two marks in percent of one core.
struct cpu_use {
  double self_pct = 0;
  std::optional<double> server_pct;
};

cpu_use cpu_between(const cpu_mark& a, const cpu_mark& b) {
  cpu_use u;
  double wall = std::chrono::duration<double>(b.at - a.at).count();
  if (wall <= 0)
    return u;
  u.self_pct = 100.0 * (b.self - a.self) / wall;
  if (a.server && b.server)
    u.server_pct = 100.0 * (*b.server - *a.server) / wall;
  return u;
}

// Creates one session synchronously, before the workers run (fanout).
bool create_session_sync(unsigned short port, std::string& sid,
                         std::string& vid, std::string& error) {
  try {
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port));
    http::request<http::string_body> req{http::verb::post,
                                         "/api/chats/sessions/", 11};
    req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
    req.set(http::field::content_type, "application/json");
    req.body() = "{}";
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    auto body = nlohmann::json::parse(res.body(), nullptr, false);
    if (res.result_int() / 100 != 2 || !body.is_object()
        || !body.contains("session_id") || !body.contains("visitor_id")) {
      error = "session: HTTP " + std::to_string(res.result_int());
      return false;
    }
    sid = body["session_id"].get<std::string>();
    vid = body["visitor_id"].get<std::string>();
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return true;
  } catch (const std::exception& e) {
    error = std::string("session: ") + e.what();
    return false;
  }
}

// -- scenario base ------------------------------------------------------------

class scenario : public scenario_hooks {
public:
  explicit scenario(const options& o) : opt(o) {
    cfg_.port = o.port;
    cfg_.words = o.words;
    cfg_.verify = o.verify;
    // The peer's frames follow the seed loosely; parley's follow CONTRACT.md.
    cfg_.strict = o.target == "parley";
    cfg_.message_json = nlohmann::json(o.message).dump();
    int per_worker_connects = std::max(1, o.connect_concurrency / o.threads);
    int per_worker_rest = std::max(1, o.http_conns / o.threads);
    for (int i = 0; i < o.threads; ++i)
      workers_.push_back(std::make_unique<worker>(i, per_worker_connects,
                                                  per_worker_rest, cfg_));
  }

  // Runs the scenario to its end or the timeout; returns the exit status.
  int run() {
    begin();
    auto& w0 = *workers_.front();
    asio::steady_timer deadline(w0.ioc);
    deadline.expires_after(seconds(opt.timeout_s));
    deadline.async_wait([this](beast::error_code ec) {
      if (!ec) {
        timed_out_ = true;
        finish();
      }
    });
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < workers_.size(); ++i)
      threads.emplace_back([w = workers_[i].get()] { w->ioc.run(); });
    w0.ioc.run();
    for (auto& t : threads)
      t.join();
    if (!end_)
      end_ = mark_cpu(opt.server_pid);
    return report();
  }

protected:
  static steady::duration seconds(double s) {
    return std::chrono::duration_cast<steady::duration>(
        std::chrono::duration<double>(s));
  }

  // Creates the connections and posts their start (main thread, before the
  // workers run).
  virtual void begin() = 0;
  // Adds the scenario's figures to the JSON line and the human line.
  virtual void figures(json& j, std::ostringstream& human) = 0;

  worker& worker_for(int i) {
    return *workers_[static_cast<std::size_t>(i) % workers_.size()];
  }

  std::shared_ptr<ws_client> add_client(int i) {
    auto& w = worker_for(i);
    auto c = std::make_shared<ws_client>(w, *this, i);
    w.clients.push_back(c);
    return c;
  }

  void start_all() {
    for (auto& w : workers_)
      for (auto& c : w->clients)
        asio::post(w->ioc, [c] { c->start(); });
  }

  // Runs fn on every live connection, each on its own worker thread.
  void post_each(std::function<void(ws_client&)> fn) {
    for (auto& w : workers_) {
      asio::post(w->ioc, [w = w.get(), fn] {
        for (auto& c : w->clients)
          if (c->ready && !c->ended)
            fn(*c);
      });
    }
  }

  void close_rest_pools() {
    for (auto& w : workers_)
      asio::post(w->ioc, [w = w.get()] { w->close_rest(); });
  }

  void mark_start() {
    start_ = mark_cpu(opt.server_pid);
  }

  void mark_end() {
    end_ = mark_cpu(opt.server_pid);
  }

  void finish() {
    if (finished_.exchange(true))
      return;
    for (auto& w : workers_)
      w->ioc.stop();
  }

  template <class F>
  std::vector<double> merged(F member) {
    std::vector<double> all;
    for (auto& w : workers_) {
      auto& v = (*w).*member;
      all.insert(all.end(), v.begin(), v.end());
    }
    return all;
  }

  std::uint64_t sum(std::uint64_t worker::*member) {
    std::uint64_t n = 0;
    for (auto& w : workers_)
      n += (*w).*member;
    return n;
  }

  double elapsed_s() const {
    if (!start_ || !end_)
      return 0;
    return std::chrono::duration<double>(end_->at - start_->at).count();
  }

  int report() {
    json j;
    j["scenario"] = opt.name;
    j["target"] = opt.target;
    j["conns"] = opt.conns;
    std::ostringstream human;
    human << opt.name << " [" << opt.target << ", " << opt.conns << " conns]: ";
    figures(j, human);
    std::map<std::string, std::uint64_t> errors;
    std::uint64_t error_count = 0;
    for (auto& w : workers_) {
      for (auto& [what, n] : w->errors) {
        errors[what] += n;
        error_count += n;
      }
    }
    if (start_ && end_) {
      auto use = cpu_between(*start_, *end_);
      j["generator_cpu_pct"] = round3(use.self_pct);
      j["server_cpu_pct"] = opt_number(use.server_pct);
      human << "; generator cpu " << fmt(use.self_pct, 0) << "%";
      if (use.server_pct)
        human << ", server cpu " << fmt(use.server_pct, 0) << "%";
      if (start_->server_switches && end_->server_switches) {
        auto n = *end_->server_switches - *start_->server_switches;
        j["server_switches"] = n;
        if (j.contains("chunks") && j["chunks"].get<double>() > 0) {
          auto per = n / j["chunks"].get<double>();
          j["server_switches_per_chunk"] = round3(per);
          human << ", server thread switches per chunk " << fmt(per, 2);
        }
      }
    }
    j["elapsed_s"] = round3(elapsed_s());
    j["unexpected_frames"] = sum(&worker::unexpected);
    j["errors"] = error_count;
    json kinds = json::object();
    for (auto& [what, n] : errors)
      kinds[what] = n;
    j["error_kinds"] = kinds;
    j["timed_out"] = timed_out_.load();
    human << "; errors " << error_count;
    for (auto& [what, n] : errors)
      human << " [" << n << "x " << what << "]";
    if (timed_out_)
      human << "; TIMED OUT after " << opt.timeout_s << " s";
    std::cout << human.str() << "\n" << j.dump() << std::endl;
    return error_count == 0 && !timed_out_ ? 0 : 2;
  }

  const options& opt;
  client_config cfg_;
  std::vector<std::unique_ptr<worker>> workers_;
  std::atomic<bool> finished_{false};
  std::atomic<bool> timed_out_{false};
  std::optional<cpu_mark> start_;
  std::optional<cpu_mark> end_;
};

// Counts connections through a barrier (set up, or lost on the way) and
// through the end of their work (done, or lost). Thread-safe.
struct tally {
  explicit tally(int total) : total(total) {}
  // True for the call that completes the count.
  bool arrive() {
    return ++arrived == total;
  }
  bool settle() {
    return ++settled == total;
  }
  const int total;
  std::atomic<int> arrived{0};
  std::atomic<int> settled{0};
  std::atomic<int> lost{0};
};

// -- replies in a loop (throughput, paced) --------------------------------------

// Every connection sends a message, waits for the whole reply, and again
// until it had --replies; the run ends when every connection is done or
// gone. `go` sends the first messages once all are connected.
class reply_loop : public scenario {
public:
  using scenario::scenario;

protected:
  // Sends each connection's first message (mark_start() has run).
  virtual void send_first() = 0;

  tally tally_{opt.conns};

private:
  void go() {
    close_rest_pools();
    mark_start();
    send_first();
  }

  void begin() override {
    for (int i = 0; i < opt.conns; ++i)
      add_client(i);
    start_all();
  }

  void on_ready(ws_client&) override {
    if (tally_.arrive())
      go();
  }

  void on_complete(ws_client& c, time_point) override {
    if (c.replies_done < opt.replies)
      return c.send_chat();
    settle(c);
  }

  void on_end(ws_client& c, bool) override {
    if (c.done)
      return; // it had finished its work
    ++tally_.lost;
    if (!c.ready && tally_.arrive())
      go();
    settle(c);
  }

  void settle(ws_client& c) {
    if (c.done)
      return;
    c.done = true;
    if (tally_.settle()) {
      mark_end();
      finish();
    }
  }
};

// -- throughput ---------------------------------------------------------------

class throughput final : public reply_loop {
public:
  using reply_loop::reply_loop;

private:
  void send_first() override {
    post_each([](ws_client& c) { c.send_chat(); });
  }

  void figures(json& j, std::ostringstream& human) override {
    auto chunks = sum(&worker::chunks);
    auto replies = sum(&worker::replies);
    auto secs = elapsed_s();
    auto ttfc = merged(&worker::ttfc_ms);
    auto p50 = percentile(ttfc, 50);
    auto p99 = percentile(ttfc, 99);
    std::optional<double> fps;
    std::optional<double> rps;
    if (secs > 0) {
      fps = chunks / secs;
      rps = replies / secs;
    }
    j["replies_per_conn"] = opt.replies;
    j["words"] = opt.words;
    j["chunks"] = chunks;
    j["replies"] = replies;
    j["chunk_frames_per_s"] = opt_number(fps);
    j["replies_per_s"] = opt_number(rps);
    j["ttfc_p50_ms"] = opt_number(p50);
    j["ttfc_p99_ms"] = opt_number(p99);
    j["lost_conns"] = tally_.lost.load();
    human << fmt(fps, 0) << " chunk frames/s, " << fmt(rps, 0)
          << " replies/s, ttfc p50 " << fmt(p50, 3) << " ms p99 " << fmt(p99, 3)
          << " ms (" << replies << " replies in " << fmt(secs, 2) << " s)";
  }

};

// -- footprint ----------------------------------------------------------------

class footprint final : public scenario {
public:
  using scenario::scenario;

private:
  void begin() override {
    if (opt.server_pid > 0)
      rss_before_ = read_rss_kb(opt.server_pid);
    mark_start();
    for (int i = 0; i < opt.conns; ++i)
      add_client(i);
    start_all();
  }

  void on_ready(ws_client& c) override {
    c.send_chat();
  }

  void on_complete(ws_client& c, time_point) override {
    settle(c);
  }

  void on_end(ws_client& c, bool) override {
    ++tally_.lost;
    settle(c);
  }

  void settle(ws_client& c) {
    if (c.done)
      return;
    c.done = true;
    if (tally_.settle())
      asio::post(workers_.front()->ioc, [this] { all_idle(); });
  }

  // On worker 0: every session has had its reply; let the server settle,
  // read its RSS, then watch an idle window.
  void all_idle() {
    setup_s_
        = std::chrono::duration<double>(steady::now() - start_->at).count();
    close_rest_pools();
    timer_.expires_after(seconds(opt.settle_s));
    timer_.async_wait([this](beast::error_code ec) {
      if (ec)
        return;
      if (opt.server_pid > 0)
        rss_after_ = read_rss_kb(opt.server_pid);
      idle_from_ = mark_cpu(opt.server_pid);
      timer_.expires_after(seconds(opt.idle_s));
      timer_.async_wait([this](beast::error_code ec) {
        if (ec)
          return;
        idle_to_ = mark_cpu(opt.server_pid);
        mark_end();
        finish();
      });
    });
  }

  void figures(json& j, std::ostringstream& human) override {
    std::optional<double> per_session;
    int sessions = opt.conns - tally_.lost.load();
    if (rss_before_ && rss_after_ && sessions > 0)
      per_session = static_cast<double>(*rss_after_ - *rss_before_) / sessions;
    std::optional<cpu_use> idle;
    if (idle_from_ && idle_to_)
      idle = cpu_between(*idle_from_, *idle_to_);
    j["sessions"] = sessions;
    j["rss_before_kb"] = rss_before_ ? json(*rss_before_) : json(nullptr);
    j["rss_after_kb"] = rss_after_ ? json(*rss_after_) : json(nullptr);
    j["kb_per_session"] = opt_number(per_session);
    j["idle_window_s"] = opt.idle_s;
    j["server_idle_cpu_pct"]
        = opt_number(idle ? idle->server_pct : std::nullopt);
    j["generator_idle_cpu_pct"] = opt_number(
        idle ? std::optional<double>(idle->self_pct) : std::nullopt);
    j["setup_s"] = round3(setup_s_);
    j["lost_conns"] = tally_.lost.load();
    human << sessions << " idle sessions, server RSS "
          << (rss_before_ ? std::to_string(*rss_before_) : "n/a") << " -> "
          << (rss_after_ ? std::to_string(*rss_after_) : "n/a")
          << " KB = " << fmt(per_session, 2) << " KB/session; server idle cpu "
          << pct(idle ? idle->server_pct : std::nullopt) << " over "
          << opt.idle_s << " s (setup " << fmt(setup_s_, 1) << " s)";
  }

  tally tally_{opt.conns};
  asio::steady_timer timer_{workers_.front()->ioc};
  std::optional<long> rss_before_;
  std::optional<long> rss_after_;
  std::optional<cpu_mark> idle_from_;
  std::optional<cpu_mark> idle_to_;
  double setup_s_ = 0;
};

// -- paced --------------------------------------------------------------------

class paced final : public reply_loop {
public:
  using reply_loop::reply_loop;

private:
  // Independent visitors do not press enter in the same microsecond: the
  // first messages are spread evenly over --ramp-ms.
  void send_first() override {
    auto t0 = start_->at;
    auto ramp = opt.ramp_ms;
    auto n = opt.conns;
    post_each([t0, ramp, n](ws_client& c) {
      auto offset = std::chrono::duration<double, std::milli>(ramp * c.id
                                                              / std::max(1, n));
      c.send_chat_at(t0 + std::chrono::duration_cast<steady::duration>(offset));
    });
  }

  void on_chunk(ws_client& c, int index, time_point now) override {
    if (index == 0)
      return;
    auto expected
        = c.first_chunk_at
          + std::chrono::duration_cast<steady::duration>(
              std::chrono::duration<double, std::milli>(opt.pace_ms * index));
    auto delay = ms_between(expected, now);
    c.w.delay_ms.push_back(delay);
    c.w.gap_ms.push_back(ms_between(c.prev_chunk_at, now) - opt.pace_ms);
    // Pacing each chunk after the previous one lets the delays add up: the
    // last chunk shows the drift.
    if (index + 1 == opt.words)
      c.w.last_delay_ms.push_back(delay);
  }

  void figures(json& j, std::ostringstream& human) override {
    auto delay = merged(&worker::delay_ms);
    auto gap = merged(&worker::gap_ms);
    auto ttfc = merged(&worker::ttfc_ms);
    auto d50 = percentile(delay, 50);
    auto d99 = percentile(delay, 99);
    auto dmax = percentile(delay, 100);
    auto g99 = percentile(gap, 99);
    auto last = merged(&worker::last_delay_ms);
    auto l50 = percentile(last, 50);
    auto t50 = percentile(ttfc, 50);
    auto t99 = percentile(ttfc, 99);
    j["replies_per_conn"] = opt.replies;
    j["words"] = opt.words;
    j["pace_ms"] = opt.pace_ms;
    j["ramp_ms"] = opt.ramp_ms;
    j["replies"] = sum(&worker::replies);
    // Every chunk but a reply's first has a delay sample; every first a ttfc.
    j["chunks"] = delay.size() + ttfc.size();
    j["delay_p50_ms"] = opt_number(d50);
    j["delay_p99_ms"] = opt_number(d99);
    j["delay_max_ms"] = opt_number(dmax);
    j["gap_p99_ms"] = opt_number(g99);
    j["last_chunk_delay_p50_ms"] = opt_number(l50);
    j["ttfc_p50_ms"] = opt_number(t50);
    j["ttfc_p99_ms"] = opt_number(t99);
    j["lost_conns"] = tally_.lost.load();
    human << "chunk delay vs schedule p50 " << fmt(d50, 3) << " ms p99 "
          << fmt(d99, 3) << " ms max " << fmt(dmax, 1) << " ms (last chunk p50 "
          << fmt(l50, 3) << " ms); extra gap p99 " << fmt(g99, 3)
          << " ms; ttfc p50 " << fmt(t50, 3) << " ms p99 " << fmt(t99, 3)
          << " ms";
  }

};

// -- timers -------------------------------------------------------------------

class timers final : public scenario {
public:
  using scenario::scenario;

private:
  void begin() override {
    for (int i = 0; i < opt.conns; ++i)
      add_client(i);
    start_all();
  }

  // All sessions send at once, so all warnings fall due together: the
  // hardest case for the server's timers, and it leaves an idle window
  // before them in which the server's CPU is watched.
  void on_ready(ws_client&) override {
    if (tally_.arrive())
      go();
  }

  void go() {
    close_rest_pools();
    mark_start();
    post_each([](ws_client& c) { c.send_chat(); });
  }

  void on_complete(ws_client& c, time_point now) override {
    c.due = now + seconds(opt.warning_s);
    count_reply();
  }

  // Each connection counts once: when its reply is complete, or when it is
  // lost before that.
  void count_reply() {
    if (++replied_ == opt.conns)
      asio::post(workers_.front()->ioc, [this] { all_complete(); });
  }

  void on_frame(ws_client& c, frame_kind kind, time_point now) override {
    if (kind != frame_kind::idle_warning || c.done || c.replies_done == 0) {
      ++c.w.unexpected;
      return;
    }
    c.w.lateness_ms.push_back(ms_between(c.due, now));
    // The server may count inactivity from the message rather than from the
    // reply's end: this shows which.
    c.w.lateness_send_ms.push_back(
        ms_between(c.sent_at + seconds(opt.warning_s), now));
    ++warned_;
    settle(c);
  }

  void on_end(ws_client& c, bool) override {
    if (c.done)
      return;
    ++tally_.lost;
    if (!c.ready && tally_.arrive())
      go();
    if (c.replies_done == 0)
      count_reply();
    settle(c);
  }

  void settle(ws_client& c) {
    if (c.done)
      return;
    c.done = true;
    if (tally_.settle()) {
      mark_end();
      finish();
    }
  }

  // On worker 0, once: watch the server's CPU until just before the first
  // warning can be due, then give the warnings until the last due time plus
  // the grace period.
  void all_complete() {
    if (all_complete_)
      return;
    all_complete_ = true;
    auto now = steady::now();
    auto first_due = start_->at + seconds(opt.warning_s);
    auto idle_end = first_due - std::chrono::milliseconds(300);
    if (idle_end - now > std::chrono::milliseconds(500)) {
      idle_from_ = mark_cpu(opt.server_pid);
      idle_timer_.expires_at(idle_end);
      idle_timer_.async_wait([this](beast::error_code ec) {
        if (!ec)
          idle_to_ = mark_cpu(opt.server_pid);
      });
    }
    grace_timer_.expires_at(now + seconds(opt.warning_s + opt.grace_s));
    grace_timer_.async_wait([this](beast::error_code ec) {
      if (ec)
        return;
      mark_end();
      finish();
    });
  }

  void figures(json& j, std::ostringstream& human) override {
    auto late = merged(&worker::lateness_ms);
    std::size_t early = 0;
    for (double v : late)
      early += v < 0 ? 1 : 0;
    auto p50 = percentile(late, 50);
    auto p99 = percentile(late, 99);
    auto max = percentile(late, 100);
    auto from_send = merged(&worker::lateness_send_ms);
    auto s99 = percentile(from_send, 99);
    std::optional<cpu_use> idle;
    if (idle_from_ && idle_to_)
      idle = cpu_between(*idle_from_, *idle_to_);
    int expected = opt.conns - tally_.lost.load();
    j["warning_s"] = opt.warning_s;
    j["expected"] = opt.conns;
    j["received"] = warned_.load();
    j["missing"] = opt.conns - warned_.load();
    j["early"] = early;
    j["lateness_p50_ms"] = opt_number(p50);
    j["lateness_p99_ms"] = opt_number(p99);
    j["lateness_max_ms"] = opt_number(max);
    j["lateness_from_send_p99_ms"] = opt_number(s99);
    j["server_idle_cpu_pct"]
        = opt_number(idle ? idle->server_pct : std::nullopt);
    j["idle_window_s"] = idle ? json(round3(std::chrono::duration<double>(
                                                idle_to_->at - idle_from_->at)
                                                .count()))
                              : json(nullptr);
    j["lost_conns"] = tally_.lost.load();
    human << warned_.load() << " of " << opt.conns
          << " idle warnings (connections alive " << expected
          << "), lateness p50 " << fmt(p50, 3) << " ms p99 " << fmt(p99, 3)
          << " ms max " << fmt(max, 1) << " ms, " << early
          << " early (p99 against the message sent " << fmt(s99, 3)
          << " ms); server cpu before the warnings "
          << pct(idle ? idle->server_pct : std::nullopt);
  }

  tally tally_{opt.conns};
  std::atomic<int> replied_{0};
  std::atomic<int> warned_{0};
  bool all_complete_ = false; // worker 0 only
  asio::steady_timer idle_timer_{workers_.front()->ioc};
  asio::steady_timer grace_timer_{workers_.front()->ioc};
  std::optional<cpu_mark> idle_from_;
  std::optional<cpu_mark> idle_to_;
};

// -- fanout -------------------------------------------------------------------

class fanout final : public scenario {
public:
  using scenario::scenario;

private:
  void begin() override {
    std::string sid;
    std::string vid;
    std::string error;
    if (!create_session_sync(opt.port, sid, vid, error)) {
      workers_.front()->error(error);
      finish();
      return;
    }
    std::size_t slots = static_cast<std::size_t>(opt.replies)
                        * static_cast<std::size_t>(std::max(1, opt.words));
    for (int i = 0; i < opt.conns; ++i) {
      auto c = add_client(i);
      c->session_id = sid;
      c->visitor_id = vid;
      c->join = true;
      c->arrivals.assign(slots, std::numeric_limits<double>::quiet_NaN());
    }
    sender_ = workers_.front()->clients.front();
    start_all();
  }

  void on_ready(ws_client&) override {
    if (tally_.arrive())
      go();
  }

  void go() {
    close_rest_pools();
    if (sender_->ended) {
      workers_.front()->error("fanout: the sending socket was lost");
      return finish();
    }
    {
      std::lock_guard<std::mutex> guard(mutex_);
      alive_ = opt.conns - tally_.lost.load();
    }
    mark_start();
    send_next();
  }

  void send_next() {
    asio::post(sender_->w.ioc, [this] {
      {
        std::lock_guard<std::mutex> guard(mutex_);
        round_sent_ = steady::now();
      }
      sender_->send_chat();
    });
    // A server that does not share the session (the peer) never completes
    // a round: say so after a while instead of waiting for --timeout.
    asio::post(workers_.front()->ioc, [this] {
      round_timer_.expires_after(round_timeout);
      round_timer_.async_wait([this](beast::error_code ec) {
        if (ec)
          return;
        std::lock_guard<std::mutex> guard(mutex_);
        workers_.front()->error(
            "fanout: a round was not complete on every socket after "
            + std::to_string(round_timeout.count()) + " s ("
            + std::to_string(round_completes_) + " of " + std::to_string(alive_)
            + ")");
        mark_end();
        finish();
      });
    });
  }

  void on_chunk(ws_client& c, int index, time_point now) override {
    auto slot = static_cast<std::size_t>(c.replies_done)
                    * static_cast<std::size_t>(std::max(1, opt.words))
                + static_cast<std::size_t>(index);
    if (slot < c.arrivals.size())
      c.arrivals[slot] = ms_between(start_->at, now);
  }

  void on_complete(ws_client& c, time_point now) override {
    if (c.replies_done > opt.replies)
      return c.w.error("fanout: more replies than messages sent");
    std::lock_guard<std::mutex> guard(mutex_);
    ++round_completes_;
    last_complete_ = std::max(last_complete_, now);
    advance_locked();
  }

  void on_end(ws_client& c, bool) override {
    ++tally_.lost;
    if (!c.ready) {
      if (tally_.arrive())
        go();
      return;
    }
    if (&c == sender_.get()) {
      c.w.error("fanout: the sending socket was lost");
      mark_end();
      return finish();
    }
    std::lock_guard<std::mutex> guard(mutex_);
    --alive_;
    advance_locked();
  }

  // Every live socket has the round's `complete`: time it, send the next.
  void advance_locked() {
    if (alive_ <= 0 || round_completes_ < alive_)
      return;
    round_ms_.push_back(ms_between(round_sent_, last_complete_));
    round_completes_ = 0;
    if (++rounds_ < opt.replies)
      return send_next();
    mark_end();
    finish();
  }

  void figures(json& j, std::ostringstream& human) override {
    // Each chunk's first arrival anywhere, then every socket's lag behind
    // it: how long until all tabs show what one tab shows.
    std::vector<double> first;
    std::vector<double> delay;
    std::size_t missing = 0;
    for (auto& w : workers_) {
      for (auto& c : w->clients) {
        if (first.empty())
          first.assign(c->arrivals.size(),
                       std::numeric_limits<double>::infinity());
        for (std::size_t i = 0; i < c->arrivals.size(); ++i)
          if (!std::isnan(c->arrivals[i]))
            first[i] = std::min(first[i], c->arrivals[i]);
      }
    }
    for (auto& w : workers_) {
      for (auto& c : w->clients) {
        for (std::size_t i = 0; i < c->arrivals.size(); ++i) {
          if (i / std::max(1, opt.words) >= static_cast<std::size_t>(rounds_))
            break; // rounds not finished (timeout)
          if (std::isnan(c->arrivals[i])) {
            missing += c->ended ? 0 : 1;
            continue;
          }
          delay.push_back(c->arrivals[i] - first[i]);
        }
      }
    }
    auto chunks = sum(&worker::chunks);
    auto secs = elapsed_s();
    std::optional<double> fps;
    if (secs > 0)
      fps = chunks / secs;
    auto d50 = percentile(delay, 50);
    auto d99 = percentile(delay, 99);
    auto r50 = percentile(round_ms_, 50);
    auto r99 = percentile(round_ms_, 99);
    auto ttfc = merged(&worker::ttfc_ms);
    j["replies"] = opt.replies;
    j["rounds_done"] = rounds_;
    j["words"] = opt.words;
    j["chunks"] = chunks;
    j["chunk_frames_per_s"] = opt_number(fps);
    j["delay_p50_ms"] = opt_number(d50);
    j["delay_p99_ms"] = opt_number(d99);
    j["round_p50_ms"] = opt_number(r50);
    j["round_p99_ms"] = opt_number(r99);
    j["sender_ttfc_p50_ms"] = opt_number(percentile(ttfc, 50));
    j["missing_chunks"] = missing;
    j["lost_conns"] = tally_.lost.load();
    human << fmt(fps, 0) << " chunk frames/s to " << opt.conns
          << " sockets, delay behind the first socket p50 " << fmt(d50, 3)
          << " ms p99 " << fmt(d99, 3) << " ms, round (send -> last complete)"
          << " p50 " << fmt(r50, 1) << " ms p99 " << fmt(r99, 1) << " ms, "
          << rounds_ << " rounds, " << missing << " chunks missing";
  }

  tally tally_{opt.conns};
  std::shared_ptr<ws_client> sender_;
  std::mutex mutex_;
  int alive_ = 0;
  int round_completes_ = 0;
  int rounds_ = 0;
  time_point round_sent_;
  time_point last_complete_;
  std::vector<double> round_ms_;
  static constexpr std::chrono::seconds round_timeout{30};
  asio::steady_timer round_timer_{workers_.front()->ioc};
};

// -- churn --------------------------------------------------------------------

class churn final : public scenario {
public:
  using scenario::scenario;

private:
  void begin() override {
    mark_start();
    deadline_ = start_->at + seconds(opt.duration_s);
    active_ = opt.conns;
    for (int i = 0; i < opt.conns; ++i) {
      auto& w = worker_for(i);
      asio::post(w.ioc, [this, &w, i] { spawn(w, i); });
    }
  }

  // Loops do not stay in worker::clients: each one's connection goes away
  // with its last handler.
  void spawn(worker& w, int id) {
    auto c = std::make_shared<ws_client>(w, *this, id);
    c->start();
  }

  void on_ready(ws_client& c) override {
    c.send_chat();
  }

  void on_complete(ws_client& c, time_point) override {
    c.close();
  }

  void on_end(ws_client& c, bool clean) override {
    auto now = steady::now();
    if (clean && c.replies_done == 1) {
      c.w.loop_ms.push_back(ms_between(c.started_at, now));
      ++completed_;
    } else {
      ++failed_;
    }
    if (now < deadline_ && !finished_)
      return spawn(c.w, c.id);
    if (--active_ == 0) {
      mark_end();
      finish();
    }
  }

  void figures(json& j, std::ostringstream& human) override {
    auto loops = merged(&worker::loop_ms);
    auto secs = elapsed_s();
    std::optional<double> rate;
    if (secs > 0)
      rate = completed_.load() / secs;
    auto p50 = percentile(loops, 50);
    auto p99 = percentile(loops, 99);
    j["duration_s"] = opt.duration_s;
    j["sessions"] = completed_.load();
    j["failed"] = failed_.load();
    j["sessions_per_s"] = opt_number(rate);
    j["loop_p50_ms"] = opt_number(p50);
    j["loop_p99_ms"] = opt_number(p99);
    human << fmt(rate, 0) << " sessions/s (" << completed_.load() << " in "
          << fmt(secs, 2) << " s, " << failed_.load() << " failed), loop p50 "
          << fmt(p50, 2) << " ms p99 " << fmt(p99, 2) << " ms";
  }

  time_point deadline_;
  std::atomic<int> active_{0};
  std::atomic<int> completed_{0};
  std::atomic<int> failed_{0};
};

std::unique_ptr<scenario> make_scenario(const options& o) {
  if (o.scenario == "throughput")
    return std::make_unique<throughput>(o);
  if (o.scenario == "footprint")
    return std::make_unique<footprint>(o);
  if (o.scenario == "paced")
    return std::make_unique<paced>(o);
  if (o.scenario == "timers")
    return std::make_unique<timers>(o);
  if (o.scenario == "fanout")
    return std::make_unique<fanout>(o);
  return std::make_unique<churn>(o);
}

} // namespace

} // namespace parley::bench

int main(int argc, char** argv) {
  using namespace parley::bench;
  if (argc >= 2 && std::string(argv[1]) == "report")
    return run_report(argc, argv);
  auto opt = parse_options(argc, argv);
  // A server that dies mid-write must not kill the generator.
  signal(SIGPIPE, SIG_IGN);
  long nofile = raise_nofile_limit();
  // Each connection is one descriptor; keep a few for files and HTTP.
  if (nofile > 0 && opt.conns + opt.http_conns + 32 > nofile) {
    std::cerr << "parley_loadgen: " << opt.conns
              << " connections need more descriptors than the limit of "
              << nofile << "\n";
    return 1;
  }
  try {
    return make_scenario(opt)->run();
  } catch (const std::exception& e) {
    std::cerr << "parley_loadgen: " << e.what() << "\n";
    return 1;
  }
}
