#!/bin/sh
# errors.sh BUILD - the error paths of `scrub run` and `scrubc`: a full
# disk (/dev/full), inputs that cannot be opened or read, a missing
# policy or key file, truncated bytecode. Each must exit 2 (1 for a
# policy's error) with exactly the expected message, and nothing may be
# emitted after a failed write.
set -u
BUILD=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."
ROOT=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export SCRUB_KEY=errors-test-key-0123456789abcdef
P=policies/orders-to-stage.scrub
E=policies/examples/orders-to-stage.events.ndjson
fail=0

# check NAME STATUS EXPECTED-STDERR -- COMMAND...: run it (in $tmp), and
# compare the exit status and standard error.
check() {
	name=$1
	want_status=$2
	if [ -n "$3" ]; then printf '%s\n' "$3"; fi > "$tmp/want"
	shift 4
	status=0
	(cd "$tmp" && ${SCRUB_WRAP:-} "$@") > "$tmp/out" 2> "$tmp/err" ||
		status=$?
	if [ "$status" != "$want_status" ] ||
		! cmp -s "$tmp/want" "$tmp/err"; then
		echo "  FAIL  $name: exit $status (want $want_status)"
		diff "$tmp/want" "$tmp/err" | head -10
		fail=1
	else
		echo "  ok    $name"
	fi
}

check run-output-full 2 "scrub: error writing /dev/full: No space left on device
scrub: 3 read, 3 emitted (not all written: the output failed), 0 dropped, 0 rejected" -- \
	"$BUILD/scrub" run --policy "$ROOT/$P" --output /dev/full "$ROOT/$E"
check run-stdout-full 2 "scrub: error writing standard output: No space left on device
scrub: 3 read, 3 emitted (not all written: the output failed), 0 dropped, 0 rejected" -- \
	sh -c "exec \"$BUILD/scrub\" run --policy \"$ROOT/$P\" \"$ROOT/$E\" > /dev/full"
check replay-stdout-full 2 "scrub: error writing standard output: No space left on device
scrub: 3 read, 3 emitted (not all written: the output failed), 0 dropped, 0 rejected" -- \
	sh -c "exec \"$BUILD/scrub\" replay --threads 1 --policy \"$ROOT/$P\" \"$ROOT/$E\" > /dev/full"
check run-rejects-full 2 "scrub: error writing /dev/full: No space left on device
scrub: 1 read, 0 emitted, 0 dropped, 1 rejected (invalid_json 1)
scrub: hint: no line was a JSON object: input must be NDJSON, one event per line; convert a JSON file with jq -c . FILE (an array of events: jq -c '.[]' FILE)" -- \
	sh -c "echo 'not json' | \"$BUILD/scrub\" run --policy \"$ROOT/$P\" --rejects /dev/full"
# --rejects /dev/stderr and --output /dev/stdout write where the shell
# sent them, after what is there (2>>, >>), not over it.
check run-rejects-dev-stderr-appends 0 "before
{\"input\":\"-\",\"line\":1,\"code\":\"invalid_json\",\"message\":\"invalid literal at byte 0\",\"rule\":null,\"policy\":null}
scrub: 1 read, 0 emitted, 0 dropped, 1 rejected (invalid_json 1)
scrub: hint: no line was a JSON object: input must be NDJSON, one event per line; convert a JSON file with jq -c . FILE (an array of events: jq -c '.[]' FILE)" -- \
	sh -c "echo before > log; echo 'not json' | \"$BUILD/scrub\" run --policy \"$ROOT/$P\" --rejects /dev/stderr 2>> log; cat log >&2"
check run-output-dev-stdout-appends 0 "before
{\"version\":\"0\",\"id\":\"c5e7a1d2-" -- \
	sh -c "echo before > out; \"$BUILD/scrub\" run --quiet --policy \"$ROOT/$P\" --output /dev/stdout \"$ROOT/$E\" >> out; head -2 out | cut -c1-30 >&2"
check run-missing-input 2 "scrub: cannot open 'missing.ndjson': No such file or directory" -- \
	"$BUILD/scrub" run --policy "$ROOT/$P" missing.ndjson
mkdir "$tmp/dir"
check run-input-directory 2 "scrub: cannot read 'dir': Is a directory" -- \
	"$BUILD/scrub" run --policy "$ROOT/$P" dir
check run-input-unreadable 2 "scrub: error reading '/proc/self/mem': Input/output error
scrub: 0 read, 0 emitted, 0 dropped, 0 rejected" -- \
	"$BUILD/scrub" run --policy "$ROOT/$P" /proc/self/mem
check run-unknown-param 2 "scrub: policy 'bench-reference' has no parameter 'sample_pc' (its parameters: sample_pct)" -- \
	"$BUILD/scrub" run --policy "$ROOT/policies/bench-reference.scrub" --param sample_pc=5 "$ROOT/$E"
check replay-policy-as-input 2 "scrub: replay: --policy FILE is required (did you mean --policy $ROOT/$P?)" -- \
	"$BUILD/scrub" replay "$ROOT/$P"
# A bad option is named with what to do, and the usage line (not the
# whole help): a typo, a name that is part of an option's, an ambiguous
# prefix, a value given to a flag or missing from an option, a short one.
check replay-unknown-option 2 "scrub: replay: unknown option '--bus' (did you mean '--event-bus-name'?)
usage: scrub replay --policy FILE [options] [INPUT...]
(scrub replay --help lists the options)" -- \
	"$BUILD/scrub" replay --bus dev --policy "$ROOT/$P"
check run-option-typo 2 "scrub: run: unknown option '--keyfile' (did you mean '--key-file'?)
usage: scrub run --policy FILE [options] [INPUT...]
(scrub run --help lists the options)" -- \
	"$BUILD/scrub" run --keyfile=k --policy "$ROOT/$P"
check run-option-ambiguous 2 "scrub: run: option '--max' is ambiguous: --max-event-bytes, --max-depth, --max-values, --max-steps...
usage: scrub run --policy FILE [options] [INPUT...]
(scrub run --help lists the options)" -- \
	"$BUILD/scrub" run --max 5 --policy "$ROOT/$P"
check run-flag-with-value 2 "scrub: run: option '--quiet' takes no value
usage: scrub run --policy FILE [options] [INPUT...]
(scrub run --help lists the options)" -- \
	"$BUILD/scrub" run --quiet=yes --policy "$ROOT/$P"
check run-option-without-value 2 "scrub: run: option '--policy' needs a value
usage: scrub run --policy FILE [options] [INPUT...]
(scrub run --help lists the options)" -- \
	"$BUILD/scrub" run --policy
check detect-unknown-short-option 2 "scrub: detect: unknown option '-x'
usage: scrub detect [--with NAME[,NAME...]] [--show]
(scrub detect --help lists the options)" -- \
	"$BUILD/scrub" detect -x
check test-pattern-unknown-option 2 "scrub: test-pattern: unknown option '--pattern' (did you mean '--event-pattern'?)
usage: scrub test-pattern --event-pattern PATTERN --event EVENT
(scrub test-pattern --help lists the options)" -- \
	"$BUILD/scrub" test-pattern --pattern '{}' --event '{}'
check test-pattern-without-pattern 2 "scrub: test-pattern: --event-pattern PATTERN is required" -- \
	"$BUILD/scrub" test-pattern --event '{}'
check test-pattern-without-event 2 "scrub: test-pattern: --event EVENT is required" -- \
	"$BUILD/scrub" test-pattern --event-pattern '{}'
check test-pattern-bare-argument 2 "scrub: test-pattern: unexpected argument '{}' (PATTERN and EVENT go with --event-pattern and --event)" -- \
	"$BUILD/scrub" test-pattern --event-pattern '{}' '{}'
# A short option is named as written, not as the long option that
# shares its getopt value (-p was reported as --event-pattern).
check test-pattern-short-option 2 "scrub: test-pattern: unknown option '-p'
usage: scrub test-pattern --event-pattern PATTERN --event EVENT
(scrub test-pattern --help lists the options)" -- \
	"$BUILD/scrub" test-pattern -p '{}' --event '{}'
check run-missing-policy 2 "scrub: cannot open 'missing.scrub': No such file or directory" -- \
	"$BUILD/scrub" run --policy missing.scrub "$ROOT/$E"
check run-missing-key-file 2 "scrub: cannot open key file 'missing.key': No such file or directory" -- \
	env -u SCRUB_KEY "$BUILD/scrub" run --policy "$ROOT/$P" \
	--key-file missing.key "$ROOT/$E"

# Truncated bytecode: cut inside the body, and inside the header.
"$BUILD/scrubc" build "$ROOT/$P" -o "$tmp/p.scrubc" || fail=1
size=$(wc -c < "$tmp/p.scrubc")
head -c 100 "$tmp/p.scrubc" > "$tmp/cut.scrubc"
head -c 10 "$tmp/p.scrubc" > "$tmp/short.scrubc"
check run-truncated-bytecode 2 "scrub: invalid bytecode: file is 100 bytes but the header says $size (truncated or padded)" -- \
	"$BUILD/scrub" run --policy cut.scrubc "$ROOT/$E"
check run-truncated-header 2 "scrub: invalid bytecode: file is 10 bytes, too short for the 24-byte header (truncated)" -- \
	"$BUILD/scrub" run --policy short.scrubc "$ROOT/$E"
check disasm-truncated-bytecode 2 "scrubc: cut.scrubc: invalid bytecode: file is 100 bytes but the header says $size (truncated or padded)" -- \
	"$BUILD/scrubc" disasm cut.scrubc
[ -s "$tmp/out" ] && { echo "  FAIL  disasm printed a listing"; fail=1; }

# One whole-file reader for every command: a directory is a read error,
# named by the command that read it (disasm used to read it as empty
# source and compile that).
check disasm-directory 2 "scrubc: cannot read 'dir': Is a directory" -- \
	"$BUILD/scrubc" disasm dir
check run-key-file-directory 2 "scrub: cannot read key file 'dir': Is a directory" -- \
	env -u SCRUB_KEY "$BUILD/scrub" run --policy "$ROOT/$P" \
	--key-file dir "$ROOT/$E"

# Regression: `scrubc build -o DEVICE` wrote DEVICE.tmp and renamed it
# over the device (as root, /dev/full became a regular file). A FIFO
# stands in for the device first: it must stay a FIFO and get the bytes.
# Only then is /dev/full itself tried, so an old build cannot break it.
mkfifo "$tmp/fifo"
cat "$tmp/fifo" > "$tmp/from-fifo" &
reader=$!
check build-to-fifo 0 "" -- "$BUILD/scrubc" build "$ROOT/$P" -o fifo
if [ -p "$tmp/fifo" ]; then
	wait "$reader"
	if cmp -s "$tmp/from-fifo" "$tmp/p.scrubc"; then
		check build-output-full 2 "scrubc: cannot write '/dev/full': No space left on device" -- \
			"$BUILD/scrubc" build "$ROOT/$P" -o /dev/full
	else
		echo "  FAIL  build-to-fifo: the FIFO got other bytes"
		fail=1
	fi
else
	kill "$reader" 2> /dev/null
	echo "  FAIL  build-to-fifo: the FIFO was replaced by a file"
	fail=1
fi
[ -c /dev/full ] || { echo "  FAIL  /dev/full is no longer a device"; fail=1; }

# scrubc build to a missing directory, from a missing source.
check build-missing-directory 2 "scrubc: cannot write 'dir/none/p.scrubc': No such file or directory" -- \
	"$BUILD/scrubc" build "$ROOT/$P" -o dir/none/p.scrubc
check build-missing-source 2 "scrubc: error: cannot open 'missing.scrub': No such file or directory
1 error generated." -- \
	"$BUILD/scrubc" build missing.scrub -o p2.scrubc
[ -e "$tmp/p2.scrubc" ] && { echo "  FAIL  a failed build left a file"; fail=1; }

# Regression (review A11): a value nested past the loader's limit built
# bytecode every host refused; now it is an error (exit 1) at the value,
# and the old OUT stays.
cp tests/diag/json-nest.scrub "$tmp/"
echo old > "$tmp/nest.scrubc"
check build-json-nest 1 "$(tail -n +2 tests/diag/json-nest.expected)" -- \
	"$BUILD/scrubc" build json-nest.scrub -o nest.scrubc
[ "$(cat "$tmp/nest.scrubc")" = old ] ||
	{ echo "  FAIL  build-json-nest replaced its output"; fail=1; }
exit $fail
