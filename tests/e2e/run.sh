#!/bin/sh
# run.sh BUILD - end-to-end goldens: each directory under cases/ holds a
# policy and an input; `scrub run` must reproduce the expected output,
# rejects, stderr and exit status byte for byte.
#
#   policy.scrub      the policy (or args names another)
#   input.ndjson      the events
#   args              optional: more arguments for `scrub run`, one line
#   env               optional: VAR=VALUE lines for the environment
#   nokey             optional: run without SCRUB_KEY
#   expected.out      standard output
#   expected.rejects  optional: the rejects file
#   expected.err      optional: standard error
#   expected.status   optional: the exit status (default 0)
#
# A case with a `cmd` file runs it instead (several runs, files of its
# own: `sh ./cmd` in a scratch copy of the case, with $SCRUB the scrub
# command and SCRUB_KEY set); its stdout, stderr and status are compared.
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
	if [ -f "$name/cmd" ]; then
		cp -r "$name" "$tmp/$name.work"
		status=0
		(cd "$tmp/$name.work" && SCRUB_KEY=e2e-test-key \
			SCRUB="${SCRUB_WRAP:-} $BUILD/scrub" sh ./cmd \
			> "$tmp/$name.out" 2> "$tmp/$name.err") || status=$?
		echo "$status" > "$tmp/$name.status"
	else (
		cd "$name" || exit 1
		args=""
		[ -f args ] && args=$(cat args)
		status=0
		key=SCRUB_KEY=e2e-test-key
		[ -f nokey ] && key="-u SCRUB_KEY"
		# shellcheck disable=SC2046,SC2086
		env $key $( [ -f env ] && cat env ) \
			${SCRUB_WRAP:-} "$BUILD/scrub" run --policy policy.scrub \
			--rejects "$tmp/$name.rejects" $args input.ndjson \
			> "$tmp/$name.out" 2> "$tmp/$name.err" || status=$?
		echo "$status" > "$tmp/$name.status"
	) fi
	expected_status=0
	[ -f "$name/expected.status" ] && expected_status=$(cat "$name/expected.status")
	if [ "${UPDATE:-0}" = 1 ]; then
		cp "$tmp/$name.out" "$name/expected.out"
		[ -s "$tmp/$name.rejects" ] && cp "$tmp/$name.rejects" "$name/expected.rejects"
		cp "$tmp/$name.err" "$name/expected.err"
		[ "$(cat "$tmp/$name.status")" != 0 ] && cp "$tmp/$name.status" "$name/expected.status"
		continue
	fi
	ok=1
	cmp -s "$name/expected.out" "$tmp/$name.out" || {
		echo "  $name: output differs:"; diff "$name/expected.out" "$tmp/$name.out" | head -10; ok=0; }
	if [ -f "$name/expected.rejects" ]; then
		cmp -s "$name/expected.rejects" "$tmp/$name.rejects" || {
			echo "  $name: rejects differ:"; diff "$name/expected.rejects" "$tmp/$name.rejects" | head -10; ok=0; }
	elif [ -s "$tmp/$name.rejects" ]; then
		echo "  $name: unexpected rejects:"; head -3 "$tmp/$name.rejects"; ok=0
	fi
	if [ -f "$name/expected.err" ]; then
		cmp -s "$name/expected.err" "$tmp/$name.err" || {
			echo "  $name: stderr differs:"; diff "$name/expected.err" "$tmp/$name.err" | head -10; ok=0; }
	fi
	[ "$(cat "$tmp/$name.status")" = "$expected_status" ] || {
		echo "  $name: exit status $(cat "$tmp/$name.status"), expected $expected_status"; ok=0; }
	[ $ok = 1 ] || fail=1
done
exit $fail
