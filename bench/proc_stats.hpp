#pragma once

// What the load generator reads about processes: the server's resident set
// and CPU time from /proc, its own CPU time from getrusage, and percentiles
// of the samples it collected. Linux only, as the benchmark is.

#include <sys/types.h>

#include <optional>
#include <vector>

namespace parley::bench {

// Resident set of `pid` in KiB (VmRSS of /proc/<pid>/status).
std::optional<long> read_rss_kb(pid_t pid);

// CPU time (user + system, all threads) `pid` has used, in seconds. Sums the
// per-thread /proc/<pid>/task/*/schedstat run times (nanoseconds) when the
// kernel has them, because idle windows of a few seconds need better than the
// 10 ms ticks of /proc/<pid>/stat, which is the fallback.
std::optional<double> read_cpu_seconds(pid_t pid);

// How often the threads of `pid` were switched in (from schedstat): each
// is a wake-up or a return after preemption, the cost that batching saves.
std::optional<double> read_switches(pid_t pid);

// User + system CPU time of this process, in seconds.
double self_cpu_seconds();

// Nearest-rank percentile, p in [0, 100]; partially reorders `samples`.
// Empty samples have none.
std::optional<double> percentile(std::vector<double>& samples, double p);

// Raises the soft descriptor limit to the hard one; returns the new soft
// limit.
long raise_nofile_limit();

} // namespace parley::bench
