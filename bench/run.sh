#!/usr/bin/env bash
# The benchmark of issue 7 in one command: builds parley and parley_loadgen in
# Release, then for each scenario starts a fresh parley on a loopback port
# with a temporary SQLite database and the scenario's settings, runs the load
# generator, stops parley, and does the same against the node-ws peer where
# the peer can play the scenario, and (throughput, footprint, paced, paced_steady) against
# parley_floor, the least server of the same protocol (bench/floor_server.cpp):
# what a plain server reaches on this machine with this generator. Writes
# BENCHMARKS.md (tables, command, machine, date, JSON lines): the file is this
# script's output, never edited by hand.
#
#   bench/run.sh                 full scale; writes ./BENCHMARKS.md
#   bench/run.sh --quick         tiny scale, a few seconds per scenario; writes
#                                build-release/bench-results/BENCHMARKS.md
#   bench/run.sh --only throughput,paced --out /tmp/b.md
#
# Options:
#   --quick           tiny scale (smoke-sized), not for figures
#   --only LIST       comma-separated scenarios: throughput footprint capacity
#                     paced paced_steady timers fanout churn storage
#                     (storage: messages persisted per second through the
#                     storage actor, SQLite and a throwaway PostgreSQL; issue
#                     3. instructions: the server's instructions per reply
#                     and per chunk, counted by callgrind; needs valgrind;
#                     not in --quick)
#   --out FILE        where to write the report (a partial or quick run never
#                     overwrites ./BENCHMARKS.md unless told to here)
#   --no-build        use the binaries already in build-release
#   --no-peer         parley only
#   --threads N       load generator threads [1]
#
# Environment:
#   NODE_WS_DIR            the peer [../shared/peers/node-ws beside the repo]
#   BENCH_ARGS_<scenario>  extra load generator flags for one scenario, e.g.
#                          BENCH_ARGS_footprint="--conns 2000" (the later
#                          flag wins)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
command_line="bench/run.sh${*:+ $*}"

quick=0
only=""
out=""
build=1
peer=1
threads=1
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 ;;
    --only) only=$2; shift ;;
    --out) out=$2; shift ;;
    --no-build) build=0 ;;
    --no-peer) peer=0 ;;
    --threads) threads=$2; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown option $1" >&2; exit 1 ;;
  esac
  shift
done

all_scenarios="throughput footprint capacity paced paced_steady timers fanout churn"
all_scenarios+=" storage instructions"
scenarios=${only//,/ }
scenarios=${scenarios:-$all_scenarios}
for s in $scenarios; do
  [[ " $all_scenarios " == *" $s "* ]] ||
    { echo "bench/run.sh: unknown scenario $s" >&2; exit 1; }
done
if [ -z "$out" ]; then
  if [ "$quick" = 1 ] || [ -n "$only" ]; then
    out="build-release/bench-results/BENCHMARKS.md"
  else
    out=BENCHMARKS.md
  fi
fi
mode=$([ "$quick" = 1 ] && echo quick || echo full)
# Seconds a server gets to exit after SIGTERM before it is killed.
stop_grace=$([ "$quick" = 1 ] && echo 2 || echo 5)

peer_dir=${NODE_WS_DIR:-$repo/../shared/peers/node-ws}
if [ "$peer" = 1 ] && [ ! -x "$peer_dir/start.sh" ]; then
  echo "bench/run.sh: no node-ws peer at $peer_dir; running parley only" >&2
  peer=0
fi

if [ "$build" = 1 ]; then
  cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build-release -j2 --target parley parley_loadgen \
    parley_floor parley_storage_bench
fi
parley_bin=$repo/build-release/parley
loadgen=$repo/build-release/bench/parley_loadgen
floor_bin=$repo/build-release/bench/parley_floor
for b in "$parley_bin" "$loadgen" "$floor_bin"; do
  [ -x "$b" ] || { echo "bench/run.sh: $b is missing" >&2; exit 1; }
done

results_dir=$repo/build-release/bench-results
mkdir -p "$results_dir" "$(dirname "$out")"
results=$results_dir/results.jsonl
# Other work on the machine skews every figure: record how busy it was.
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$results"
notes=()
tmp=$(mktemp -d "${TMPDIR:-/tmp}/parley-bench.XXXXXX")
server_pid=

stop_server() {
  local pid=$1 label=$2
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 "$((stop_grace * 10))"); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      add_note "$label did not exit within $stop_grace s of SIGTERM;" \
        "killed it."
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  stop_server "$server_pid" "server"
  rm -rf "$tmp"
}
trap cleanup EXIT

add_note() {
  local n note="$*"
  for n in "${notes[@]+"${notes[@]}"}"; do
    [ "$n" = "$note" ] && return 0
  done
  notes+=("$note")
}

# A JSON line for a scenario and target that has no figures, and why.
json_skip() {
  printf '{"scenario":"%s","target":"%s","skipped":"%s"}\n' "$1" "$2" "$3"
}

# The servers and the generator may hold 19,000 sockets each.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
  local p
  for _ in $(seq 1 50); do
    # Below the ephemeral range (32768+ here), where the generator's own
    # connections would collide with the listener.
    p=$((10000 + RANDOM % 20000))
    if ! port_in_use "$p"; then
      echo "$p"
      return 0
    fi
  done
  echo "bench/run.sh: no free port found" >&2
  return 1
}

# Any HTTP answer on the port means the server is serving.
http_up() {
  local reply request
  request="GET $2 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
  reply=$( (exec 3<>"/dev/tcp/127.0.0.1/$1" &&
            printf '%b' "$request" >&3 &&
            timeout 2 head -c 12 <&3) 2>/dev/null || true)
  [[ $reply == HTTP/1.1\ 2* || ( $2 == / && $reply == HTTP/1.1* ) ]]
}

wait_up() {
  local port=$1 path=$2 pid=$3
  for _ in $(seq 1 300); do
    http_up "$port" "$path" && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# start_parley PORT DELAY_MS WARNING_S WORDS: fresh database, builtin agent,
# run under parley_wrapper (a command prefix, empty but for callgrind).
parley_wrapper=()
start_parley() {
  local port=$1 delay=$2 warning=$3 words=$4 db
  db=$(mktemp -d "$tmp/db.XXXXXX")/parley.db
  PARLEY_HOST=127.0.0.1 PARLEY_PORT=$port \
    PARLEY_DATABASE_URL="sqlite:$db" PARLEY_AGENT=builtin \
    PARLEY_BUILTIN_WORDS=$words PARLEY_STREAM_DELAY_MS=$delay \
    PARLEY_IDLE_WARNING_SECONDS=$warning \
    PARLEY_SESSION_END_SECONDS=$((warning * 2 + 3600)) \
    "${parley_wrapper[@]}" "$parley_bin" >"$log" 2>&1 &
  server_pid=$!
  wait_up "$port" /healthz "$server_pid"
}

# start_plain COMMAND PORT DELAY_MS WORDS: the node-ws peer or parley_floor,
# which take the same environment.
start_plain() {
  local cmd=$1 port=$2 delay=$3 words=$4
  PORT=$port WORDS=$words DELAY_MS=$delay "$cmd" >"$log" 2>&1 &
  server_pid=$!
  wait_up "$port" / "$server_pid"
}

# run_one SCENARIO TARGET DELAY_MS WARNING_S WORDS LOADGEN_ARGS...
run_one() {
  local name=$1 target=$2 delay=$3 warning=$4 words=$5
  shift 5
  local port rc=0 output line extra_var extra
  log=$results_dir/$name-$target.log
  # A port found free can be taken before the server binds it: try again.
  for _ in 1 2 3; do
    port=$(free_port)
    echo "== $name / $target (port $port)"
    rc=0
    case $target in
      parley) start_parley "$port" "$delay" "$warning" "$words" || rc=$? ;;
      floor) start_plain "$floor_bin" "$port" "$delay" "$words" || rc=$? ;;
      *) start_plain "$peer_dir/start.sh" "$port" "$delay" "$words" || rc=$? ;;
    esac
    if [ "$rc" -eq 0 ] || ! grep -qi "in use" "$log"; then
      break
    fi
    stop_server "$server_pid" "$target"
    server_pid=
  done
  if [ "$rc" -ne 0 ]; then
    echo "   $target did not start; see $log" >&2
    json_skip "$name" "$target" "server did not start" >>"$results"
    stop_server "$server_pid" "$target"
    server_pid=
    return 0
  fi
  extra_var=BENCH_ARGS_$name
  extra=${!extra_var:-}
  local round lines=""
  for ((round = 1; round <= ${rounds[$name]:-1}; round++)); do
    # shellcheck disable=SC2086 # extra holds several flags
    output=$("$loadgen" "$@" --port "$port" --target "$target" \
               --name "$name" --words "$words" --threads "$threads" \
               --server-pid "$server_pid" \
               $extra) || rc=$?
    echo "$output" | grep -v '^{' | sed 's/^/   /'
    lines+=$(echo "$output" | grep '^{"scenario"' | tail -1 || true)$'\n'
  done
  line=$(median_line "$name" "$lines")
  if [ "${rounds[$name]:-1}" -gt 1 ] && [ -n "$line" ]; then
    add_note "$name, $target: ${median_key[$name]} in each round:" \
      "$(round_values "$name" "$lines" \
          | awk '{ v = $1; if (v >= 1000) v = sprintf("%.0f", v)
                 printf "%s%s", (NR > 1 ? ", " : ""), v }');" \
      "the table shows the round with the median."
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    local status=0
    wait "$server_pid" 2>/dev/null || status=$?
    add_note "$target exited during $name (status $status);" \
      "see build-release/bench-results/$name-$target.log."
    if [ -n "$line" ]; then
      local exit_field="\"server_exit\":\"exited during the run ($status)\""
      line="${line%\}},$exit_field}"
    fi
  fi
  if [ -z "$line" ]; then
    line=$(json_skip "$name" "$target" "load generator failed (exit $rc)")
  fi
  echo "$line" >>"$results"
  stop_server "$server_pid" "$target"
  server_pid=
}

# Timings on this VM move by tens of percent from run to run: scenarios that
# take a few seconds run several rounds against the same server, and the
# round with the median of the scenario's main figure stands for them (the
# first round also warms the server up). The others are listed in the notes.
declare -A rounds=() median_key=()
if [ "$quick" = 0 ]; then
  rounds=([throughput]=5 [paced]=3 [paced_steady]=3)
fi
median_key=([throughput]=chunk_frames_per_s [paced]=delay_p99_ms
            [paced_steady]=delay_p99_ms)

# round_values SCENARIO LINES: the median_key value of each JSON line, in
# order, one per line.
round_values() {
  printf '%s\n' "$2" | grep '^{' | grep -o "\"${median_key[$1]}\":[-0-9.e]*" \
    | cut -d: -f2
}

# median_line SCENARIO LINES: of the JSON lines (one per round; a failed
# round left none), the one with the median of its median_key value.
median_line() {
  local all n
  all=$(printf '%s\n' "$2" | grep '^{' || true)
  n=$(printf '%s\n' "$all" | grep -c '^{' || true)
  if [ "$n" -le 1 ] || [ -z "${median_key[$1]:-}" ]; then
    printf '%s\n' "$all" | tail -1
    return
  fi
  paste <(round_values "$1" "$all") <(printf '%s\n' "$all") | sort -g \
    | sed -n "$(((n + 1) / 2))p" | cut -f2-
}

skip_peer() {
  json_skip "$1" node-ws "$2" >>"$results"
}

# scenario NAME PEER DELAY_MS WARNING_S WORDS LOADGEN_ARGS...: PEER is
# "yes" or why the peer cannot play the scenario.
scenario() {
  local name=$1 peer_ok=$2 delay=$3 warning=$4 words=$5
  shift 5
  [[ " $scenarios " == *" $name "* ]] || return 0
  run_one "$name" parley "$delay" "$warning" "$words" "$@"
  if [ "$peer" = 0 ]; then
    skip_peer "$name" "not run"
  elif [ "$peer_ok" = yes ]; then
    run_one "$name" node-ws "$delay" "$warning" "$words" "$@"
  else
    skip_peer "$name" "$peer_ok"
  fi
  if [[ " $floor_scenarios " == *" $name "* ]]; then
    run_one "$name" floor "$delay" "$warning" "$words" "$@"
  fi
}

# Where parley_floor shows what a plain server reaches: the scenarios whose
# targets are absolute figures.
floor_scenarios="throughput footprint paced paced_steady"

no_timers="the peer has no idle timers"
no_sessions="the peer keeps no sessions to share"
if [ "$quick" = 1 ]; then
  scenario throughput yes 0 3600 50 throughput --conns 10 --replies 3
  scenario footprint yes 0 3600 50 footprint --conns 200 --idle-seconds 1 \
    --settle-seconds 0.5
  scenario capacity yes 0 3600 50 footprint --conns 500 --idle-seconds 0.5 \
    --settle-seconds 0.2
  scenario paced yes 20 3600 50 paced --conns 50 --pace-ms 20
  scenario paced_steady yes 20 3600 50 paced --conns 50 --pace-ms 20 \
    --ramp-ms 980 --replies 2
  scenario timers "$no_timers" 0 1 5 timers --conns 100 --warning-seconds 1
  scenario fanout "$no_sessions" 0 3600 50 fanout --conns 20 --replies 2
  scenario churn yes 0 3600 50 churn --conns 5 --duration 1
else
  scenario throughput yes 0 3600 50 throughput
  scenario footprint yes 0 3600 50 footprint
  scenario capacity yes 0 3600 50 footprint --conns 19000 --idle-seconds 2
  scenario paced yes 20 3600 50 paced --pace-ms 20
  # A reply of 50 chunks lasts 980 ms: first messages spread over that long
  # keep 1,000 replies running at every moment, new ones arriving at 1,000/s.
  scenario paced_steady yes 20 3600 50 paced --pace-ms 20 --ramp-ms 980 \
    --replies 3
  scenario timers "$no_timers" 0 5 5 timers --warning-seconds 5
  scenario fanout "$no_sessions" 0 3600 50 fanout
  scenario churn yes 0 3600 50 churn
fi

# Storage (issue 3): not a load generator scenario; the bench program drives
# the storage actor in-process against SQLite and, if PostgreSQL's server
# binaries are installed, a throwaway server started for it.
storage_table=$tmp/storage.txt
if [[ " $scenarios " == *" storage "* ]]; then
  storage_bench=$repo/build-release/storage/bench/parley_storage_bench
  storage_args=()
  [ "$quick" = 1 ] && storage_args=(--scale 0.05)
  echo "== storage"
  if ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || [ -n "${PG_BINDIR:-}" ]; then
    scripts/pg-test-env.sh -- "$storage_bench" "${storage_args[@]}" \
      | tee "$storage_table"
  else
    add_note "storage: no PostgreSQL server binaries; SQLite only."
    "$storage_bench" "${storage_args[@]}" | tee "$storage_table"
  fi
fi

# Instructions: timings on this VM move by ±30 % from run to run, instruction
# counts by about 1 %. The server runs under callgrind with instrumentation
# off; after a warm-up (sessions, prepared statements, caches) it counts the
# replies of a throughput run. Only the server's user space counts: not the
# kernel, not the generator.
instructions_line=""
count_instructions() {
  local words=$1 port out=$tmp/callgrind-$1.out total
  port=$(free_port)
  log=$results_dir/instructions-$words.log
  parley_wrapper=(valgrind --tool=callgrind --instr-atstart=no
                  "--callgrind-out-file=$out")
  if ! start_parley "$port" 0 3600 "$words"; then
    parley_wrapper=()
    stop_server "$server_pid" "parley under callgrind"
    server_pid=
    return 1
  fi
  parley_wrapper=()
  "$loadgen" throughput --port "$port" --words "$words" --conns 20 \
    --replies 5 --timeout 300 >/dev/null
  callgrind_control -i on "$server_pid" >/dev/null 2>&1
  callgrind_control -z "$server_pid" >/dev/null 2>&1
  "$loadgen" throughput --port "$port" --words "$words" --conns 50 \
    --replies 20 --timeout 600 >/dev/null
  callgrind_control -d "$server_pid" >/dev/null 2>&1
  stop_server "$server_pid" "parley under callgrind"
  server_pid=
  total=$(callgrind_annotate "$out.1" 2>/dev/null |
            sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
  [ -n "$total" ] || return 1
  echo $((total / 1000))
}
if [[ " $scenarios " == *" instructions "* ]]; then
  if [ "$quick" = 1 ]; then
    : # minutes under valgrind: not for a smoke run
  elif ! command -v valgrind >/dev/null || ! command -v callgrind_control \
         >/dev/null; then
    add_note "instructions: valgrind is not installed; not counted."
  else
    echo "== instructions (parley under callgrind)"
    if per_reply=$(count_instructions 1) && per_50=$(count_instructions 50)
    then
      per_chunk=$(((per_50 - per_reply) / 49))
      instructions_line="$per_reply $per_50 $per_chunk"
      echo "   per 1-word reply $per_reply, per 50-word reply $per_50," \
        "per chunk $per_chunk"
    else
      add_note "instructions: callgrind did not count; see" \
        "build-release/bench-results/instructions-*.log."
    fi
  fi
fi

# -- BENCHMARKS.md ---------------------------------------------------------

previous=$tmp/previous.jsonl
previous_date=""
: >"$previous"
: >"$tmp/previous.md"
if [ -f "$out" ] && grep -q "^<!-- bench-mode: $mode -->" "$out"; then
  cp "$out" "$tmp/previous.md"
  previous_date=$(sed -n 's/^<!-- bench-date: \(.*\) -->$/\1/p' "$out" |
                    head -1)
  grep '^{"scenario"' "$out" >"$previous" || true
fi
report_args=("$results")
if [ -s "$previous" ]; then
  report_args+=(--previous "$previous")
fi

cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
mem_kb=$(sed -n 's/^MemTotal:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/meminfo)
mem_gib=$(awk -v kb="$mem_kb" 'BEGIN { printf "%.1f", kb / 1048576 }')
date_utc=$(date -u '+%Y-%m-%d %H:%M UTC')
revision=$(git rev-parse --short HEAD 2>/dev/null || echo "no commit yet")
if [ -n "$(git status --porcelain 2>/dev/null | head -1)" ]; then
  revision="$revision (with uncommitted changes)"
fi
node_version=$(node --version 2>/dev/null || echo "none")
gxx_version=$(g++ -dumpfullversion 2>/dev/null || echo "?")

{
  echo "# Benchmarks"
  echo
  echo "<!-- Written by bench/run.sh; do not edit by hand: re-run it. -->"
  echo "<!-- bench-mode: $mode -->"
  echo "<!-- bench-date: $date_utc -->"
  echo
  echo "parley against the node \`ws\` peer (../shared/peers/node-ws), both"
  echo "on 127.0.0.1 with the load generator (bench/loadgen.cpp) on the same"
  echo "machine, in the same run. Issue 7 defines the scenarios and targets."
  if [ "$mode" = quick ]; then
    echo
    echo "**Quick mode: tiny scale; the figures only show that the tool"
    echo "works.**"
  fi
  echo
  echo "- Command: \`$command_line\`"
  echo "- Date: $date_utc; parley revision: $revision"
  echo "- Machine: $(nproc) cores ($cpu_model), $mem_gib GiB memory," \
    "Linux $(uname -r)"
  echo "- Build: Release, g++ $gxx_version; node $node_version"
  echo "- Load average when the run started: $load_at_start; when it ended:" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- Load generator threads: $threads"
  echo
  echo "## Results"
  echo
  if [ -s "$previous" ]; then
    echo "The last column is parley in the previous $mode run ($previous_date),"
    echo "for before/after comparisons."
    echo
  fi
  "$loadgen" report "${report_args[@]}"
  echo
  if [ -s "$storage_table" ]; then
    echo "## Storage: messages persisted per second (issue 3)"
    echo
    echo "\`parley_storage_bench\` (storage/bench/storage_bench.cpp): writers"
    echo "each wait for one save_message acknowledgement (the write is"
    echo "committed) before sending the next, through the same storage"
    echo "service the engine runs (lanes of detached storage actors with"
    echo "group commit); for comparison the same inserts one transaction"
    echo "each, and the store's own batched write. The PostgreSQL server"
    echo "runs on the same two cores (scripts/pg-test-env.sh). \"in tx\" is"
    echo "the share of the run spent inside the database calls."
    echo
    echo '```'
    cat "$storage_table"
    echo '```'
    echo
  fi
  if [ -n "$instructions_line" ]; then
    read -r per_reply per_50 per_chunk <<<"$instructions_line"
    read -r old_reply old_50 old_chunk <<<"$(sed -n \
      's/^<!-- instructions: \(.*\) -->$/\1/p' "$tmp/previous.md" | head -1)"
    echo "## Instructions per reply (callgrind)"
    echo
    echo "<!-- instructions: $instructions_line -->"
    echo "The server's user-space instructions (valgrind --tool=callgrind),"
    echo "counted over 1,000 unpaced replies (50 connections × 20) after a"
    echo "warm-up: they repeat within about 1 % where timings on this VM move"
    echo "by ±30 %. The kernel's share (sockets, wake-ups, file writes) is not"
    echo "in them. A chunk's cost is the difference between 50-word and 1-word"
    echo "replies over the 49 extra chunks."
    echo
    echo "| figure | instructions | previous run |"
    echo "|---|---:|---:|"
    echo "| per reply of 1 word | $per_reply | ${old_reply:-} |"
    echo "| per reply of 50 words | $per_50 | ${old_50:-} |"
    echo "| per chunk | $per_chunk | ${old_chunk:-} |"
    echo
  fi
  if [ "${#notes[@]}" -gt 0 ]; then
    echo "## Notes from this run"
    echo
    for n in "${notes[@]}"; do
      echo "- $n"
    done
    echo
  fi
  cat <<'EOF'
## What the figures mean

- **throughput**: 100 connections, each sends its next message as soon as the
  previous reply's `complete` arrives, 20 replies of 50 words each, unpaced
  (PARLEY_STREAM_DELAY_MS=0, peer DELAY_MS=0). Chunk frames/s and replies/s
  over the whole run; time to first chunk from sending the message. Five
  rounds against one server; the table shows the round with the median chunk
  frames/s (the notes list all five).
- **footprint**: 10,000 sessions (parley: created over REST), each connected
  and having had one reply, then idle. RSS per session is (server RSS after −
  before) / sessions, read from /proc/PID/status; idle CPU is the server's
  CPU time (/proc/PID/task/*/schedstat) over a 5 s idle window.
- **capacity**: the footprint scenario at 19,000 sessions (the descriptor
  limit per process is 20,000).
- **paced**: 1,000 concurrent replies paced at 20 ms per chunk, first
  messages spread over one pacing interval; three rounds against one server,
  the table shows the round with the median p99 delay. The delay of chunk i is its
  arrival minus (first chunk's arrival + i × 20 ms); the last chunk's delay
  shows drift that adds up along a reply. The gap figure is the time between
  consecutive chunks minus 20 ms. parley paces chunk i at (reply start + i ×
  20 ms), so when the first chunk waited in the server's backlog of new
  messages, the later chunks, back on that schedule, count as early
  (negative delays); the time to first chunk shows that wait.
- **paced_steady**: the same replies with the first messages spread over
  980 ms, one reply's length, and three replies per connection: from then on
  1,000 replies run at every moment and new messages arrive at 1,000/s, where
  **paced** starts all 1,000 within 20 ms (50,000 messages/s for that
  moment). The issue's "1,000 concurrent replies" reads either way; the
  targets table checks both.
- **parley_floor** (bench/floor_server.cpp): the node-ws peer's protocol in
  C++ on one thread and nothing else (no storage, no actors, one write per
  frame). Its throughput, footprint and paced figures are the yardstick: a
  target that parley_floor misses is beyond what a plain one-thread server
  reaches on this machine with this generator, before any server logic.
- **timers**: 10,000 sessions with PARLEY_IDLE_WARNING_SECONDS=5 send one
  message each at once. Their replies have 5 words (PARLEY_BUILTIN_WORDS=5),
  so that the warnings measure the timers rather than the backlog of a
  500,000-frame burst. Lateness is the `idle_warning` arrival minus (the
  `complete` arrival + 5 s); negative values mean the server's clock started
  before our `complete` arrived (the second lateness figure counts from the
  message sent instead). Server CPU is measured from the last `complete`
  until 0.3 s before the first warning can fall due.
- **fanout**: one session open in 1,000 sockets
  (`/ws/chat/?session_id=&visitor_id=`); the first sends 10 messages one
  after another, each when every socket has the previous `complete`.
  Frames/s counts chunk frames received by all sockets; delay is each
  socket's lag behind the first socket to receive the same chunk.
- **churn**: 50 loops of create session → connect → one reply → close, for
  10 s: completed sessions per second.
- CPU figures are in % of one core (200 % = both cores of this machine).
  The generator reports its own CPU so that a saturated generator is not
  mistaken for a slow server.

## JSON lines

EOF
  echo '```json'
  cat "$results"
  echo '```'
} >"$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
