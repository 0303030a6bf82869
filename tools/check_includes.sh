#!/bin/sh
# Module boundaries as a matrix (CONVENTIONS.md §1, docs/ARCHITECTURE.md
# "Which way the dependencies point"): a module includes only other modules'
# public headers (<mod>/<mod>.h; *_int.h stays inside its own folder), and
# only of the modules its row below allows. Anything else fails the build.
#   sh tools/check_includes.sh [SRC_DIR]     (default: src)
# tools/check_includes_test.sh shows that a forbidden include fails.
set -e
src=${1:-src}

# module: the modules it may include (besides itself)
allowed() {
	case "$1" in
	core) echo "" ;;
	store | sip | media | flow | tts | asr) echo "core" ;;
	webrtc) echo "core media" ;;
	routing) echo "core store" ;;
	demo) echo "core store sip" ;;
	callctl) echo "core store routing sip media flow tts asr webrtc" ;;
	hook) echo "core store routing" ;;
	transcript) echo "core store routing asr" ;;
	api) echo "core store routing callctl hook transcript" ;;
	*) echo "?" ;; # a new folder must get its row here
	esac
}

fail=0
for f in $(find "$src" -name '*.[ch]'); do
	rel=${f#"$src"/}
	case "$rel" in */*) mod=${rel%%/*} ;; *) continue ;; esac # src/main.c may include anything
	ok=$(allowed "$mod")
	if [ "$ok" = "?" ]; then
		echo "$f: module '$mod' has no row in tools/check_includes.sh"
		fail=1
		continue
	fi
	for inc in $(grep -o '#include "[a-z_]*/[a-z_]*\.h"' "$f" | sed 's/#include "//; s/"//'); do
		imod=${inc%%/*}
		ifile=${inc#*/}
		[ "$imod" = "$mod" ] && continue
		if [ "$ifile" != "$imod.h" ]; then
			echo "$f: includes private header $inc"
			fail=1
		elif ! echo " $ok " | grep -q " $imod "; then
			echo "$f: $mod must not depend on $imod (allowed: ${ok:-none})"
			fail=1
		fi
	done
done
[ $fail -eq 0 ] && echo "includes ok"
exit $fail
