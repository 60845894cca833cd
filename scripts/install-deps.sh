#!/usr/bin/env bash
# Installs what building parley needs on Debian bookworm, skipping what is already
# there (so it is quick, and needs no root, on a machine that is set up).
#   scripts/install-deps.sh          system packages for building and serving
#   scripts/install-deps.sh --tests  also node/npm, the integration tests' npm packages
#                                    and a PostgreSQL server for the database tests
# Shared by .ci/run and the README's commands (scripts/serve.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
for arg in "$@"; do
  case "$arg" in
    --tests) with_tests=1 ;;
    *) echo "usage: $0 [--tests]" >&2; exit 2 ;;
  esac
done

packages=(
  build-essential cmake ccache pkg-config
  libcaf-dev libboost-dev nlohmann-json3-dev libssl-dev
  libpqxx-dev libcurl4-openssl-dev libsqlite3-dev libcmark-dev libjemalloc-dev
)
# Debian's nodejs is only a fallback: a node that is already installed (CI images
# carry node 20) is kept, not replaced by the distribution's older one.
if (( with_tests )) && ! command -v node >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi
# The PostgreSQL tests start a throwaway server of their own (scripts/pg-test-env.sh).
if (( with_tests )); then
  packages+=(postgresql-15)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if (( ${#missing[@]} )); then
  echo "install-deps: installing ${missing[*]}"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  "${sudo[@]}" apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
fi

if (( with_tests )); then
  # Exactly the versions in package-lock.json; fails if the lock is out of date.
  (cd tests/integration && npm ci --no-audit --no-fund)
fi
