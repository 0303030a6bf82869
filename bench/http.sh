#!/usr/bin/env bash
# HTTP benchmark (issue 2): presence GET/PUT and interaction listing with
# 100,000 interactions in the store, driven by wrk on loopback.
# Usage: bash bench/http.sh [seconds per run, default 10]
# Prints one line per run; full wrk output goes to bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10}
N=${BENCH_INTERACTIONS:-100000}
make -s -j"$(nproc)" >/dev/null
BIN=./build/release/switchboard
DATA=$(mktemp -d)
PORT=${BENCH_PORT:-18181}
OUT=bench/results
mkdir -p "$OUT"
URL="http://127.0.0.1:$PORT"

start() {
	$BIN demo --http-port "$PORT" --data-dir "$DATA" --log-level warn 2>"$OUT/server.log" &
	PID=$!
	for _ in $(seq 100); do curl -sf "$URL/api/v1/health" >/dev/null && return; sleep 0.1; done
	echo "server did not start"; cat "$OUT/server.log"; exit 1
}
stop() { kill -TERM "$PID"; wait "$PID" || true; }
trap 'kill $PID 2>/dev/null; rm -rf "$DATA"' EXIT

start; stop
# 100k closed interactions over 30 days, spread over both queues and agents.
sqlite3 "$DATA/switchboard.db" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO interactions(id, number, type, direction, state, queued, caller_number, queue_id,
	agent_user_id, opened_at, closed_at)
SELECT i, printf('INT%07d', 1000 + i), 'phone', CASE WHEN i % 5 = 0 THEN 'outbound' ELSE 'inbound' END,
	CASE WHEN i % 7 = 0 THEN 'closed_abandoned' ELSE 'closed_complete' END, 1,
	printf('+1555%07d', i % 9999), 1 + i % 2, CASE WHEN i % 7 = 0 THEN 0 ELSE 3 + i % 2 END,
	strftime('%s', 'now', '-30 days') * 1000 + i * 25000, strftime('%s', 'now', '-30 days') * 1000 + i * 25000 + 180000
FROM n;
SQL
start
login() { curl -s "$URL/api/v1/login" -d "{\"user_name\":\"$1\",\"password\":\"demo-pass\"}" | sed 's/.*"token":"\([0-9a-f]*\)".*/\1/'; }
NED=$(login ned); MIA=$(login mia)
curl -s -X PUT "$URL/api/v1/agents/ned/presence" -H "Authorization: Bearer $NED" -d '{"status":"Available"}' >/dev/null
echo "store: $(sqlite3 "$DATA/switchboard.db" 'select count(*) from interactions') interactions"

run() { # name, connections, extra wrk args...
	local name=$1 conns=$2; shift 2
	wrk -t2 -c"$conns" -d"${DUR}s" --latency "$@" >"$OUT/$name.txt"
	local rps p50 p99 errs
	rps=$(awk '/Requests\/sec/ {print $2}' "$OUT/$name.txt")
	p50=$(awk '$1 == "50%" {print $2}' "$OUT/$name.txt")
	p99=$(awk '$1 == "99%" {print $2}' "$OUT/$name.txt")
	errs=$(awk '/Non-2xx/ {print $4}' "$OUT/$name.txt")
	printf '%-34s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$name (c=$conns)" "$rps" "$p50" "$p99" "${errs:-0}"
}

run presence_get 50 -H "Authorization: Bearer $NED" "$URL/api/v1/agents/ned/presence"
cat >"$OUT/put.lua" <<'LUA'
-- Alternates Away and Available; the -H Authorization header stays in wrk.headers.
local n = 0
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local body = (n % 2 == 0) and '{"status":"Available"}' or '{"status":"Away","reason":"Bench"}'
  return wrk.format("PUT", nil, nil, body)
end
LUA
run presence_put 50 -H "Authorization: Bearer $NED" -s "$OUT/put.lua" "$URL/api/v1/agents/ned/presence"
run interactions_list 10 -H "Authorization: Bearer $MIA" "$URL/api/v1/interactions?limit=50"
run interactions_list_filtered 10 -H "Authorization: Bearer $MIA" \
	"$URL/api/v1/interactions?limit=50&state=closed_abandoned&queue=Billing&direction=inbound"
run interactions_list_deep_page 10 -H "Authorization: Bearer $MIA" \
	"$URL/api/v1/interactions?limit=50&cursor=5000"
run interactions_list_time_range 10 -H "Authorization: Bearer $MIA" \
	"$URL/api/v1/interactions?limit=50&agent=beth&from=$(date -u -d '-20 days' +%Y-%m-%d)"
echo "presence history rows: $(sqlite3 "$DATA/switchboard.db" 'select count(*) from presence_history')"
echo "server RSS: $(ps -o rss= -p "$PID") KiB"
stop
