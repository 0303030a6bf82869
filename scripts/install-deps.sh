#!/usr/bin/env bash
# Installs every Debian package Switchboard needs to build, run and test.
# Used by both README commands and by .ci/run. Idempotent; needs root (or sudo).
# chromium is Debian's, for the browser tests (tests/e2e: playwright-core drives
# /usr/bin/chromium; nothing downloads a browser of its own). nftables: the e2e
# quality test drops packets on loopback with it (tests/e2e/lib/lossy.mjs).
set -euo pipefail
PKGS=(
	build-essential pkg-config clang libclang-rt-14-dev
	libuv1-dev libwebsockets-dev libjansson-dev libsqlite3-dev libsodium-dev libyaml-dev
	libcurl4-openssl-dev
	uthash-dev libcmocka-dev sqlite3 wrk curl jq gdb
	libsofia-sip-ua-dev libsndfile1-dev libspandsp-dev libespeak-ng-dev libspeexdsp-dev
	libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us
	libssl-dev libsrtp2-dev libopus-dev
	sip-tester baresip linphone-cli espeak-ng sox flite pocketsphinx-testdata
	chromium nftables
)
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
echo "dependencies ok"
