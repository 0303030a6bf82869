#!/bin/sh
# Shows that tools/check_includes.sh refuses what it should (issue 11): on a
# copy of src/, a media file that includes call control, an api file that
# includes sip/, and a private header from another module each fail the
# check; the untouched tree passes.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
expect() { # name, want (pass|fail), dir
	if sh "$root/tools/check_includes.sh" "$3" >"$tmp/out" 2>&1; then got=pass; else got=fail; fi
	if [ "$got" = "$2" ]; then echo "check_includes: $1: $got as expected"
	else echo "check_includes: $1: $got, expected $2"; cat "$tmp/out"; fail=1; fi
}
try() { # name, file, line to add
	rm -rf "$tmp/src" && cp -r "$root/src" "$tmp/src"
	printf '%s\n' "$3" >>"$tmp/src/$2"
	expect "$1" fail "$tmp/src"
	grep -q "$2" "$tmp/out" || { echo "check_includes: $1: the report does not name $2"; fail=1; }
}
expect "the tree as it is" pass "$root/src"
try "media/rtp.c including callctl/callctl.h" media/rtp.c '#include "callctl/callctl.h"'
try "api/http.c including sip/sip.h" api/http.c '#include "sip/sip.h"'
try "routing/fsm.c including media/media_int.h" routing/fsm.c '#include "media/media_int.h"'
try "core/util.c including store/store.h" core/util.c '#include "store/store.h"'
exit $fail
