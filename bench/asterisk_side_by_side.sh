#!/usr/bin/env bash
# Switchboard and Asterisk side by side (issue 16): the same sipp load
# against each, alternately, and both systems' figures in one table.
#
#   bash bench/asterisk_side_by_side.sh ASTERISK_BIN [calls=200] [hold_s=40] [rate=50] [rounds=2]
#
# Asterisk is not packaged in Debian bookworm: build it yourself and give the
# path of the `asterisk` binary. docs/PERFORMANCE.md ("Side by side with
# Asterisk") has the recipe used here: Asterisk 22.10.1 from source with its
# bundled pjproject, offline, `--prefix=/opt/asterisk`, ~4 min on 2 cores.
# Its modules and data (XML documentation) are taken from the install the
# binary belongs to (PREFIX/lib/asterisk/modules, PREFIX/var/lib/asterisk),
# else /usr's; ASTERISK_MODDIR and ASTERISK_DATADIR override them.
#
# The scenario (bench/voice.sh bridged): sipp callers dial 7000 and stream
# PCMU speech for hold_s; each call is answered, recorded (stereo WAV) and
# bridged to an agent whose phone (one of four sipp UAS) echoes the audio.
#   Switchboard: `bash bench/voice.sh bridged calls hold_s rate` (queue
#     "Bench", `calls` registered agents).
#   Asterisk: a configuration written here into a temporary directory (PJSIP
#     on UDP 127.0.0.1:15360, RTP 20000-29999; the dialplan answers,
#     MixMonitor-records and Dials agentN, N the caller's number (sipp's
#     1555<call number>) modulo 4: four endpoints whose contacts are the same
#     four sipp UAS, without registration, each taking every fourth call as
#     Switchboard's agents do), then `bash bench/voice.sh peer <asterisk pid>
#     15360 calls hold_s rate`: the same callers and phones, and the same
#     measurements (RSS idle -> calls up, CPU over 10 s with the calls up,
#     threads).
# Rounds alternate the two systems (Switchboard first), so a load that
# changes on a shared machine weighs on both.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
	echo "usage: bash bench/asterisk_side_by_side.sh ASTERISK_BIN [calls=200] [hold_s=40] [rate=50] [rounds=2]" >&2
	echo "Asterisk is not in Debian bookworm: build it from source (Asterisk 22, PJSIP) and give the" >&2
	echo "path of its binary (recipe: docs/PERFORMANCE.md, \"Side by side with Asterisk\");" >&2
	echo "ASTERISK_MODDIR and ASTERISK_DATADIR override where its modules and data are." >&2
	exit 2
}
num() { [[ "$1" =~ ^[1-9][0-9]*$ ]] || { echo "$2 must be a positive integer, not '$1'" >&2; usage; }; }

[ $# -ge 1 ] && [ -n "$1" ] || { echo "no Asterisk binary given" >&2; usage; }
AST=$1
[ -x "$AST" ] && [ ! -d "$AST" ] || { echo "$AST is not an executable file" >&2; usage; }
CALLS=${2:-200} HOLD=${3:-40} RATE=${4:-50} ROUNDS=${5:-2}
num "$CALLS" calls
num "$HOLD" hold_s
num "$RATE" rate
num "$ROUNDS" rounds
[ "$HOLD" -ge 20 ] || { echo "hold_s must be at least 20 (the window is 10 s with every call up)" >&2; usage; }
# Modules and data (its XML documentation, without which Asterisk refuses
# to start: "Stasis initialization failed") from the install the binary
# belongs to: PREFIX/lib/asterisk/modules and PREFIX/var/lib/asterisk for
# `./configure --prefix=PREFIX`, else the default /usr install's.
PREFIX=$(dirname "$(dirname "$(readlink -f "$AST")")")
# the first of the directories that has $1 in it
first_with() {
	local what=$1 d
	shift
	for d in "$@"; do [ -e "$d/$what" ] && { echo "$d"; return; }; done
	echo "$1"
}
MODDIR=${ASTERISK_MODDIR:-$(first_with chan_pjsip.so "$PREFIX/lib/asterisk/modules" /usr/lib/asterisk/modules)}
DATADIR=${ASTERISK_DATADIR:-$(first_with documentation "$PREFIX/var/lib/asterisk" /var/lib/asterisk /usr/share/asterisk)}
[ -d "$MODDIR" ] || { echo "no Asterisk modules in $MODDIR: set ASTERISK_MODDIR" >&2; usage; }
command -v sox >/dev/null && command -v soxi >/dev/null ||
	{ echo "sox is needed to check the recordings: apt-get install sox" >&2; exit 2; }
for m in chan_pjsip res_pjsip res_pjsip_session res_pjsip_sdp_rtp res_pjsip_endpoint_identifier_anonymous \
	res_rtp_asterisk pbx_config app_dial app_mixmonitor codec_ulaw format_wav bridge_simple; do
	[ -f "$MODDIR/$m.so" ] || { echo "Asterisk module $m.so is not in $MODDIR: build it (menuselect)" >&2; usage; }
done
[ -d "$DATADIR/documentation" ] ||
	{ echo "no Asterisk documentation in $DATADIR/documentation: set ASTERISK_DATADIR" >&2; usage; }
AST_PORT=${BENCH_AST_PORT:-15360}
UAS=${BENCH_UAS_PORT:-15270}
OUT=$PWD/bench/results
mkdir -p "$OUT"
W=$(mktemp -d /tmp/sb-bench-ast.XXXXXX)
APID=
cleanup() {
	if [ -n "$APID" ] && kill -0 "$APID" 2>/dev/null; then
		"$AST" -C "$W/etc/asterisk.conf" -rx "core stop now" >/dev/null 2>&1 || true
		for _ in $(seq 50); do kill -0 "$APID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$APID" 2>/dev/null || true
	fi
	rm -rf "$W"
}
trap cleanup EXIT

# A minimal Asterisk for the scenario, every path under $W.
ast_config() {
	mkdir -p "$W/etc" "$W/run" "$W/log" "$W/spool/monitor" "$W/lib" "$W/db"
	cat >"$W/etc/asterisk.conf" <<EOF
[directories]
astetcdir => $W/etc
astmoddir => $MODDIR
astvarlibdir => $W/lib
astdbdir => $W/db
astkeydir => $W/lib
astdatadir => $DATADIR
astagidir => $W/lib
astspooldir => $W/spool
astrundir => $W/run
astlogdir => $W/log
[options]
maxfiles = 65536
EOF
	cat >"$W/etc/modules.conf" <<'EOF'
[modules]
autoload = yes
noload = chan_sip.so
noload = chan_iax2.so
noload = res_ari.so
noload = res_http_websocket.so
EOF
	cat >"$W/etc/logger.conf" <<'EOF'
[general]
[logfiles]
messages.log => notice,warning,error
EOF
	cat >"$W/etc/rtp.conf" <<'EOF'
[general]
rtpstart = 20000
rtpend = 29999
EOF
	{
		cat <<EOF
[transport-udp]
type = transport
protocol = udp
bind = 127.0.0.1:$AST_PORT

[anonymous]
type = endpoint
context = bench
disallow = all
allow = ulaw
direct_media = no
EOF
		for k in 0 1 2 3; do
			cat <<EOF

[agent$k]
type = aor
contact = sip:agent@127.0.0.1:$((UAS + k))

[agent$k]
type = endpoint
context = bench
aors = agent$k
disallow = all
allow = ulaw
direct_media = no
EOF
		done
	} >"$W/etc/pjsip.conf"
	cat >"$W/etc/extensions.conf" <<'EOF'
[bench]
exten => 7000,1,Answer()
 same => n,MixMonitor(${UNIQUEID}.wav)
 same => n,Dial(PJSIP/agent$[${CALLERID(num)} % 4],30)
 same => n,Hangup()
EOF
}

ast_start() {
	"$AST" -C "$W/etc/asterisk.conf" -f -n -q >"$OUT/asterisk-$1.log" 2>&1 &
	APID=$!
	for _ in $(seq 100); do
		if "$AST" -C "$W/etc/asterisk.conf" -rx "pjsip show transports" 2>/dev/null | grep -q "$AST_PORT"; then
			sleep 2 # the rest of the modules
			return 0
		fi
		kill -0 "$APID" 2>/dev/null || break
		sleep 0.2
	done
	echo "Asterisk did not start (or PJSIP did not bind 127.0.0.1:$AST_PORT): see $OUT/asterisk-$1.log" >&2
	tail -20 "$OUT/asterisk-$1.log" >&2
	exit 1
}

ast_stop() {
	"$AST" -C "$W/etc/asterisk.conf" -rx "core stop now" >/dev/null 2>&1 || kill "$APID" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$APID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$APID" 2>/dev/null || true
	APID=
}

# "cpu_per_call mem_per_call threads successful failed recordings" from voice.sh's output.
figures() {
	awk '/^CPU per call:/ {c = $4} /^memory per call:/ {m = $4} /^threads:/ {t = $2}
		/^sipp callers:/ { for (i = 1; i <= NF; i++) { if ($i == "Successful") s = $(i + 5); if ($i == "Failed") f = $(i + 5) } }
		/^recordings:/ {r = $2}
		function v(x) { return x == "" ? "n/a" : x }
		END { printf "%s %s %s %s %s %s\n", v(c), v(m), v(t), v(s), v(f), v(r) }' "$1"
}

ROWS=()
ast_config
for r in $(seq 1 "$ROUNDS"); do
	echo "round $r: Switchboard ($CALLS calls, $HOLD s, $RATE/s); $(cut -d' ' -f1-3 /proc/loadavg)"
	bash bench/voice.sh bridged "$CALLS" "$HOLD" "$RATE" >"$OUT/side-sb-$r.txt" 2>&1 ||
		{ echo "the Switchboard run failed:"; tail -20 "$OUT/side-sb-$r.txt"; exit 1; }
	ROWS+=("Switchboard $r $(figures "$OUT/side-sb-$r.txt") $(cut -d' ' -f1 /proc/loadavg)")
	echo "round $r: Asterisk; $(cut -d' ' -f1-3 /proc/loadavg)"
	rm -rf "$W/spool/monitor"/*
	ast_start "$r"
	bash bench/voice.sh peer "$APID" "$AST_PORT" "$CALLS" "$HOLD" "$RATE" >"$OUT/side-ast-$r.txt" 2>&1 ||
		{ echo "the Asterisk run failed:"; tail -20 "$OUT/side-ast-$r.txt"; exit 1; }
	sleep 2
	sample=$(find "$W/spool/monitor" -name '*.wav' -print -quit)
	{
		printf 'recordings: %s files (MixMonitor: one mono file, both directions mixed)' \
			"$(find "$W/spool/monitor" -name '*.wav' | wc -l)"
		[ -n "$sample" ] && printf '; sample %s: %s s, RMS %s' "$(basename "$sample")" \
			"$(soxi -D "$sample" 2>/dev/null)" "$(sox "$sample" -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}')"
		echo
	} >>"$OUT/side-ast-$r.txt"
	ast_stop
	ROWS+=("Asterisk $r $(figures "$OUT/side-ast-$r.txt") $(cut -d' ' -f1 /proc/loadavg)")
done

echo
echo "$CALLS bridged + recorded calls, $HOLD s each, $RATE/s; $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); full outputs in bench/results/side-*.txt"
fmt='| %-11s | %-5s | %-26s | %-15s | %-7s | %-10s | %-6s | %-10s | %-10s |\n'
# shellcheck disable=SC2059
printf "$fmt" system round "CPU per call (% of a core)" "memory per call" threads successful failed recordings "load after"
printf "$fmt" | tr ' ' '-'
for row in "${ROWS[@]}"; do
	read -r sys rnd cpu mem thr ok bad recs ld <<<"$row"
	# shellcheck disable=SC2059
	printf "$fmt" "$sys" "$rnd" "$cpu" "$mem KiB" "$thr" "$ok" "$bad" "$recs" "$ld"
done
