#!/usr/bin/env bash
# Voice benchmarks (issue 3), sipp against the release build on loopback.
#
# MEDIA_WORKERS=W sets media.workers (default 0: the cores less one).
#
#   bash bench/voice.sh bridged [calls=1000] [hold_s=40] [rate=100]
#       `calls` agents register (one sipp UAS plays every phone and echoes
#       RTP), `calls` sipp callers stream PCMU speech into queue "Bench";
#       each is offered to an agent, bridged and recorded. While all are up:
#       RSS and CPU of the server; after: failed calls, RTP loss counted by
#       the server (sequence gaps on every leg), recordings written.
#   bash bench/voice.sh conf [calls=100] [hold_s=30] [rate=20]
#       three-party calls (issue 12): 2 x `calls` agents register; callers
#       stream speech into "Bench", agent A answers, bench/xfer_driver.mjs
#       transfers each call warm to agent B over the API (B's phone answers:
#       consult) and B joins: three parties talking (both agents' phones
#       echo what they hear). Measured over 10 s with every call in the
#       conference: server CPU per participant, memory per call; failures
#       (calls not reaching three parties), the roster of every call.
#   bash bench/voice.sh xfer [calls=100] [hold_s=30] [rate=20]
#       the same, then every A leaves (at `rate`/s) once all have joined:
#       each call warm-transferred once, 3 legs per call at the peak.
#       Failures (must be 0); CPU and memory at the peak, over the leaves
#       and with the calls back to two parties (B's).
#   bash bench/voice.sh cps [rate=500] [seconds=10] [hold_ms=1000]
#       answer-and-queue: callers at `rate` calls/s into a queue nobody
#       staffs, each hears hold music for hold_ms and hangs up. Failures must
#       be 0.
#   bash bench/voice.sh flows [calls=300] [hold_s=30] [rate=50]
#       callers inside a call flow (a spoken prompt and a menu, looping) for
#       hold_s: server CPU and memory, media clock health, prompt renders.
#   bash bench/voice.sh bot [calls=300] [hold_s=30] [rate=50] [gap_s=8]
#       callers inside a flow's bot block, each saying a sentence (2 s) and
#       then listening for gap_s (looped), so the bot listens to all of them
#       at once and recognises every utterance on the worker pool:
#       recognitions, refusals when the pool is full, the time from the end
#       of speech to the result, CPU and memory.
#   bash bench/voice.sh wallboard [calls=1000] [agents=600] [hold_s=30] [rate=50] [seconds=20]
#       the wallboard's event rate (issue 14, docs/WALLBOARD.md): `agents`
#       agents in "Bench" (wrap-up cleared by the system after 2 s), callers
#       at `rate`/s, at most `calls` at once, each staying hold_s: 1,000
#       calls in the system, the rest of the callers waiting (and
#       abandoning when their hold ends) — constant churn. A manager's
#       stream (bench/wallboard_rate.mjs) counts the pushed messages by
#       type for `seconds`; CPU of the server over the same window.
#   bash bench/voice.sh peer PID SIP_PORT [calls=200] [hold_s=40] [rate=50]
#       the `bridged` load against another PBX already running as PID (used
#       by bench/asterisk_side_by_side.sh): its number 7000 must answer,
#       record and dial the agents' phones, which are the same sipp UAS
#       echoes at 127.0.0.1:15270..15273 (BENCH_UAS_PORT, no registration).
#       Prints that process's RSS, CPU and threads with the calls up, in the
#       lines `bridged` prints.
#   bash bench/voice.sh overload [rate=1000] [seconds=10] [max_calls=300]
#       more calls than max_calls: the excess must get 503, the rest must
#       complete, and the API must stay responsive.
#
# sipp runs at nice 19: its RTP threads would otherwise take the cores from
# the server's single loop thread (CFS shares per thread), and the figures
# would measure the load generator. Both still share the same 2 cores.
# Prints a summary; logs and sipp statistics go to bench/results/voice-*.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-bridged}
shift || true
# BENCH_BIN: another release binary (an older build to compare with, in
# alternation); by default this tree's, built first (not for `peer`).
if [ -n "${BENCH_BIN:-}" ] || [ "$MODE" = peer ]; then
	BIN=${BENCH_BIN:-}
else
	make -s -j"$(nproc)" bin >/dev/null
	BIN=$PWD/build/release/switchboard
fi
OUT=$PWD/bench/results
mkdir -p "$OUT"
W=$(mktemp -d /tmp/sb-bench-voice.XXXXXX)
HTTP=${BENCH_HTTP_PORT:-18280}
SIP=${BENCH_SIP_PORT:-15260}
UAS=${BENCH_UAS_PORT:-15270}
URL="http://127.0.0.1:$HTTP"
PID=
EXTERNAL= # set: PID is another PBX's (peer), not ours to stop
PIDS=()
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# A sipp UAS echoes RTP with one socket and one thread: the agents' phones
# are spread over UAS_N of them so the generator keeps up (one alone dropped
# ~25% at 1,000 calls in its socket buffer; the server's sockets had none).
UAS_N=${BENCH_UAS:-4}

# A sipp UAS once ignored SIGTERM and kept its port into the next run (a
# quarter of that run's phones never answered): what is still alive 2 s
# after SIGTERM gets SIGKILL.
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -n "$PID" ] && [ -z "$EXTERNAL" ] && kill "$PID" 2>/dev/null || true
	for _ in $(seq 20); do
		local alive=0
		for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	rm -rf "$W"
}
trap cleanup EXIT

# The media engines' totals at shutdown (the main loop's and each media
# worker's line), summed: legs, packets, loss, late clock ticks.
media_totals() {
	grep -o 'action=totals.*' "$1" | awk '{ n++; for (i = 2; i <= NF; i++) { split($i, kv, "=");
		if (kv[2] ~ /^[0-9]+$/) v[kv[1]] += kv[2] } }
		END { printf "engines=%d legs=%d rx=%d tx=%d lost=%d bad=%d clock_late=%d catchup=%d\n",
			n, v["legs"], v["rx"], v["tx"], v["lost"], v["bad"], v["clock_late"], v["catchup"] }'
}

config() { # $1 max_calls, $2 greeting_ms
	cat >"$W/sb.yaml" <<EOF
http:
  port: $HTTP
sip:
  port: $SIP
  max_calls: $1
media:
  rtp_min: 20000
  rtp_max: 29999
  workers: ${MEDIA_WORKERS:-0}
calls:
  greeting_ms: $2
  offer_timeout: 10
log:
  level: ${BENCH_LOG_LEVEL:-info}
EOF
}

start() {
	"$BIN" demo --config "$W/sb.yaml" --data-dir "$W/data" 2>"$OUT/voice-$MODE-server.log" &
	PID=$!
	for _ in $(seq 100); do curl -sf "$URL/api/v1/health" >/dev/null && return; sleep 0.1; done
	echo "server did not start"
	cat "$OUT/voice-$MODE-server.log"
	exit 1
}
stop() {
	kill -TERM "$PID"
	wait "$PID" || true
	PID=
}
login() {
	curl -s "$URL/api/v1/login" -d "{\"user_name\":\"$1\",\"password\":\"demo-pass\"}" |
		sed 's/.*"token":"\([0-9a-f]*\)".*/\1/'
}
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$PID/status"; }
threads() { awk '/^Threads/ {print $2}' "/proc/$PID/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
udp_errors() { awk '/^Udp:/ && n++ {print "RcvbufErrors=" $6, "SndbufErrors=" $7}' /proc/net/snmp; }
machine() { echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"; }

# Sites: agents b0001.. (the roles of ned), all Available with a live
# session, the first $1 members of "Bench" (number 7000), $2 more (default
# none) in no queue: only a transfer reaches them. "Hold" (7001) has no
# members. $W/tokens: "user token" per agent, for the API.
seed() { # $1 agents in Bench, [$2 agents in no queue]
	start
	stop
	python3 - "$1" "${2:-0}" "$W/tokens" >"$W/seed.sql" <<'PY'
import hashlib, os, sys, time
n, extra = int(sys.argv[1]), int(sys.argv[2]); now = int(time.time() * 1000)
tokens = open(sys.argv[3], "w")
print("BEGIN;")
print("INSERT INTO queues(id, name, priority) VALUES (100, 'Bench', 1), (101, 'Hold', 1);")
print("INSERT INTO numbers(did, queue_id) VALUES ('7000', 100), ('7001', 101);")
for i in range(1, n + extra + 1):
    uid, name = 10000 + i, "b%04d" % i
    ha1 = hashlib.md5(f"{name}:switchboard:demo-pass".encode()).hexdigest()
    tok = os.urandom(32).hex()  # the server keeps BLAKE2b-256 of the hex token
    tokens.write(f"{name} {tok}\n")
    print(f"INSERT INTO users(id, user_name, name, password_hash, created_at, sip_ha1) "
          f"SELECT {uid}, '{name}', 'Bench {i}', password_hash, {now}, '{ha1}' FROM users WHERE user_name = 'ned';")
    print(f"INSERT INTO user_roles SELECT {uid}, role FROM user_roles WHERE user_id = (SELECT id FROM users WHERE user_name = 'ned');")
    print(f"INSERT INTO agents(user_id, presence, presence_since) VALUES ({uid}, 'Available', {now - n + i});")
    print(f"INSERT INTO sessions VALUES ('{hashlib.blake2b(tok.encode(), digest_size=32).hexdigest()}', {uid}, {now}, {now + 86400000});")
    if i <= n:
        print(f"INSERT INTO queue_members(queue_id, user_id) VALUES (100, {uid});")
print("COMMIT;")
PY
	sqlite3 "$W/data/switchboard.db" <"$W/seed.sql"
}

speech() {
	espeak-ng -w "$W/s.wav" "Hello, I am calling about my last invoice, it seems to be charged twice." 2>/dev/null
	sox "$W/s.wav" -r 8000 -c 1 -e u-law -t raw "$W/speech.ulaw" pad 0 1
}

# sipp's final screen: successful/failed call counters and one message's count.
screen_val() { grep -m1 "$2" "$1" | awk -v c="$3" '{print $c}'; }

# Agents b0001..b$1 register their phones (digest auth); UAS_N sipp UAS
# play every phone: they answer each INVITE and echo the RTP they get.
phones() { # $1 agents
	local n=$1
	for i in $(seq 1 "$n"); do
		printf 'b%04d;[authentication username=b%04d password=demo-pass];%d\n' "$i" "$i" \
			$((UAS + i % UAS_N))
	done | (echo SEQUENTIAL && cat) >"$W/users.csv"
	cp bench/sipp/register_many.xml "$W/register_many.xml"
	(cd "$W" && exec nice -n 19 sipp "127.0.0.1:$SIP" -sf register_many.xml -inf users.csv -m "$n" -r 200 \
		-i 127.0.0.1 -p 15290 -t u1 -nostdin -timeout 60s -trace_err -trace_screen -screen_file "$W/reg_screen.log" >"$W/reg.out" 2>&1) ||
		{ echo "registration failed"; cat "$W"/*errors.log 2>/dev/null | head -60; exit 1; }
	echo "$n agents registered"
	echo_phones
}

# UAS_N sipp UAS at $UAS.. answer every INVITE and echo the RTP they get.
echo_phones() {
	cp bench/sipp/agent_uas.xml bench/sipp/caller_load.xml "$W/"
	for k in $(seq 0 $((UAS_N - 1))); do
		if [ -n "$(ss -Hnul "sport = :$((UAS + k))")" ]; then
			echo "UDP port $((UAS + k)) (a phone UAS) is taken: another bench's sipp still running?"
			exit 1
		fi
		(cd "$W" && exec nice -n 19 sipp -sf agent_uas.xml -i 127.0.0.1 -p $((UAS + k)) -mi 127.0.0.1 \
			-mp $((16000 + 10 * k)) -rtp_echo -t u1 -nostdin -trace_err >/dev/null 2>&1) &
		PIDS+=($!)
	done
	sleep 1
}

# sipp callers streaming speech to number 7000 at 127.0.0.1:$1, in the
# background (UAC: its pid); their final screen in $W/uac_screen.log.
callers() { # $1 sip port, $2 calls, $3 hold_s, $4 rate
	local calls=$2 hold=$3 rate=$4 ramp=$((($2 + $4 - 1) / $4))
	# (timeout: sipp once hung after all its calls had ended)
	(cd "$W" && exec timeout $((hold + ramp + 90)) nice -n 19 sipp "127.0.0.1:$1" -sf caller_load.xml -s 7000 -m "$calls" -r "$rate" -l "$calls" \
		-d $((hold * 1000)) -i 127.0.0.1 -p 15280 -mi 127.0.0.1 -mp 30000 -t u1 -nostdin \
		-timeout $((hold + ramp + 60))s -trace_screen -screen_file "$W/uac_screen.log" \
		>/dev/null 2>&1) &
	UAC=$!
	PIDS+=("$UAC")
}

bridged() {
	local calls=${1:-1000} hold=${2:-40} rate=${3:-100}
	config $((calls + 100)) 200
	seed "$calls"
	speech
	start
	echo "server up, $(rss_kb) KiB RSS at once"
	local udp0
	udp0=$(udp_errors)
	phones "$calls"
	# Idle RSS once the start-up work on the pool is done (the speech
	# decoders load after the health check answers: ~35 MiB within 0.5 s),
	# with the phones registered: what grows after this is the calls'.
	local idle_rss
	idle_rss=$(rss_kb)
	echo "$idle_rss KiB RSS idle with $calls phones registered"
	local ramp=$(((calls + rate - 1) / rate))
	callers "$SIP" "$calls" "$hold" "$rate"
	local uac=$UAC
	# The window starts once every call is up (a loaded machine sets them
	# up slower than `rate`), but no later than 12 s before the first
	# ones end: the figure is then of the calls that are up (printed).
	local t_start=$SECONDS
	sleep $((ramp + 5))
	local tok busy
	tok=$(login mia)
	while :; do
		busy=$(curl -s -H "authorization: Bearer $tok" "$URL/api/v1/agents" | grep -o '"presence":"Busy"' | wc -l)
		[ "$busy" -ge "$calls" ] || [ $((SECONDS - t_start)) -ge $((hold - 12)) ] && break
		sleep 1
	done
	echo "window starts $((SECONDS - t_start)) s after the first call"
	local rss t0 t1
	rss=$(rss_kb)
	t0=$(cpu_ticks)
	sleep 10
	t1=$(cpu_ticks)
	local cpu_pct
	cpu_pct=$(awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", (b - a) / hz / 10 * 100}')
	echo "kernel UDP drops since start: before $udp0, now $(udp_errors)"
	echo "all up: $busy agents Busy; RSS $rss KiB; server CPU $cpu_pct% of one core over 10 s"
	echo "threads: $(threads)"
	# Socket drops (ss -uam: d<n>) shortly before the first calls end (the
	# window may have started late): the server's RTP ports, and the
	# generator's echo sockets.
	local left=$((hold - (SECONDS - t_start) - 3))
	[ "$left" -gt 0 ] && sleep "$left"
	local sdrop edrop
	sdrop=$(sock_drops 20000 29999)
	edrop=$(sock_drops 16000 16099)
	wait "$uac" || true
	sleep 2
	stop
	cp "$W/uac_screen.log" "$OUT/voice-bridged-uac.log" 2>/dev/null || true
	local totals recs sample
	totals=$(media_totals "$OUT/voice-$MODE-server.log")
	recs=$(find "$W/data/recordings" -name '*.wav' | wc -l)
	sample=$(find "$W/data/recordings" -name '*.wav' -print -quit)
	echo "sipp callers: $(grep -E 'Successful call|Failed call' "$W/uac_screen.log" | tr -s ' ' | tr '\n' ' ')"
	echo "media $totals"
	awk '/action=media caller_rx/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] += kv[2] } }
		END { printf "per call: caller legs rx %d lost %d; agent legs rx %d lost %d\n",
			v["caller_rx"], v["caller_lost"], v["agent_rx"], v["agent_lost"] }' "$OUT/voice-$MODE-server.log"
	echo "socket drops near the end: server RTP sockets $sdrop, sipp echo sockets $edrop"
	echo "kernel UDP drops: before $udp0, after $(udp_errors)"
	echo "recordings: $recs files; sample $(basename "$sample"): $(sox "$sample" -n stat 2>&1 | grep -E 'Length' | tr -s ' ') left RMS $(sox "$sample" -n remix 1 stat 2>&1 | awk '/RMS +amplitude/ {print $3}') right RMS $(sox "$sample" -n remix 2 stat 2>&1 | awk '/RMS +amplitude/ {print $3}')"
	echo "memory per call: $(((rss - idle_rss) / calls)) KiB (RSS $idle_rss -> $rss KiB)"
	echo "CPU per call: $(awk -v p="$cpu_pct" -v n="$busy" 'BEGIN {if (n) printf "%.3f", p / n; else print "n/a"}')% of a core"
	echo "machine: $(machine)"
}

# The server's CPU ticks and RSS every 0.5 s ("usec utime+stime rss_kb"),
# in the background until the server stops, so windows between the
# driver's marks can be measured afterwards.
sampler() {
	local st sm pg
	pg=$(getconf PAGESIZE)
	while [ -r "/proc/$PID/stat" ]; do
		read -r -a st <"/proc/$PID/stat" || break
		read -r -a sm <"/proc/$PID/statm" || break
		echo "${EPOCHREALTIME/./} $((st[13] + st[14])) $((sm[1] * pg / 1024))"
		sleep 0.5
	done
}
# CPU (% of one core) and the last RSS between two times in ms (from the
# samples): "cpu_pct rss_kb seconds".
window() { # $1 from_ms $2 to_ms
	awk -v a="$1" -v b="$2" -v hz="$(getconf CLK_TCK)" '
		{ t = $1 / 1000 }
		t >= a && !s { s = 1; t0 = t; c0 = $2 }
		t <= b { t1 = t; c1 = $2; r = $3 }
		END { if (s && t1 > t0) printf "%.1f %d %.1f\n", (c1 - c0) / hz / ((t1 - t0) / 1000) * 100, r, (t1 - t0) / 1000; else print "n/a n/a 0" }' "$W/samples"
}
# Datagrams dropped by full receive buffers on the UDP sockets bound to ports $1..$2 (ss -uam: d<n>).
# (0 when none is open: grep finding nothing must not end the bench.)
sock_drops() { ss -uamn "sport >= :$1 and sport <= :$2" | { grep -o 'd[0-9]*)' || true; } | tr -d 'd)' | awk '{s += $1} END {print s + 0}'; }
mark() { awk -v m="$1" '$1 == "MARK" && $2 == m {print $3}' "$W/driver.out"; }
load() { echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"; }

# Warm transfers (issue 12): callers reach agent A (b0001..), who transfers
# each call warm to agent B (the agent `calls` further on, in no queue); B's
# phone answers, B joins: three parties talking (the caller streams speech,
# both agents' phones echo what they hear). conf: measured while every call
# has three parties. xfer: then every A leaves; measured at the peak, over
# the leaves, and with the calls back to two parties (B's).
transfers() { # $1 conf|xfer, $2 calls, $3 hold_s, $4 rate (calls/s, and leaves/s)
	local kind=$1 calls=${2:-100} hold=${3:-30} rate=${4:-20}
	local ramp=$(((calls + rate - 1) / rate)) conf_hold=5
	config $((calls + 100)) 200
	seed "$calls" "$calls"
	speech
	start
	phones $((2 * calls))
	sleep 1
	local idle_rss udp0
	idle_rss=$(rss_kb)
	udp0=$(udp_errors)
	echo "server up with $((2 * calls)) phones registered: $idle_rss KiB RSS; $(load)"
	sampler >"$W/samples" &
	PIDS+=($!)
	local ti
	ti=$(date +%s%3N)
	sleep 3
	local cpu_idle
	cpu_idle=$(window "$ti" $((ti + 3000)) | cut -d' ' -f1)
	node bench/xfer_driver.mjs "$URL" "$W/tokens" "$calls" "$kind" "$rate" "$conf_hold" >"$W/driver.out" 2>&1 &
	local drv=$!
	PIDS+=("$drv")
	(cd "$W" && exec timeout $((hold + ramp + 90)) nice -n 19 sipp "127.0.0.1:$SIP" -sf caller_load.xml -s 7000 -m "$calls" -r "$rate" -l "$calls" \
		-d $((hold * 1000)) -i 127.0.0.1 -p 15280 -mi 127.0.0.1 -mp 30000 -t u1 -nostdin \
		-timeout $((hold + ramp + 60))s -trace_screen -screen_file "$W/uac_screen.log" \
		>/dev/null 2>&1) &
	local uac=$!
	PIDS+=("$uac")
	local t_end=$((SECONDS + ramp + 60))
	until [ -n "$(mark all_joined)" ] || [ $SECONDS -ge $t_end ]; do sleep 0.5; done
	local tj roster="" w3 cpu3 rss3 left="" sdrop
	tj=$(mark all_joined)
	[ -n "$tj" ] || { echo "the driver did not finish the joins in time:"; cat "$W/driver.out"; exit 1; }
	echo "all joined ($(grep -c '^FAIL' "$W/driver.out" || true) failed so far); $(load)"
	if [ "$kind" = conf ]; then
		sleep 2
		local t0=$(($(date +%s%3N)))
		sleep 10
		sdrop="$(sock_drops 20000 29999), the agents' sipp echo $(sock_drops 16000 16099), the sipp callers' $(sock_drops 30000 30000)"
		roster=$(node bench/xfer_driver.mjs "$URL" "$W/tokens" "$calls" roster "$W/tokens.state.json")
		w3=$(window "$t0" $((t0 + 10000)))
	else
		wait "$drv" || true
		w3=$(window $((tj + 1000)) $((tj + conf_hold * 1000)))
		left=$(mark all_left)
		sleep 1
		roster=$(node bench/xfer_driver.mjs "$URL" "$W/tokens" "$calls" roster "$W/tokens.state.json")
		local t2=$(($(date +%s%3N)))
		sleep 8
		sdrop="$(sock_drops 20000 29999), the agents' sipp echo $(sock_drops 16000 16099), the sipp callers' $(sock_drops 30000 30000)"
	fi
	read -r cpu3 rss3 _ <<<"$w3"
	echo "$roster; $(load)"
	wait "$uac" || true
	wait "$drv" || true
	sleep 3
	local rss_end
	rss_end=$(rss_kb)
	stop
	local log="$OUT/voice-$MODE-server.log"
	cp "$W/uac_screen.log" "$OUT/voice-$MODE-uac.log" 2>/dev/null || true
	cp "$W/driver.out" "$OUT/voice-$MODE-driver.log"
	cp "$W/samples" "$OUT/voice-$MODE-samples.txt"
	echo "--- $calls calls, hold $hold s, $rate/s"
	grep -v '^MARK' "$W/driver.out"
	echo "sipp callers: $(grep -E 'Successful call|Failed call' "$W/uac_screen.log" | tr -s ' ' | tr '\n' ' ')"
	echo "agents' sipp UAS unexpected messages: $(cat "$W"/agent_uas_*_errors.log 2>/dev/null | grep -c 'Aborting call' || true)"
	echo "server log: $(grep -c 'three parties' "$log" || true) joins (three parties), $(grep -c 'action=transferred from' "$log" || true) handovers, $(grep -c 'Transfer to .* failed' "$log" || true) failed transfers, media clock late $(grep -c 'clock late' "$log" || true) times, $(grep -c ' WARN ' "$log" || true) WARN and $(grep -c ' ERROR ' "$log" || true) ERROR lines"
	echo "media $(media_totals "$log")"
	awk '/action=media caller_rx/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] += kv[2] } }
		END { printf "per call: caller legs rx %d lost %d; last agent legs rx %d lost %d\n",
			v["caller_rx"], v["caller_lost"], v["agent_rx"], v["agent_lost"] }' "$log"
	echo "kernel UDP drops: before $udp0, after $(udp_errors); socket drops before the calls ended (ss): the server's RTP sockets $sdrop (sipp's rtp_stream socket reads nothing)"
	echo "recordings: $(find "$W/data/recordings" -name '*.wav' 2>/dev/null | wc -l) files"
	echo "interactions: $(sqlite3 "$W/data/switchboard.db" "SELECT state, count(*) FROM interactions GROUP BY state" | tr '\n' ' ')"
	echo "server CPU before the calls ($((2 * calls)) phones registered): $cpu_idle% of one core"
	local per3
	per3=$(awk -v p="$cpu3" -v n="$calls" 'BEGIN {printf "%.3f %.3f", p / n, p / (3 * n)}')
	echo "three parties (all $calls calls): server CPU $cpu3% of one core -> ${per3% *}% per call, ${per3#* }% per participant"
	echo "memory per call with three parties: $(((rss3 - idle_rss) / calls)) KiB (RSS $idle_rss -> $rss3 KiB)"
	if [ "$kind" = xfer ]; then
		local fa wl w2 cpul cpu2 rss2
		fa=$(mark first_answered)
		wl=$(window $((tj + conf_hold * 1000)) "$left")
		w2=$(window "$t2" $((t2 + 8000)))
		read -r cpul _ <<<"$wl"
		read -r cpu2 rss2 _ <<<"$w2"
		echo "the leaves ($calls at $rate/s, $(awk -v a="$tj" -v b="$left" -v h="$conf_hold" 'BEGIN {printf "%.1f", (b - a) / 1000 - h}') s): server CPU $cpul% of one core"
		echo "whole transfer run (first answer -> last leave, $(awk -v a="$fa" -v b="$left" 'BEGIN {printf "%.1f", (b - a) / 1000}') s): server CPU $(window "$fa" "$left" | cut -d' ' -f1)% of one core"
		echo "after the leaves (two parties, B's): server CPU $cpu2% of one core -> $(awk -v p="$cpu2" -v n="$calls" 'BEGIN {printf "%.3f", p / n}')% per call; memory per call $(((rss2 - idle_rss) / calls)) KiB (RSS $rss2 KiB)"
	fi
	echo "RSS after every call ended: $rss_end KiB ($((rss_end - idle_rss)) KiB above the start)"
	echo "machine: $(machine); $(load)"
}

cps() {
	local rate=${1:-500} secs=${2:-10} hold_ms=${3:-1000}
	config 100000 0
	seed 1
	speech
	start
	cp bench/sipp/caller_load.xml "$W/"
	local n=$((rate * secs)) t0 t1
	t0=$(date +%s.%N)
	(cd "$W" && exec nice -n 19 sipp "127.0.0.1:$SIP" -sf caller_load.xml -s 7001 -m "$n" -r "$rate" -l $((rate * 4)) \
		-d "$hold_ms" -i 127.0.0.1 -p 15280 -mi 127.0.0.1 -mp 30000 -t u1 -nostdin \
		-timeout $((secs + 60))s -trace_screen -screen_file "$W/uac_screen.log" \
		>/dev/null 2>&1) || true
	t1=$(date +%s.%N)
	stop
	cp "$W/uac_screen.log" "$OUT/voice-cps-uac.log"
	echo "offered $n calls at $rate/s in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s"
	grep -E 'Successful call|Failed call|503 <----|Call Rate' "$W/uac_screen.log" | tr -s ' ' | head -6
	echo "interactions closed: $(sqlite3 "$W/data/switchboard.db" "SELECT state, count(*) FROM interactions GROUP BY state" | tr '\n' ' ')"
	echo "machine: $(machine)"
}

overload() {
	local rate=${1:-1000} secs=${2:-10} max=${3:-300}
	config "$max" 0
	seed 1
	speech
	start
	cp bench/sipp/caller_load.xml "$W/"
	local n=$((rate * secs))
	(cd "$W" && exec nice -n 19 sipp "127.0.0.1:$SIP" -sf caller_load.xml -s 7001 -m "$n" -r "$rate" -l $((rate * 4)) \
		-d 2000 -i 127.0.0.1 -p 15280 -mi 127.0.0.1 -mp 30000 -t u1 -nostdin \
		-timeout $((secs + 60))s -trace_screen -screen_file "$W/uac_screen.log" \
		>/dev/null 2>&1) &
	local uac=$!
	PIDS+=("$uac")
	sleep $((secs / 2))
	local worst=0 ms
	for _ in $(seq 20); do
		ms=$(curl -s -o /dev/null -w '%{time_total}' "$URL/api/v1/health" | awk '{printf "%d", $1 * 1000}')
		[ "$ms" -gt "$worst" ] && worst=$ms
		sleep 0.1
	done
	wait "$uac" || true
	stop
	cp "$W/uac_screen.log" "$OUT/voice-overload-uac.log"
	echo "offered $n calls at $rate/s with max_calls $max; health worst $worst ms during the storm"
	grep -E 'Successful call|Failed call|503 <----|INVITE ---->' "$W/uac_screen.log" | tr -s ' ' | head -6
	echo "machine: $(machine)"
}

# Callers inside a call flow: a long spoken prompt (rendered once, then from
# the cache), then a menu that waits for keys, over and over until they hang up.
# Starts the server, then `calls` sipp callers (looped speech) into number
# $1 at $4 calls/s for $3 s each; measures while all are in. Sets IDLE_RSS,
# RSS (KiB) and CPU_PCT (of one core, over 10 s); returns after sipp and the
# server have stopped.
flow_callers() {
	local did=$1 calls=$2 hold=$3 rate=$4
	start
	sleep 2 # the bot's decoders load on the pool after the start
	IDLE_RSS=$(rss_kb)
	cp bench/sipp/caller_load.xml "$W/"
	local ramp=$(((calls + rate - 1) / rate))
	(cd "$W" && exec timeout $((hold + ramp + 90)) nice -n 19 sipp "127.0.0.1:$SIP" -sf caller_load.xml \
		-s "$did" -m "$calls" -r "$rate" -l "$calls" -d $((hold * 1000)) -i 127.0.0.1 -p 15280 \
		-mi 127.0.0.1 -mp 30000 -t u1 -nostdin -trace_screen -screen_file "$W/uac_screen.log" \
		>/dev/null 2>&1) &
	local uac=$! t0 t1
	PIDS+=("$uac")
	sleep $((ramp + 5))
	RSS=$(rss_kb)
	t0=$(cpu_ticks)
	sleep 10
	t1=$(cpu_ticks)
	CPU_PCT=$(awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", (b - a) / hz / 10 * 100}')
	wait "$uac" || true
	sleep 2
	stop
}

flows() {
	local calls=${1:-300} hold=${2:-30} rate=${3:-50}
	config $((calls + 100)) 0
	seed 1
	mkdir -p "$W/data/flows"
	cat >"$W/data/flows/bench.yaml" <<'YAML'
start: welcome
blocks:
  welcome:
    kind: play
    text: Thank you for calling. Your call is important to us. Please listen carefully, as our menu options have changed. Calls may be recorded for quality and training purposes.
    next: menu
  menu:
    kind: menu
    text: For support, press 1. For billing, press 2. To hear these options again, stay on the line.
    choices: {"1": welcome, "2": welcome}
    timeout: 3
    retries: 0
    no_input: welcome
    no_match: welcome
YAML
	sqlite3 "$W/data/switchboard.db" "INSERT INTO numbers(did, queue_id, flow) VALUES ('7002', 100, 'bench')"
	speech
	flow_callers 7002 "$calls" "$hold" "$rate"
	local in_flow
	in_flow=$(grep -c 'flow=bench' "$OUT/voice-$MODE-server.log" || true)
	echo "$in_flow callers answered into the flow; RSS $RSS KiB; server CPU $CPU_PCT% of one core over 10 s"
	cp "$W/uac_screen.log" "$OUT/voice-flows-uac.log" 2>/dev/null || true
	echo "sipp callers: $(grep -E 'Successful call|Failed call' "$W/uac_screen.log" | tr -s ' ' | tr '\n' ' ')"
	echo "media $(media_totals "$OUT/voice-$MODE-server.log")"
	echo "prompts rendered: $(grep -c 'action=render' "$OUT/voice-$MODE-server.log" || true) failures; media clock late: $(grep -c 'clock late' "$OUT/voice-$MODE-server.log" || true) times"
	echo "flow closes (hung up in the flow): $(sqlite3 "$W/data/switchboard.db" "SELECT state, count(*) FROM interactions GROUP BY state" | tr '\n' ' ')"
	echo "memory per caller: $(((RSS - IDLE_RSS) / calls)) KiB (RSS $IDLE_RSS -> $RSS KiB)"
	echo "machine: $(machine)"
}

bot() {
	local calls=${1:-300} hold=${2:-30} rate=${3:-50} gap=${4:-8}
	config $((calls + 100)) 0
	seed 1
	mkdir -p "$W/data/flows"
	cat >"$W/data/flows/bot.yaml" <<'YAML'
start: ask
blocks:
  ask:
    kind: bot
    text: How can I help?
    timeout: 8
    retries: 0
    intents:
      invoice:
        phrases: [i am calling about my last invoice, my invoice is wrong]
        goto: ask
      agent:
        phrases: [talk to an agent, speak to a person]
        goto: ask
    no_match: ask
    no_input: ask
YAML
	sqlite3 "$W/data/switchboard.db" "INSERT INTO numbers(did, queue_id, flow) VALUES ('7003', 100, 'bot')"
	espeak-ng -w "$W/s.wav" "I am calling about my last invoice." 2>/dev/null
	sox "$W/s.wav" -r 8000 -c 1 -e u-law -t raw "$W/speech.ulaw" pad 0 "$gap"
	flow_callers 7003 "$calls" "$hold" "$rate"
	echo "RSS $RSS KiB; server CPU $CPU_PCT% of one core over 10 s with $calls callers in the bot"
	local log="$OUT/voice-$MODE-server.log"
	echo "sipp callers: $(grep -E 'Successful call|Failed call' "$W/uac_screen.log" | tr -s ' ' | tr '\n' ' ')"
	echo "recognitions: $(grep -c 'action=recognised' "$log" || true) ($(grep -c 'action=recognised intent=invoice' "$log" || true) as 'invoice'); refused (pool full): $(grep -c 'speech not recognised' "$log" || true)"
	grep -o 'after_speech_ms=[0-9]*' "$log" | cut -d= -f2 | sort -n | awk 'function q(p,  i) {i = int(NR * p) + 1; return a[i > NR ? NR : i]} {a[NR] = $1} END {if (NR) printf "end of speech -> result: p50 %d ms, p90 %d ms, p99 %d ms, max %d ms (n=%d)\n", q(0.5), q(0.9), q(0.99), a[NR], NR}'
	grep -o 'decode_ms=[0-9]*' "$log" | cut -d= -f2 | sort -n | awk '{a[NR]=$1; s+=$1} END {if (NR) printf "decode on the pool: mean %.0f ms, max %d ms\n", s/NR, a[NR]}'
	echo "media clock late: $(grep -c 'clock late' "$log" || true) times"
	echo "memory per caller: $(((RSS - IDLE_RSS) / calls)) KiB (RSS $IDLE_RSS -> $RSS KiB)"
	echo "machine: $(machine)"
}

wallboard() {
	local calls=${1:-1000} agents=${2:-600} hold=${3:-30} rate=${4:-50} secs=${5:-20}
	config $((calls + 100)) 200
	sed -i 's/^calls:$/calls:\n  wrapup_timeout: 2/' "$W/sb.yaml"
	seed "$agents"
	speech
	start
	phones "$agents"
	local ramp=$(((calls + rate - 1) / rate))
	(cd "$W" && exec timeout $((hold * 4 + ramp + 120)) nice -n 19 sipp "127.0.0.1:$SIP" -sf caller_load.xml -s 7000 \
		-m $((calls * 4)) -r "$rate" -l "$calls" -d $((hold * 1000)) -i 127.0.0.1 -p 15280 -mi 127.0.0.1 -mp 30000 \
		-t u1 -nostdin -timeout $((hold * 4 + ramp + 100))s -trace_screen -screen_file "$W/uac_screen.log" \
		>/dev/null 2>&1) &
	local uac=$!
	PIDS+=("$uac")
	sleep $((ramp + 10))
	local tok live t0 t1 res
	tok=$(login mia)
	live=$(curl -s -H "authorization: Bearer $tok" "$URL/api/v1/calls" | sed 's/.*"count":\([0-9]*\).*/\1/')
	t0=$(cpu_ticks)
	res=$(node bench/wallboard_rate.mjs "$URL" "$tok" "$secs" 2>&1) || true
	t1=$(cpu_ticks)
	echo "live calls when the count began: $live"
	echo "manager's stream: $res"
	echo "server CPU $(awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" -v s="$secs" 'BEGIN {printf "%.1f", (b - a) / hz / s * 100}')% of one core over the window (calls, media, recording and the wallboard)"
	echo "queue events logged by the server: $(grep -c 'action=alert' "$OUT/voice-$MODE-server.log" || true) alerts"
	kill "$uac" 2>/dev/null || true
	stop
	echo "machine: $(machine)"
}

# The bridged load against another PBX (PID, listening on SIP_PORT): the
# same callers and echoing phones; measured at ramp + 5 s (no API to ask
# whether every call is up: sipp's screen says how many were answered).
peer() {
	PID=${1:?peer PID SIP_PORT [calls] [hold_s] [rate]}
	EXTERNAL=1
	local port=${2:?peer PID SIP_PORT [calls] [hold_s] [rate]} calls=${3:-200} hold=${4:-40} rate=${5:-50}
	[ -r "/proc/$PID/status" ] || { echo "no process $PID"; exit 2; }
	speech
	echo_phones
	local idle_rss ramp=$(((calls + rate - 1) / rate))
	idle_rss=$(rss_kb)
	echo "$idle_rss KiB RSS idle; $(threads) threads"
	callers "$port" "$calls" "$hold" "$rate"
	sleep $((ramp + 5))
	local rss t0 t1 cpu_pct thr
	rss=$(rss_kb)
	thr=$(threads)
	t0=$(cpu_ticks)
	sleep 10
	t1=$(cpu_ticks)
	cpu_pct=$(awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", (b - a) / hz / 10 * 100}')
	echo "all up: RSS $rss KiB; server CPU $cpu_pct% of one core over 10 s (window from $((ramp + 5)) s after the first call)"
	echo "threads: $thr"
	local edrop
	edrop=$(sock_drops 16000 16099)
	wait "$UAC" || true
	cp "$W/uac_screen.log" "$OUT/voice-peer-uac.log" 2>/dev/null || true
	echo "sipp callers: $(grep -E 'Successful call|Failed call' "$W/uac_screen.log" | tr -s ' ' | tr '\n' ' ')"
	echo "socket drops near the end: sipp echo sockets $edrop"
	echo "memory per call: $(((rss - idle_rss) / calls)) KiB (RSS $idle_rss -> $rss KiB)"
	echo "CPU per call: $(awk -v p="$cpu_pct" -v n="$calls" 'BEGIN {printf "%.3f", p / n}')% of a core"
	echo "machine: $(machine); $(load)"
}

case "$MODE" in
bridged) bridged "$@" ;;
peer) peer "$@" ;;
wallboard) wallboard "$@" ;;
conf | xfer) transfers "$MODE" "$@" ;;
bot) bot "$@" ;;
cps) cps "$@" ;;
overload) overload "$@" ;;
flows) flows "$@" ;;
*)
	echo "usage: bash bench/voice.sh bridged|peer|conf|xfer|cps|overload|flows|bot|wallboard [args]" >&2
	exit 2
	;;
esac
