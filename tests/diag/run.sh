#!/bin/sh
# run.sh BUILD - diagnostic goldens: `scrubc check NAME.scrub` must print
# exactly NAME.expected on stderr and exit with the status on its first
# line ("exit N"). NAME.args, if there, holds more arguments for scrubc
# (options before the file). UPDATE=1 rewrites the expected files.
set -u
BUILD=$(cd "$1" && pwd)
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
for src in *.scrub; do
	name=${src%.scrub}
	status=0
	args=""
	[ -f "$name.args" ] && args=$(cat "$name.args")
	# shellcheck disable=SC2086
	${SCRUB_WRAP:-} "$BUILD/scrubc" check $args "$src" > /dev/null \
		2> "$tmp/err" || status=$?
	{ echo "exit $status"; cat "$tmp/err"; } > "$tmp/actual"
	if [ "${UPDATE:-0}" = 1 ]; then
		cp "$tmp/actual" "$name.expected"
		continue
	fi
	if ! cmp -s "$name.expected" "$tmp/actual"; then
		echo "  $name: diagnostics differ:"
		diff "$name.expected" "$tmp/actual" | head -20
		fail=1
	fi
done
exit $fail
