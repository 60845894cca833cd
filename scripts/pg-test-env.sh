#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and benchmarks: a temp dir, initdb,
# a free loopback port, a database with a password-protected owner. Stops the
# server and deletes everything on exit (also on Ctrl-C or ctest's timeout).
#
#   scripts/pg-test-env.sh                 prints the URL, serves until Ctrl-C
#   scripts/pg-test-env.sh -- CMD ARGS...  runs CMD with the variables below,
#                                          then exits with CMD's status
#
# CMD sees:
#   PARLEY_TEST_DATABASE_URL  postgresql://parley:...@127.0.0.1:PORT/parley_test
#   PARLEY_TEST_DB_STOP       a command that stops the server (fast shutdown)
#   PARLEY_TEST_DB_START      a command that starts it again on the same port
#
# PostgreSQL refuses to run as root, so as root the server runs as the
# `postgres` user (created by Debian's postgresql-15 package). Needs only the
# server binaries: PG_BINDIR, else the newest /usr/lib/postgresql/*/bin.
set -euo pipefail

usage() {
  echo "usage: $0 [-- COMMAND [ARGS...]]" >&2
  exit 2
}

cmd=()
if (($#)); then
  [[ $1 == -- ]] || usage
  shift
  (($#)) || usage
  cmd=("$@")
fi

bindir=${PG_BINDIR:-}
if [[ -z $bindir ]]; then
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 \
    || true)
fi
if [[ -z $bindir || ! -x $bindir/pg_ctl ]]; then
  echo "pg-test-env: no PostgreSQL server binaries (apt-get install" \
    "postgresql-15, or set PG_BINDIR)" >&2
  exit 1
fi

# As root, run every server-side command as postgres; otherwise as ourselves.
as_pg=()
if [[ $(id -u) -eq 0 ]]; then
  if ! id postgres >/dev/null 2>&1; then
    echo "pg-test-env: running as root needs a 'postgres' user" >&2
    exit 1
  fi
  as_pg=(runuser -u postgres --)
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/parley-pg.XXXXXX")
data=$dir/data
log=$dir/server.log
started=0

cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if ((started)); then
    "${as_pg[@]}" "$bindir/pg_ctl" -D "$data" -m immediate -w stop \
      >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

((${#as_pg[@]})) && chown postgres: "$dir"
chmod 700 "$dir"

# Loopback TCP needs the password (so the URL carries one, as in production);
# the admin commands below use the Unix socket in $dir, trusted.
pwfile=$dir/superuser.pw
echo "parley-admin-$RANDOM$RANDOM" >"$pwfile"
((${#as_pg[@]})) && chown postgres: "$pwfile"
"${as_pg[@]}" "$bindir/initdb" -D "$data" -U postgres --pwfile="$pwfile" \
  --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C \
  --no-sync \
  >"$dir/initdb.log" 2>&1 || {
  cat "$dir/initdb.log" >&2
  exit 1
}

# A port the kernel reports free; retried, since another process may take it
# between the check and the bind. Below the ephemeral range (32768+ here):
# the outage test stops the server and starts it again on the same port, and
# meanwhile any outgoing connection on the machine could take that port as
# its own.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

port=
for _ in $(seq 1 20); do
  candidate=$((10000 + RANDOM % 22000))
  port_in_use "$candidate" && continue
  opts="-p $candidate -k $dir -c listen_addresses=127.0.0.1"
  if "${as_pg[@]}" "$bindir/pg_ctl" -D "$data" -l "$log" -o "$opts" -w \
    -t 60 start >/dev/null 2>&1; then
    port=$candidate
    started=1
    break
  fi
  grep -q "already in use" "$log" 2>/dev/null || {
    cat "$log" >&2
    exit 1
  }
done
if [[ -z $port ]]; then
  echo "pg-test-env: found no free port" >&2
  exit 1
fi

# If this script is killed without a chance to clean up (SIGKILL from a
# test timeout), a watchdog outside its process tree stops the server.
(
  setsid bash -c '
    while kill -0 "$1" 2>/dev/null; do sleep 2; done
    if [[ -d $3 ]]; then
      ${4:+runuser -u postgres --} "$2/pg_ctl" -D "$3/data" -m immediate \
        stop >/dev/null 2>&1
      rm -rf "$3"
    fi' watchdog "$$" "$bindir" "$dir" "${as_pg[*]}" \
    </dev/null >/dev/null 2>&1 &
)

password="pw-$RANDOM$RANDOM$RANDOM"
"${as_pg[@]}" "$bindir/psql" -h "$dir" -p "$port" -U postgres -d postgres \
  -v ON_ERROR_STOP=1 -q \
  -c "CREATE ROLE parley LOGIN PASSWORD '$password'" \
  -c "CREATE DATABASE parley_test OWNER parley" >/dev/null

# The server's own options live in postgresql.auto.conf, so a plain
# `pg_ctl start` brings it back on the same port.
cat >>"$data/postgresql.auto.conf" <<EOF
port = $port
unix_socket_directories = '$dir'
listen_addresses = '127.0.0.1'
EOF

q() { printf '%q ' "$@"; }
stop_cmd="$(q "${as_pg[@]}" "$bindir/pg_ctl" -D "$data" -m fast -w stop)"
start_cmd="$(q "${as_pg[@]}" "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 \
  start)"

export PARLEY_TEST_DATABASE_URL="postgresql://parley:$password@127.0.0.1:$port/parley_test"
export PARLEY_TEST_DB_STOP="$stop_cmd >/dev/null"
export PARLEY_TEST_DB_START="$start_cmd >/dev/null"

if ((${#cmd[@]} == 0)); then
  echo "$PARLEY_TEST_DATABASE_URL"
  echo "pg-test-env: serving from $dir; Ctrl-C stops and deletes it" >&2
  # `wait` returns at once on a signal; a foreground sleep would delay the trap.
  while :; do
    sleep 3600 &
    wait $! || true
  done
fi

set +e
"${cmd[@]}"
exit $?
