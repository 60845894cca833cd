#!/usr/bin/env bash
# Installs what is missing, builds parley in Release and serves it with the
# embedded defaults (SQLite at ./parley.db, builtin agent, 127.0.0.1:8000).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j"$(nproc)" --target parley
exec build-release/parley "$@"
