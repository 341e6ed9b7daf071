#!/bin/sh
# run.sh BUILD - `scrub detect` goldens: each directory under cases/ holds
# the arguments and the input lines; the output, stderr and exit status
# must match byte for byte.
#
#   args              the arguments after `scrub detect`, one line
#   input.txt         standard input
#   expected.out      standard output
#   expected.err      optional: standard error (default: empty)
#   expected.status   optional: the exit status (default 0)
#
# UPDATE=1 rewrites the expected files from the actual ones (then review
# the diff before committing).
set -u
BUILD=$(cd "$1" && pwd)
cd "$(dirname "$0")/cases"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

for dir in */; do
	name=${dir%/}
	status=0
	# shellcheck disable=SC2046,SC2086
	${SCRUB_WRAP:-} "$BUILD/scrub" detect $(cat "$name/args") \
		< "$name/input.txt" > "$tmp/out" 2> "$tmp/err" || status=$?
	if [ "${UPDATE:-0}" = 1 ]; then
		cp "$tmp/out" "$name/expected.out"
		[ -s "$tmp/err" ] && cp "$tmp/err" "$name/expected.err"
		[ "$status" != 0 ] && echo "$status" > "$name/expected.status"
		continue
	fi
	expected_status=0
	[ -f "$name/expected.status" ] &&
		expected_status=$(cat "$name/expected.status")
	expected_err=/dev/null
	[ -f "$name/expected.err" ] && expected_err="$name/expected.err"
	ok=1
	cmp -s "$name/expected.out" "$tmp/out" || {
		echo "  $name: output differs:"
		diff "$name/expected.out" "$tmp/out" | head -10; ok=0; }
	cmp -s "$expected_err" "$tmp/err" || {
		echo "  $name: stderr differs:"
		diff "$expected_err" "$tmp/err" | head -10; ok=0; }
	[ "$status" = "$expected_status" ] || {
		echo "  $name: exit status $status, expected $expected_status"
		ok=0; }
	[ $ok = 1 ] || fail=1
done
exit $fail
