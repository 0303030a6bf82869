#!/bin/sh
# CONVENTIONS.md §1: a module includes only other modules' public headers
# (<mod>/<mod>.h); *_int.h stays inside its own folder. Dependencies point
# core <- store <- routing <- api <- main; asr depends on core only.
set -e
fail=0
for f in $(find src -name '*.[ch]'); do
	mod=$(echo "$f" | cut -d/ -f2)
	grep -o '#include "[a-z_]*/[a-z_]*\.h"' "$f" | sed 's/#include "//; s/"//' | while read -r inc; do
		imod=${inc%%/*}
		ifile=${inc#*/}
		if [ "$imod" != "$mod" ] && [ "$ifile" != "$imod.h" ]; then
			echo "$f: includes private header $inc"; exit 1
		fi
		case "$mod:$imod" in
		core:store|core:routing|core:api|store:routing|store:api|routing:api)
			echo "$f: $mod must not depend on $imod"; exit 1;;
		core:asr|asr:*) # asr/ runs engines on the pool: core only, never media or callctl
			[ "$imod" = core ] || [ "$imod" = asr ] || { echo "$f: $mod must not depend on $imod"; exit 1; };;
		esac
	done || fail=1
done
[ $fail -eq 0 ] && echo "includes ok"
exit $fail
