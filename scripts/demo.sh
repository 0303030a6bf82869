#!/usr/bin/env bash
# Sets everything up and runs Switchboard with its embedded defaults and the
# demo site (SQLite under ./data, HTTP on port 8080). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
make -j"$(nproc)"
exec ./build/release/switchboard demo "$@"
