#!/bin/sh
# run.sh BUILD - goldens of the scrubc commands (test, fmt, explain,
# fields, check's JSON and SARIF output).
#
# Each directory under cases/ is one run of scrubc, from the top of the
# tree so that file names in the output read the same everywhere:
#
#   cmd               the arguments, one line; $OUT is a scratch directory
#   expected.out      standard output
#   expected.err      standard error
#   expected.status   the exit status (default 0)
#   validate          optional: "KIND FILE" lines for validate.py, FILE
#                     under $OUT (stdout is $OUT/stdout)
#
# Then fmt: each fmt/NAME.scrub must format to fmt/NAME.expected, which
# must format to itself (idempotence) and pass --check; every policy in
# policies/ must be in canonical form; every policy in policies/ and fmt/
# must format stably, to the same bytecode (line numbers aside). And validate.py must refuse each file in bad/. UPDATE=1
# rewrites the expected files.
set -u
BUILD=$(cd "$1" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=tests/scrubc
PY=/usr/bin/python3
cd "$ROOT" || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

same() {
	# same WHAT EXPECTED ACTUAL
	if [ "${UPDATE:-0}" = 1 ]; then
		cp "$3" "$2"
		return
	fi
	cmp -s "$2" "$3" && return
	echo "  $1 differs:"
	diff "$2" "$3" | head -20
	fail=1
}

for dir in "$HERE"/cases/*/; do
	name=$(basename "$dir")
	OUT="$tmp/$name"
	mkdir -p "$OUT"
	status=0
	# shellcheck disable=SC2046
	eval "\${SCRUB_WRAP:-} \"$BUILD/scrubc\" $(cat "$dir/cmd")" \
		> "$OUT/stdout" 2> "$OUT/stderr" || status=$?
	same "$name: stdout" "$dir/expected.out" "$OUT/stdout"
	same "$name: stderr" "$dir/expected.err" "$OUT/stderr"
	want=0
	[ -f "$dir/expected.status" ] && want=$(cat "$dir/expected.status")
	if [ "${UPDATE:-0}" = 1 ]; then
		[ "$status" != 0 ] && echo "$status" > "$dir/expected.status"
	elif [ "$status" != "$want" ]; then
		echo "  $name: exit status $status, expected $want"
		fail=1
	fi
	[ -f "$dir/validate" ] || continue
	while read -r kind file; do
		$PY "$HERE/validate.py" "$kind" "$OUT/$file" || {
			echo "  $name: $file is not valid $kind"
			fail=1
		}
	done < "$dir/validate"
done

fmt() {
	${SCRUB_WRAP:-} "$BUILD/scrubc" fmt - < "$1" > "$2" 2>&1
}

for src in "$HERE"/fmt/*.scrub; do
	name=${src%.scrub}
	fmt "$src" "$tmp/once" || { echo "  fmt $src failed"; fail=1; }
	same "fmt $src" "$name.expected" "$tmp/once"
	fmt "$name.expected" "$tmp/twice"
	cmp -s "$name.expected" "$tmp/twice" || {
		echo "  fmt is not idempotent on $name.expected:"
		diff "$name.expected" "$tmp/twice" | head -10
		fail=1
	}
	cp "$name.expected" "$tmp/canonical.scrub"
	"$BUILD/scrubc" fmt --check "$tmp/canonical.scrub" > /dev/null || {
		echo "  fmt --check refuses $name.expected"
		fail=1
	}
	if ! cmp -s "$src" "$name.expected"; then
		cp "$src" "$tmp/raw.scrub"
		if "$BUILD/scrubc" fmt --check "$tmp/raw.scrub" > /dev/null; then
			echo "  fmt --check passes $src, which is not canonical"
			fail=1
		fi
	fi
done

# The validator itself must refuse what is wrong.
for bad in "$HERE"/bad/*; do
	case $bad in
	*.sarif) kind=sarif ;;
	*.xml) kind=junit ;;
	*) kind=json ;;
	esac
	if $PY "$HERE/validate.py" "$kind" "$bad" > /dev/null; then
		echo "  validate.py accepts $bad"
		fail=1
	fi
done

# The example policies are what users copy: each in canonical form.
"$BUILD/scrubc" fmt --check policies/*.scrub || {
	echo "  a policy in policies/ is not in canonical form"
	fail=1
}

# The bytecode without its line numbers (FILE:LINE with includes): what a
# policy means.
meaning() {
	"$BUILD/scrubc" disasm "$1" 2> /dev/null |
		sed -E 's/^( *[0-9]+) +([^ ]+:)?[0-9]+ +/\1 /; s/"line [0-9]+"/"line N"/g'
}

# Formatting keeps what every policy means (those that compile), and is
# stable on each.
for p in policies/*.scrub "$HERE"/fmt/*.scrub; do
	fmt "$p" "$tmp/once.scrub" && fmt "$tmp/once.scrub" "$tmp/twice" &&
		cmp -s "$tmp/once.scrub" "$tmp/twice" || {
		echo "  fmt is not stable on $p"
		fail=1
	}
	meaning "$p" > "$tmp/before"
	[ -s "$tmp/before" ] || continue
	meaning "$tmp/once.scrub" > "$tmp/after"
	cmp -s "$tmp/before" "$tmp/after" || {
		echo "  fmt changes what $p means:"
		diff "$tmp/before" "$tmp/after" | head -10
		fail=1
	}
done
exit $fail
