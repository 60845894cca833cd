#!/usr/bin/env bash
# ctest bench.smoke: every scenario of the load generator at tiny scale (a few
# connections, two replies) against a real parley started here on a free
# loopback port with a temporary database. It checks that the generator
# exits 0 (no errors, no timeout) and prints its JSON line; it asserts no
# timings. Then throughput and paced against parley_floor, the yardstick
# bench/run.sh plays them against.
#
#   bench/smoke.sh PARLEY_BINARY LOADGEN_BINARY FLOOR_BINARY
set -euo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 PARLEY_BINARY LOADGEN_BINARY FLOOR_BINARY" >&2
  exit 2
fi
parley=$1
loadgen=$2
floor=$3
words=5

dir=$(mktemp -d "${TMPDIR:-/tmp}/parley-bench-smoke.XXXXXX")
pid=
floor_pid=
cleanup() {
  if [ -n "$floor_pid" ]; then
    kill "$floor_pid" 2>/dev/null || true
    wait "$floor_pid" 2>/dev/null || true
  fi
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    # The server's shutdown is not under test here: give it 5 s, then kill.
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "note: parley did not exit within 5 s of SIGTERM; killed" >&2
      kill -9 "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

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
  return 1
}

healthy() {
  local reply request
  request='GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n'
  request+='Connection: close\r\n\r\n'
  reply=$( (exec 3<>"/dev/tcp/127.0.0.1/$1" &&
            printf '%b' "$request" >&3 &&
            timeout 2 cat <&3) 2>/dev/null || true)
  [[ $reply == *'"status":"ok"'* ]]
}

port=$(free_port)
PARLEY_HOST=127.0.0.1 PARLEY_PORT=$port \
  PARLEY_DATABASE_URL="sqlite:$dir/smoke.db" \
  PARLEY_BUILTIN_WORDS=$words PARLEY_STREAM_DELAY_MS=0 \
  PARLEY_IDLE_WARNING_SECONDS=1 PARLEY_SESSION_END_SECONDS=600 \
  "$parley" >"$dir/parley.log" 2>&1 &
pid=$!

for _ in $(seq 1 100); do
  healthy "$port" && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "parley exited at start-up:" >&2
    cat "$dir/parley.log" >&2
    exit 1
  fi
  sleep 0.1
done
if ! healthy "$port"; then
  echo "parley did not answer /healthz on port $port" >&2
  exit 1
fi

common=(--port "$port" --words "$words" --server-pid "$pid" --timeout 30
        --verify)
failed=0
run() {
  local scenario=$1
  shift
  echo "== $scenario $*"
  local out rc=0
  out=$("$loadgen" "$scenario" "${common[@]}" "$@") || rc=$?
  echo "$out"
  if [ "$rc" -ne 0 ]; then
    echo "FAIL: $scenario exited $rc" >&2
    failed=1
  elif ! grep -q "^{\"scenario\":\"$scenario\"" <<<"$out"; then
    echo "FAIL: $scenario printed no JSON line" >&2
    failed=1
  fi
}

run throughput --conns 3 --replies 2
run footprint --conns 3 --idle-seconds 0.2 --settle-seconds 0.1
run paced --conns 3 --replies 2 --pace-ms 0
run fanout --conns 3 --replies 2
run churn --conns 2 --duration 0.5
# Last: its sessions go idle for a second; the others' may warn meanwhile.
run timers --conns 3 --warning-seconds 1 --grace-seconds 2

if ! kill -0 "$pid" 2>/dev/null; then
  echo "FAIL: parley died during the run:" >&2
  tail -20 "$dir/parley.log" >&2
  failed=1
fi

floor_port=$(free_port)
PORT=$floor_port WORDS=$words DELAY_MS=0 "$floor" >"$dir/floor.log" 2>&1 &
floor_pid=$!
for _ in $(seq 1 50); do
  port_in_use "$floor_port" && break
  sleep 0.1
done
common=(--port "$floor_port" --words "$words" --server-pid "$floor_pid"
        --timeout 30 --verify --target floor)
run throughput --conns 3 --replies 2
run paced --conns 3 --replies 2 --pace-ms 0
exit "$failed"
