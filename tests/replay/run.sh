#!/bin/sh
# run.sh BUILD - goldens of `scrub replay` without a bus: each directory
# under cases/ holds a `cmd` file, one shell command run from a scratch
# directory holding a copy of the case (so names in messages are stable),
# with $SCRUB the scrub binary (under $SCRUB_WRAP when set), $CASES the
# cases directory and $SCRUB_SHARED the shared material. It must reproduce, byte for byte:
#
# The case also gets a copy of ../policy.scrub, unless it has its own.
#
#   expected.out      standard output
#   expected.err      optional: standard error
#   expected.status   optional: the exit status (default 0)
#   expected.rejects  optional: the file rejects.ndjson it wrote
#   expected.stats    optional: stats.json, without its "seconds"
#
# UPDATE=1 rewrites the expected files from the actual ones (then review
# the diff before committing).
set -u
BUILD=$(cd "$1" && pwd)
SCRUB_SHARED=$(cd "${SCRUB_SHARED:-../shared}" && pwd)
export SCRUB_SHARED
cd "$(dirname "$0")/cases"
CASES=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
export CASES
export SCRUB="${SCRUB_WRAP:-} $BUILD/scrub"
export SCRUB_KEY=replay-test-key

for dir in */; do
	name=${dir%/}
	work=$tmp/$name
	cp -r "$name" "$work"
	[ -f "$work/policy.scrub" ] || cp ../policy.scrub "$work/"
	status=0
	(cd "$work" && sh ./cmd > "$tmp/$name.out" 2> "$tmp/$name.err") ||
		status=$?
	# Wall time is the one thing that differs between runs.
	if [ -f "$work/stats.json" ]; then
		sed 's/,"seconds":[0-9.]*}$/}/' "$work/stats.json" \
			> "$tmp/$name.stats"
	fi
	if [ "${UPDATE:-0}" = 1 ]; then
		cp "$tmp/$name.out" "$name/expected.out"
		cp "$tmp/$name.err" "$name/expected.err"
		[ -f "$work/rejects.ndjson" ] &&
			cp "$work/rejects.ndjson" "$name/expected.rejects"
		[ -f "$tmp/$name.stats" ] &&
			cp "$tmp/$name.stats" "$name/expected.stats"
		if [ "$status" != 0 ]; then
			echo "$status" > "$name/expected.status"
		fi
		continue
	fi
	ok=1
	for f in out err; do
		[ "$f" = err ] && [ ! -f "$name/expected.err" ] && continue
		cmp -s "$name/expected.$f" "$tmp/$name.$f" || {
			echo "  $name: std$f differs:"
			diff "$name/expected.$f" "$tmp/$name.$f" | head -10
			ok=0
		}
	done
	if [ -f "$name/expected.rejects" ]; then
		cmp -s "$name/expected.rejects" "$work/rejects.ndjson" || {
			echo "  $name: rejects differ:"
			diff "$name/expected.rejects" "$work/rejects.ndjson" |
				head -10
			ok=0
		}
	fi
	if [ -f "$name/expected.stats" ]; then
		cmp -s "$name/expected.stats" "$tmp/$name.stats" || {
			echo "  $name: stats differ:"
			diff "$name/expected.stats" "$tmp/$name.stats" | head -5
			ok=0
		}
	fi
	expected_status=0
	[ -f "$name/expected.status" ] &&
		expected_status=$(cat "$name/expected.status")
	[ "$status" = "$expected_status" ] || {
		echo "  $name: exit status $status, expected $expected_status"
		ok=0
	}
	[ $ok = 1 ] || fail=1
done
exit $fail
