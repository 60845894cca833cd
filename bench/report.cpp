#include "bench/report.hpp"

// `parley_loadgen report RESULTS.jsonl [--previous OLD.jsonl]`: the Markdown
// tables of BENCHMARKS.md from the generator's JSON lines, so that the file
// is written by the benchmark command and never edited by hand. bench/run.sh
// adds the command, machine and date around them.

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace parley::bench {

namespace {

using json = nlohmann::json;

// One row of the comparison table.
struct figure {
  const char* scenario;
  const char* key;
  const char* label;
};

const figure figures_table[] = {
    {"throughput", "chunk_frames_per_s", "chunk frames/s (higher is better)"},
    {"throughput", "replies_per_s", "replies/s"},
    {"throughput", "ttfc_p50_ms", "time to first chunk p50, ms"},
    {"throughput", "ttfc_p99_ms", "time to first chunk p99, ms"},
    {"throughput", "server_cpu_pct", "server CPU, % of a core"},
    {"throughput", "generator_cpu_pct", "generator CPU, % of a core"},
    {"throughput", "server_switches_per_chunk",
     "server thread switches per chunk"},
    {"footprint", "sessions", "idle sessions held"},
    {"footprint", "kb_per_session", "server RSS per session, KB"},
    {"footprint", "rss_after_kb", "server RSS with them, KB"},
    {"footprint", "server_idle_cpu_pct", "server CPU while idle, %"},
    {"footprint", "setup_s", "time to set them up, s"},
    {"capacity", "sessions", "idle sessions held"},
    {"capacity", "kb_per_session", "server RSS per session, KB"},
    {"capacity", "server_idle_cpu_pct", "server CPU while idle, %"},
    {"paced", "delay_p50_ms", "chunk delay vs schedule p50, ms"},
    {"paced", "delay_p99_ms", "chunk delay vs schedule p99, ms"},
    {"paced", "last_chunk_delay_p50_ms", "last chunk's delay p50, ms"},
    {"paced", "gap_p99_ms", "gap between chunks - pace, p99, ms"},
    {"paced", "ttfc_p50_ms", "time to first chunk p50, ms"},
    {"paced", "ttfc_p99_ms", "time to first chunk p99, ms"},
    {"paced", "server_cpu_pct", "server CPU, % of a core"},
    {"paced", "server_switches_per_chunk", "server thread switches per chunk"},
    {"timers", "received", "idle warnings received"},
    {"timers", "expected", "idle warnings expected"},
    {"timers", "lateness_p50_ms", "lateness p50, ms"},
    {"timers", "lateness_p99_ms", "lateness p99, ms"},
    {"timers", "lateness_from_send_p99_ms",
     "lateness p99 against message sent + warning, ms"},
    {"timers", "server_idle_cpu_pct", "server CPU before they fall due, %"},
    {"fanout", "chunk_frames_per_s", "chunk frames/s delivered"},
    {"fanout", "delay_p99_ms", "delay behind the first socket p99, ms"},
    {"fanout", "round_p99_ms", "send to last socket's complete p99, ms"},
    {"churn", "sessions_per_s", "sessions/s"},
    {"churn", "loop_p99_ms", "create-connect-reply-close p99, ms"},
};

// The scenarios in table order, each with the rows of figures it reports: a
// variant (another load on the same scenario) reports its scenario's rows.
struct scenario_rows {
  const char* name;
  const char* rows;
};

const scenario_rows scenario_order[] = {
    {"throughput", "throughput"}, {"footprint", "footprint"},
    {"capacity", "capacity"},     {"paced", "paced"},
    {"paced_steady", "paced"},    {"timers", "timers"},
    {"fanout", "fanout"},         {"churn", "churn"},
};

using results = std::map<std::string, std::map<std::string, json>>;

results load(const std::string& path) {
  results r;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("{\"scenario\"", 0) != 0)
      continue;
    auto j = json::parse(line, nullptr, false);
    if (!j.is_object() || !j["scenario"].is_string()
        || !j["target"].is_string())
      continue;
    r[j["scenario"].get<std::string>()][j["target"].get<std::string>()] = j;
  }
  return r;
}

std::string number(double v) {
  char buf[64];
  double a = std::fabs(v);
  if (a >= 10000) {
    // Thousands separators: 138,412.
    auto n = static_cast<long long>(std::llround(v));
    std::string digits = std::to_string(n < 0 ? -n : n);
    std::string out;
    int count = 0;
    for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
      if (count > 0 && count % 3 == 0)
        out.insert(out.begin(), ',');
      out.insert(out.begin(), *it);
      ++count;
    }
    return n < 0 ? "-" + out : out;
  }
  if (a >= 100 || v == std::floor(v))
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else if (a >= 10)
    std::snprintf(buf, sizeof buf, "%.1f", v);
  else if (a >= 1)
    std::snprintf(buf, sizeof buf, "%.2f", v);
  else
    std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

std::optional<double> value(const results& r, const std::string& scenario,
                            const std::string& target, const char* key) {
  auto s = r.find(scenario);
  if (s == r.end())
    return std::nullopt;
  auto t = s->second.find(target);
  if (t == s->second.end())
    return std::nullopt;
  const auto& j = t->second;
  if (!j.contains(key) || !j[key].is_number())
    return std::nullopt;
  return j[key].get<double>();
}

// What a cell says when there is no number: why.
std::string cell(const results& r, const std::string& scenario,
                 const std::string& target, const char* key) {
  if (auto v = value(r, scenario, target, key))
    return number(*v);
  auto s = r.find(scenario);
  if (s != r.end()) {
    auto t = s->second.find(target);
    if (t != s->second.end() && t->second.contains("skipped"))
      return "— (" + t->second["skipped"].get<std::string>() + ")";
    if (t != s->second.end())
      return "n/a";
  }
  return "not run";
}

std::string errors_cell(const results& r, const std::string& scenario,
                        const std::string& target) {
  auto s = r.find(scenario);
  if (s == r.end())
    return "";
  auto t = s->second.find(target);
  if (t == s->second.end() || t->second.contains("skipped"))
    return "";
  const auto& j = t->second;
  std::string out;
  if (j.value("errors", 0) > 0)
    out += number(j["errors"].get<double>()) + " errors";
  if (j.value("timed_out", false))
    out += out.empty() ? "timed out" : ", timed out";
  if (j.contains("server_exit"))
    out += (out.empty() ? "" : ", ") + j["server_exit"].get<std::string>();
  return out;
}

void comparison(std::ostream& out, const results& now,
                const std::optional<results>& before) {
  out << "| scenario | figure | parley | node-ws | parley / node-ws |";
  if (before)
    out << " parley, previous run |";
  out << "\n|---|---|---:|---:|---:|";
  if (before)
    out << "---:|";
  out << "\n";
  for (const auto& [scenario, rows] : scenario_order) {
    if (now.find(scenario) == now.end())
      continue;
    for (const auto& f : figures_table) {
      if (std::string(f.scenario) != rows)
        continue;
      auto p = value(now, scenario, "parley", f.key);
      auto n = value(now, scenario, "node-ws", f.key);
      std::string ratio = "";
      if (p && n && *n != 0)
        ratio = number(*p / *n) + "×";
      out << "| " << scenario << " | " << f.label << " | "
          << cell(now, scenario, "parley", f.key) << " | "
          << cell(now, scenario, "node-ws", f.key) << " | " << ratio << " |";
      if (before) {
        auto b = value(*before, scenario, "parley", f.key);
        out << " " << (b ? number(*b) : "") << " |";
      }
      out << "\n";
    }
    auto pe = errors_cell(now, scenario, "parley");
    auto ne = errors_cell(now, scenario, "node-ws");
    if (!pe.empty() || !ne.empty()) {
      out << "| " << scenario << " | **problems** | " << pe << " | " << ne
          << " | |";
      if (before)
        out << " |";
      out << "\n";
    }
  }
}

// parley beside parley_floor (bench/floor_server.cpp), the least server of
// the same protocol, in the scenarios where run.sh plays it.
void yardstick(std::ostream& out, const results& now) {
  out << "| scenario | figure | parley | parley_floor | parley / floor |\n"
         "|---|---|---:|---:|---:|\n";
  for (const auto& [scenario, rows] : scenario_order) {
    auto s = now.find(scenario);
    if (s == now.end() || s->second.find("floor") == s->second.end())
      continue;
    for (const auto& f : figures_table) {
      if (std::string(f.scenario) != rows)
        continue;
      auto p = value(now, scenario, "parley", f.key);
      auto fl = value(now, scenario, "floor", f.key);
      std::string ratio;
      if (p && fl && *fl != 0)
        ratio = number(*p / *fl) + "×";
      out << "| " << scenario << " | " << f.label << " | "
          << cell(now, scenario, "parley", f.key) << " | "
          << cell(now, scenario, "floor", f.key) << " | " << ratio << " |\n";
    }
  }
}

// The targets, checked against this run; beside each, what
// parley_floor measured where it played the scenario.
void targets(std::ostream& out, const results& r) {
  out << "| target (issue 7) | measured | met | parley_floor |\n"
         "|---|---|---|---|\n";
  auto row = [&](const std::string& target, std::optional<double> measured,
                 const std::string& unit, std::optional<bool> met,
                 std::optional<double> floor = std::nullopt) {
    out << "| " << target << " | "
        << (measured ? number(*measured) + unit : std::string("not measured"))
        << " | "
        << (!met   ? "?"
            : *met ? "yes"
                   : "**no**")
        << " | " << (floor ? number(*floor) + unit : std::string()) << " |\n";
  };
  auto cmp = [](std::optional<double> v, auto pred) -> std::optional<bool> {
    if (!v)
      return std::nullopt;
    return pred(*v);
  };
  auto p = value(r, "throughput", "parley", "chunk_frames_per_s");
  auto n = value(r, "throughput", "node-ws", "chunk_frames_per_s");
  auto f = value(r, "throughput", "floor", "chunk_frames_per_s");
  std::optional<double> x;
  std::optional<double> fx;
  if (p && n && *n > 0)
    x = *p / *n;
  if (f && n && *n > 0)
    fx = *f / *n;
  row("throughput ≥ 5× the peer's chunk frames/s", x, "×",
      cmp(x, [](double v) { return v >= 5; }), fx);
  auto kb = value(r, "footprint", "parley", "kb_per_session");
  row("≤ 6 KB server RSS per idle session", kb, " KB",
      cmp(kb, [](double v) { return v <= 6; }),
      value(r, "footprint", "floor", "kb_per_session"));
  // "1,000 concurrent replies" read two ways: all started within one pacing
  // interval (paced), or started over a reply's length so that 1,000 run at
  // every moment (paced_steady).
  for (const char* paced : {"paced", "paced_steady"}) {
    auto d99 = value(r, paced, "parley", "delay_p99_ms");
    row(std::string(paced) + ": p99 added delay ≤ 1 ms", d99, " ms",
        cmp(d99, [](double v) { return v <= 1; }),
        value(r, paced, "floor", "delay_p99_ms"));
    // The first chunk of a reply is due at once (chunk i at i × pace), so
    // "≤ 2 ms above the pacing" is a time to first chunk of ≤ 2 ms.
    auto t99 = value(r, paced, "parley", "ttfc_p99_ms");
    row(std::string(paced)
          + ": time to first chunk p99 ≤ 2 ms above the pacing",
        t99, " ms", cmp(t99, [](double v) { return v <= 2; }),
        value(r, paced, "floor", "ttfc_p99_ms"));
  }
  auto late = value(r, "timers", "parley", "lateness_p99_ms");
  auto got = value(r, "timers", "parley", "received");
  auto want = value(r, "timers", "parley", "expected");
  std::optional<bool> all_in;
  if (got && want)
    all_in = *got == *want;
  row("timers: every warning arrives", got, want ? " of " + number(*want) : "",
      all_in);
  row("timers: p99 lateness ≤ 20 ms", late, " ms",
      cmp(late, [](double v) { return v <= 20; }));
  auto idle = value(r, "footprint", "parley", "server_idle_cpu_pct");
  row("zero CPU spin while idle (footprint idle window)", idle, " % CPU",
      cmp(idle, [](double v) { return v < 0.1; }),
      value(r, "footprint", "floor", "server_idle_cpu_pct"));
  auto held = value(r, "capacity", "parley", "sessions");
  auto asked = value(r, "capacity", "parley", "conns");
  std::optional<bool> held_all;
  if (held && asked && *asked >= 19000)
    held_all = *held == *asked;
  row("a process holds 19,000 concurrent sessions", held, " sessions",
      held_all);
}

} // namespace

int run_report(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: parley_loadgen report RESULTS.jsonl "
                 "[--previous OLD.jsonl]\n";
    return 1;
  }
  auto now = load(argv[2]);
  std::optional<results> before;
  if (argc >= 5 && std::string(argv[3]) == "--previous") {
    auto old = load(argv[4]);
    if (!old.empty())
      before = std::move(old);
  }
  comparison(std::cout, now, before);
  std::cout << "\n";
  targets(std::cout, now);
  std::cout << "\n## parley beside the least server (parley_floor)\n\n"
               "parley_floor (bench/floor_server.cpp) plays the node-ws "
               "peer's protocol\nin C++ on one thread and does nothing else: "
               "no storage, no actors,\nno sessions kept, one write per frame. "
               "Its figures are what a plain\nserver reaches on this machine "
               "with this load generator, before any\nserver logic.\n\n";
  yardstick(std::cout, now);
  return 0;
}

} // namespace parley::bench
