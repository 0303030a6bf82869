#!/usr/bin/env bash
# Sets everything up and runs every test: cmocka unit tests, the
# integration tests against the real server, and the browser tests (Debian's
# Chromium on the web workspace the server serves), all under ASan+UBSan,
# then the fuzz targets for a bounded time. Ends with one line
# "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh || exit 1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
# Nothing may hang the run: a suite still running after SUITE_TIMEOUT
# seconds is stopped and counted failed (node's --test-timeout would also
# apply to each whole file); a server that ignores SIGTERM fails its test
# with its threads' stacks (tests/integration/lib/server.mjs).
SUITE_TIMEOUT=${SUITE_TIMEOUT:-1800}
mkdir -p build/logs
pass=0 fail=0 flaky=""

T0=$SECONDS
step() { echo; echo "=== $* [at $((SECONDS - T0)) s]"; }

# The release and fuzz builds run beside the tests at SCHED_IDLE priority
# (chrt --idle): they take only CPU the tests leave idle, so they cost the
# tests nothing and the run no wall-clock time of their own.
idle_make() { chrt --idle 0 make -j"$(nproc)" "$@"; }

# Runs the test files $3... (node:test against the ASan server, $2 files at
# a time, its log build/logs/$1.log) and adds their counts. These tests
# drive real peers (sipp, baresip, linphonec, Chromium) on real timers: a
# file with a failure is run once more on its own, and a failure that does
# not repeat is counted passed but printed as FLAKY with its first
# failure's log (build/logs/$1.log).
node_suite() {
	local name=$1 jobs=$2 log=build/logs/$1.log p f files file n rp rf
	shift 2
	SB_BIN="$PWD/build/asan/switchboard" timeout -k 60 "$SUITE_TIMEOUT" \
		node --test --test-concurrency="$jobs" --test-force-exit "$@" 2>&1 | tee "$log"
	p=$(grep -E '^# pass [0-9]+' "$log" | awk '{print $3}')
	f=$(grep -E '^# fail [0-9]+' "$log" | awk '{print $3}')
	if [ -n "$f" ] && [ "$f" -gt 0 ]; then
		files=$(grep -A8 '^not ok' "$log" | grep -o "location: '[^:']*" | sed "s/location: '//" | sort -u)
		for file in $files; do
			n=$(grep -A8 '^not ok' "$log" | grep -c "location: '$file:")
			echo "=== rerunning $file ($n failed)"
			SB_BIN="$PWD/build/asan/switchboard" timeout -k 60 900 \
				node --test --test-concurrency=1 --test-force-exit "$file" >"$log.rerun" 2>&1
			rp=$(grep -E '^# pass [0-9]+' "$log.rerun" | awk '{print $3}')
			rf=$(grep -E '^# fail [0-9]+' "$log.rerun" | awk '{print $3}')
			if [ "${rf:-1}" -eq 0 ] && [ "${rp:-0}" -gt 0 ]; then
				echo "FLAKY: $file: $n failed, then all ${rp} passed on its rerun"
				p=$((p + n)) f=$((f - n)) flaky="$flaky $(basename "$file")"
			else
				cat "$log.rerun"; echo "=== $file failed again on its rerun"
			fi
		done
	fi
	pass=$((pass + ${p:-0})) fail=$((fail + ${f:-1}))
}

step "build (ASan+UBSan)"
if ! make -j"$(nproc)" MODE=asan bin >build/logs/build.log 2>&1; then
	cat build/logs/build.log; echo "0 passed, 1 failed"; exit 1
fi
# The release build (what scripts/demo.sh runs) compiles with -O2, whose
# warnings (-Werror) the ASan build does not all see; it runs beside the unit
# tests and must be done before the integration tests (the README's demo).
idle_make MODE=release bin >build/logs/build-release.log 2>&1 &
release_pid=$!
make -s MODE=asan check-includes || fail=$((fail + 1))
# The include matrix refuses what it should (a forbidden include fails it).
if sh tools/check_includes_test.sh; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
make -s format-check && echo "format ok" || { echo "clang-format: run clang-format -i on the files above"; fail=$((fail + 1)); }

step "unit tests (cmocka)"
# Counts one cmocka binary's log: "p f" (a crash with no summary is 1 failed).
unit_counts() {
	local p f
	p=$(grep -o '\[  PASSED  \] [0-9]*' "$1" | awk '{s+=$4} END {print s+0}')
	f=$(grep -o '\[  FAILED  \] [0-9]*' "$1" | awk '{s+=$4} END {print s+0}')
	[ "$2" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	echo "$p $f"
}
if timeout -k 30 1200 make -j"$(nproc)" MODE=asan unit-build >build/logs/unit-build.log 2>&1; then
	# Each binary runs on its own; some drive real sockets on real timers
	# (test_media_conf's far ends under ASan): a failing one runs once more,
	# and a failure that does not repeat is counted passed and printed FLAKY.
	for t in $(make -s MODE=asan unit-list); do
		name=$(basename "$t") log=build/logs/unit-$(basename "$t").log
		echo "== $t"
		timeout -k 10 600 "$t" >"$log" 2>&1
		rc=$?
		cat "$log"
		read -r p f <<<"$(unit_counts "$log" "$rc")"
		if [ "$rc" -ne 0 ]; then
			echo "=== rerunning $name ($f failed)"
			timeout -k 10 600 "$t" >"$log.rerun" 2>&1
			rc=$?
			read -r rp rf <<<"$(unit_counts "$log.rerun" "$rc")"
			if [ "$rc" -eq 0 ]; then
				echo "FLAKY: $name: $f failed, then all $rp passed on its rerun"
				p=$rp f=0 flaky="$flaky $name"
			else
				cat "$log.rerun"; echo "=== $name failed again on its rerun"
				p=$rp f=$rf
			fi
		fi
		pass=$((pass + p)) fail=$((fail + f))
	done
else
	cat build/logs/unit-build.log; fail=$((fail + 1))
fi

if wait "$release_pid"; then
	echo "release build ok"
else
	cat build/logs/build-release.log; fail=$((fail + 1))
fi
# The fuzz targets build beside the integration and browser tests.
idle_make fuzz >build/logs/fuzz-build.log 2>&1 &
fuzz_build_pid=$!

step "integration tests (node:test against build/asan/switchboard)"
(cd tests/integration && npm ci --no-audit --no-fund --silent) || fail=$((fail + 1))
# Two files at a time: each has its own servers and peers on ports the OS
# calls free, claimed across the files that run at once (a file per port
# under $TMPDIR/sb-test-ports: tests/integration/lib/server.mjs), and they
# mostly wait on real-time audio, so two share the cores without slowing
# each other (14 min one at a time, under 8 two at a time).
# Alone afterwards: the README's commands (fixed ports: 8080, 5060) and the
# SIP flood (1,000 INVITEs/s with a time bound). The browser tests stay one
# at a time: two Chromiums and their servers under ASan would compete for
# the two cores.
alone="tests/integration/readme.test.mjs tests/integration/sip_flood.test.mjs"
# shellcheck disable=SC2046,SC2086
node_suite integration 2 $(ls tests/integration/*.test.mjs | grep -v -e /readme.test -e /sip_flood.test)
# shellcheck disable=SC2086
node_suite integration-alone 1 $alone

step "web workspace build (web/dist)"
if (cd web && npm ci --no-audit --no-fund --silent && npm run --silent build) >build/logs/web-build.log 2>&1; then
	echo "web build ok"
else
	cat build/logs/web-build.log; fail=$((fail + 1))
fi

step "end-to-end tests (Chromium + playwright-core against build/asan/switchboard)"
(cd tests/e2e && npm ci --no-audit --no-fund --silent) || fail=$((fail + 1))
node_suite e2e 1 tests/e2e/
echo "screenshots: build/screenshots/"

step "fuzz targets (${FUZZ_SECONDS}s each, $(nproc) at a time)"
# One fuzzer per core at a time: the same time per target, a third of the
# wall-clock time on CI (CI's whole run is kept under 20 minutes).
fuzz_one() {
	local fz=$1 name corpus work rc
	name=$(basename "$fz"); corpus="tests/fuzz/corpus/${name#fuzz_}"
	work=$(mktemp -d); [ -d "$corpus" ] && cp -r "$corpus/." "$work/"
	timeout -k 10 $((FUZZ_SECONDS + 120)) "$fz" -max_total_time="$FUZZ_SECONDS" -timeout=30 -print_final_stats=1 "$work" >"build/logs/$name.log" 2>&1
	rc=$?; rm -rf "$work"; return $rc
}
if wait "$fuzz_build_pid"; then
	fuzzers=(build/fuzz/fuzz_*)
	for ((i = 0; i < ${#fuzzers[@]}; i += $(nproc))); do
		batch=("${fuzzers[@]:i:$(nproc)}") pids=()
		for fz in "${batch[@]}"; do fuzz_one "$fz" & pids+=($!); done
		for j in "${!batch[@]}"; do
			name=$(basename "${batch[j]}")
			if wait "${pids[j]}"; then
				echo "$name: ok ($(grep -o 'stat::number_of_executed_units: *[0-9]*' \
					"build/logs/$name.log" | awk '{print $2}') runs)"
				pass=$((pass + 1))
			else
				tail -40 "build/logs/$name.log"; echo "$name: FAILED"; fail=$((fail + 1))
			fi
		done
	done
else
	cat build/logs/fuzz-build.log; fail=$((fail + 1))
fi

echo
[ -n "$flaky" ] && echo "flaky (failed once, passed on their rerun):$flaky"
echo "(the whole run took $((SECONDS - T0)) s)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
