#!/usr/bin/env bash
# Sets everything up and runs Switchboard with its embedded defaults and the
# demo site (SQLite under ./data, HTTP on port 8080, the web workspace at
# http://127.0.0.1:8080/). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
make -j"$(nproc)"
# The web workspace (web/dist, served by the binary); npm packages only.
(cd web && npm ci --no-audit --no-fund --silent && npm run --silent build) >/dev/null
echo "workspace: http://127.0.0.1:8080/ (sign in as ned or beth (agents), mia (manager), admin, or amy (a customer: she calls from the browser); password demo-pass)"
exec ./build/release/switchboard demo "$@"
