#pragma once

namespace parley::bench {

// `parley_loadgen report RESULTS.jsonl [--previous OLD.jsonl]`: prints the
// Markdown tables of BENCHMARKS.md (comparison, targets) built from the JSON
// lines of a run.
int run_report(int argc, char** argv);

} // namespace parley::bench
