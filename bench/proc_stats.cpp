#include "bench/proc_stats.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

namespace parley::bench {

namespace {

std::string proc_path(pid_t pid, const char* leaf) {
  return "/proc/" + std::to_string(pid) + "/" + leaf;
}

// The sum over the threads of `pid` of one field of
// /proc/<pid>/task/*/schedstat: 0 is the time run (ns), 2 the times switched
// in.
std::optional<double> schedstat_sum(pid_t pid, int field) {
  auto dir_name = proc_path(pid, "task");
  DIR* dir = opendir(dir_name.c_str());
  if (dir == nullptr)
    return std::nullopt;
  double total = 0;
  bool any = false;
  while (auto* entry = readdir(dir)) {
    if (entry->d_name[0] == '.')
      continue;
    std::ifstream in(dir_name + "/" + entry->d_name + "/schedstat");
    double value = 0;
    for (int i = 0; i <= field && (in >> value); ++i)
      if (i == field) {
        total += value;
        any = true;
      }
  }
  closedir(dir);
  if (!any)
    return std::nullopt;
  return total;
}

std::optional<double> stat_seconds(pid_t pid) {
  std::ifstream in(proc_path(pid, "stat"));
  std::string line;
  if (!std::getline(in, line))
    return std::nullopt;
  // The command name (field 2) may hold spaces and parentheses: fields are
  // counted from the last ')'. utime and stime are fields 14 and 15.
  auto close = line.rfind(')');
  if (close == std::string::npos)
    return std::nullopt;
  std::istringstream fields(line.substr(close + 1));
  std::string field;
  double utime = 0;
  double stime = 0;
  for (int n = 3; n <= 15 && (fields >> field); ++n) {
    if (n == 14)
      utime = std::stod(field);
    else if (n == 15)
      stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

} // namespace

std::optional<long> read_rss_kb(pid_t pid) {
  std::ifstream in(proc_path(pid, "status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  }
  return std::nullopt;
}

std::optional<double> read_cpu_seconds(pid_t pid) {
  if (auto ns = schedstat_sum(pid, 0))
    return *ns / 1e9;
  return stat_seconds(pid);
}

std::optional<double> read_switches(pid_t pid) {
  return schedstat_sum(pid, 2);
}

double self_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6;
  };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

std::optional<double> percentile(std::vector<double>& samples, double p) {
  if (samples.empty())
    return std::nullopt;
  auto n = samples.size();
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * n));
  auto index = std::min(n - 1, rank == 0 ? 0 : rank - 1);
  std::nth_element(samples.begin(), samples.begin() + index, samples.end());
  return samples[index];
}

long raise_nofile_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
    return -1;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  return static_cast<long>(lim.rlim_cur);
}

} // namespace parley::bench
