#!/bin/sh
# replay.sh BUILD - the fuzz regression inputs: each file under
# regressions/TARGET/ is named after the bug it found and runs through
# BUILD/fuzz/replay-TARGET (built with the build's own compiler and
# sanitizers, and under valgrind when SCRUB_WRAP says so). Run from the
# repository root.
set -u
BUILD=$1
cd "$(dirname "$0")/../.."
fail=0
for dir in tests/fuzz/regressions/*/; do
	t=$(basename "$dir")
	for f in "$dir"*; do
		[ -f "$f" ] || continue
		# shellcheck disable=SC2086
		if ${SCRUB_WRAP:-} "$BUILD/fuzz/replay-$t" "$f" \
			> /dev/null 2>&1; then
			echo "  ok    $t/$(basename "$f")"
		else
			echo "  FAIL  $t/$(basename "$f")"
			fail=1
		fi
	done
done
exit $fail
