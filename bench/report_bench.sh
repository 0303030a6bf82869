#!/usr/bin/env bash
# Report benchmark (issue 14 point 6): 1,000,000 interactions over the last
# 30 days, each with its contact trace record, over 12 queues and 48 agents,
# plus a presence history; the store builds the report aggregates from them
# at start (the backfill of migration 014, timed), then each report request
# is timed end to end over HTTP with curl (connect, request, the store's
# read on the pool, the roll-up, JSON or CSV, transfer).
# Target: a 30-day per-queue-per-hour report under 100 ms.
# Usage: bash bench/report_bench.sh [requests per case, default 20]
# Figures in docs/PERFORMANCE.md ("Reports").
set -euo pipefail
cd "$(dirname "$0")/.."
REQS=${1:-20}
N=${BENCH_INTERACTIONS:-1000000}
make -s -j"$(nproc)" >/dev/null
BIN=./build/release/switchboard
DATA=$(mktemp -d)
PORT=${BENCH_PORT:-18191}
OUT=bench/results
mkdir -p "$OUT"
URL="http://127.0.0.1:$PORT"
DB="$DATA/switchboard.db"

start() {
	$BIN demo --http-port "$PORT" --sip-port "$((PORT + 1))" --data-dir "$DATA" --log-level info \
		2>"$OUT/report-server.log" &
	PID=$!
	for _ in $(seq 1200); do curl -sf "$URL/api/v1/health" >/dev/null && return; sleep 0.1; done
	echo "server did not start"; tail "$OUT/report-server.log"; exit 1
}
stop() { kill -TERM "$PID"; wait "$PID" || true; }
trap 'kill $PID 2>/dev/null; [ -n "${KEEP_DB:-}" ] || rm -rf "$DATA"' EXIT

start; stop
T0=$(date +%s.%N)
[ -z "${KEEP_DB:-}" ] || echo "database: $DB"
sqlite3 -bail "$DB" >/dev/null <<SQL
BEGIN;
-- 10 more queues (12 with the demo's) and 48 agents
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 10)
INSERT INTO queues(id, name, sl_threshold_s) SELECT 100 + i, 'Bench queue ' || i, 20 FROM k;
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 48)
INSERT INTO users(id, user_name, name, password_hash, created_at)
SELECT 1000 + i, 'bench' || i, 'Bench Agent ' || i, 'x', 0 FROM k;
INSERT INTO agents(user_id, presence, presence_since) SELECT id, 'Offline', 0 FROM users WHERE id > 1000;
CREATE TEMP TABLE bq(k INTEGER PRIMARY KEY, id INTEGER, name TEXT);
INSERT INTO bq SELECT row_number() OVER (ORDER BY id) - 1, id, name FROM queues WHERE deleted = 0;
CREATE TEMP TABLE ba(k INTEGER PRIMARY KEY, id INTEGER, user_name TEXT, name TEXT);
INSERT INTO ba SELECT row_number() OVER (ORDER BY id) - 1, id, user_name, name FROM users WHERE id > 1000;
CREATE TEMP TABLE c(i INTEGER PRIMARY KEY, t INTEGER, q INTEGER, a INTEGER, wait INTEGER,
	talk INTEGER, hold INTEGER, acw INTEGER);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO c SELECT i, (strftime('%s', 'now') - 30 * 86400) * 1000 + i * (2592000000 / $N),
	i % (SELECT count(*) FROM bq), (i * 7) % 48,
	CASE WHEN i % 10 = 0 THEN 5000 + (i * 7919) % 90000 ELSE (i * 7919) % 60000 END,
	60000 + (i * 104729) % 400000, CASE WHEN (i / 7) % 4 = 0 THEN (i * 31) % 60000 ELSE 0 END,
	10000 + (i * 13) % 50000 FROM n;
INSERT INTO interactions(id, number, type, direction, state, queued, caller_number, queue_id,
	agent_user_id, opened_at, closed_at, close_reason)
SELECT 5000000 + i, printf('INT%07d', 5000000 + i), 'phone', 'inbound',
	CASE WHEN i % 10 = 0 THEN 'closed_abandoned' ELSE 'closed_complete' END, 1,
	printf('+1555%07d', i % 9999), (SELECT id FROM bq WHERE k = q),
	CASE WHEN i % 10 = 0 THEN 0 ELSE (SELECT id FROM ba WHERE k = a) END, t, t + 600000, ''
FROM c;
INSERT INTO ctr(contact_id, interaction_id, segment, initial_contact_id, initiation_method,
	customer_endpoint, system_endpoint, transfer_type, transferred_to, initiation_at,
	connected_to_system_at, disconnect_at, last_update_at, queue_id, queue, enqueue_at, dequeue_at,
	queue_ms, agent_user_id, agent, agent_name, connected_to_agent_at, talk_ms, hold_ms, holds,
	longest_hold_ms, acw_start_at, acw_end_at, acw_ms, connection_attempts, missed_offers,
	disconnect_reason)
SELECT printf('INT%07d-1', 5000000 + i), 5000000 + i, 1, printf('INT%07d-1', 5000000 + i),
	'inbound', '+15550100', '5000',
	CASE WHEN i % 20 = 1 THEN 'queue' ELSE '' END, CASE WHEN i % 20 = 1 THEN 'Support' ELSE '' END,
	t, t, t + 3000 + wait + talk + hold, t + 600000,
	(SELECT id FROM bq WHERE k = q), (SELECT name FROM bq WHERE k = q), t + 3000, t + 3000 + wait, wait,
	CASE WHEN i % 10 = 0 THEN 0 ELSE (SELECT id FROM ba WHERE k = a) END,
	CASE WHEN i % 10 = 0 THEN '' ELSE (SELECT user_name FROM ba WHERE k = a) END,
	CASE WHEN i % 10 = 0 THEN '' ELSE (SELECT name FROM ba WHERE k = a) END,
	CASE WHEN i % 10 = 0 THEN 0 ELSE t + 3000 + wait END,
	CASE WHEN i % 10 = 0 THEN 0 ELSE talk END, CASE WHEN i % 10 = 0 THEN 0 ELSE hold END,
	CASE WHEN i % 10 = 0 OR hold = 0 THEN 0 ELSE 1 END, CASE WHEN i % 10 = 0 THEN 0 ELSE hold END,
	CASE WHEN i % 10 = 0 THEN 0 ELSE t + 3000 + wait + talk + hold END,
	CASE WHEN i % 10 = 0 THEN 0 ELSE t + 3000 + wait + talk + hold + acw END,
	CASE WHEN i % 10 = 0 THEN 0 ELSE acw END,
	CASE WHEN i % 10 = 0 THEN 0 ELSE 1 + (i % 25 = 0) END, i % 25 = 0,
	CASE WHEN i % 10 = 0 THEN 'customer' WHEN i % 20 = 1 THEN 'transfer' ELSE 'agent' END
FROM c;
-- each agent's day: Away 08:00, Available 08:05, Offline 17:00, 30 days
WITH RECURSIVE d(dk) AS (SELECT 0 UNION ALL SELECT dk + 1 FROM d WHERE dk < 29),
	day0(ms) AS (SELECT (strftime('%s', 'now', 'start of day') - 30 * 86400) * 1000)
INSERT INTO presence_history(user_id, at, from_state, to_state)
SELECT ba.id, ms + dk * 86400000 + s.off, s.f, s.t FROM ba, d, day0,
	(SELECT 28800000 AS off, 'Offline' AS f, 'Away' AS t UNION ALL
	 SELECT 29100000, 'Away', 'Available' UNION ALL SELECT 61200000, 'Available', 'Offline') s;
UPDATE rep_state SET built = 0;
COMMIT;
SQL
T1=$(date +%s.%N)
echo "loaded: $(sqlite3 "$DB" 'select count(*) from interactions') interactions, $(sqlite3 "$DB" 'select count(*) from ctr') contact trace records, $(sqlite3 "$DB" 'select count(*) from presence_history') presence changes in $(echo "$T1 - $T0" | bc) s"

start
grep -o 'report aggregates built.*' "$OUT/report-server.log" || true
echo "aggregate rows: $(sqlite3 "$DB" 'select count(*) from rep_agg'); database $(du -m "$DB" | cut -f1) MiB"
login() { curl -s "$URL/api/v1/login" -d "{\"user_name\":\"$1\",\"password\":\"demo-pass\"}" | sed 's/.*"token":"\([0-9a-f]*\)".*/\1/'; }
MIA=$(login mia)
FROM=$(date -u -d '-30 days' +%Y-%m-%dT%H:00:00Z)
TO=$(date -u +%Y-%m-%dT%H:00:00Z)

# case name, query string, extra curl args: prints median, p95 and max of
# REQS requests' total time, the rows and the bytes of the answer.
run() {
	local name=$1 qs=$2; shift 2
	local times=() size
	curl -s -o "$OUT/report-$name.out" -H "Authorization: Bearer $MIA" "$@" "$URL/api/v1/reports/$qs"
	size=$(stat -c %s "$OUT/report-$name.out")
	for _ in $(seq "$REQS"); do
		times+=("$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $MIA" "$@" "$URL/api/v1/reports/$qs")")
	done
	printf '%s\n' "${times[@]}" | sort -n | awk -v name="$name" -v size="$size" '
		{ t[NR] = $1 * 1000 }
		END { printf "%-40s median %6.1f ms   p95 %6.1f ms   max %6.1f ms   %8d bytes\n",
			name, t[int((NR + 1) / 2)], t[int(NR * 0.95 + 0.5)], t[NR], size }'
}

run "queues, hour, 30 days, all (12)" "queues?interval=hour&from=$FROM&to=$TO"
run "queues, hour, 30 days, CSV" "queues?interval=hour&from=$FROM&to=$TO" -H 'Accept: text/csv'
run "queues, hour, 30 days, one queue" "queues?interval=hour&queue=Support&from=$FROM&to=$TO"
run "queues, 15min, 30 days, all" "queues?interval=15min&from=$FROM&to=$TO"
run "queues, day, 30 days, all" "queues?interval=day&from=$FROM&to=$TO"
run "agents, day, 30 days, all (48+)" "agents?interval=day&from=$FROM&to=$TO"
run "agents, hour, 30 days, all" "agents?interval=hour&from=$FROM&to=$TO"
run "drill-down, one queue-hour" "queues/interactions?queue=Support&from=$(date -u -d '-2 days' +%Y-%m-%dT10:00:00Z)&to=$(date -u -d '-2 days' +%Y-%m-%dT11:00:00Z)&limit=500"
echo "server RSS: $(ps -o rss= -p "$PID") KiB"
stop

# For comparison: the same per-queue-per-hour figures computed from the
# records at each request (what the aggregates avoid), in the sqlite3 shell.
F=$(( ($(date +%s) - 30 * 86400) * 1000 ))
S=$(date +%s.%N)
sqlite3 "$DB" "SELECT queue_id, enqueue_at / 3600000, count(*), sum(connected_to_agent_at > 0),
	sum(connected_to_agent_at = 0 AND disconnect_reason = 'customer'), sum(queue_ms),
	sum(talk_ms + hold_ms + acw_ms), sum(hold_ms), sum(acw_ms), sum(missed_offers)
	FROM ctr WHERE queue_id > 0 AND enqueue_at >= $F GROUP BY 1, 2" >/dev/null
E=$(date +%s.%N)
printf '%-40s %6.0f ms (one run, sqlite3 shell)\n' "recomputed from 1M records (GROUP BY)" "$(echo "($E - $S) * 1000" | bc)"
