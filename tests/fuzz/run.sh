#!/bin/sh
# run.sh BUILD SECONDS TARGET... - run each libFuzzer target for SECONDS,
# from the repository root: first over its regression inputs
# (regressions/TARGET/), then fuzzing from its seeds (corpus/TARGET/, or
# for the bytecode targets the compiled policies) into a working corpus
# kept in BUILD/fuzz/corpus/TARGET. Any crash, leak, timeout (10 s per
# input) or broken property fails the run; the input is saved as
# BUILD/fuzz/artifacts/TARGET-crash-... for a new regression test.
set -u
BUILD=$1
SECONDS_EACH=$2
shift 2
cd "$(dirname "$0")/../.."
fail=0

# Bytecode seeds: every policy that compiles, as scrubc builds it.
seeds="$BUILD/fuzz/seeds/bytecode"
rm -rf "$seeds"
mkdir -p "$seeds"
for f in policies/*.scrub tests/e2e/cases/*/policy.scrub; do
	name=$(echo "$f" | tr '/' '_')
	"$BUILD/scrubc" build "$f" -o "$seeds/$name.scrubc" 2> /dev/null || true
done

# One target: its regression inputs, then SECONDS_EACH of fuzzing. The
# verdict goes to BUILD/fuzz/TARGET.result, printed in order by the caller.
fuzz_target() {
	t=$1
	bin="$BUILD/fuzz/fuzz-$t"
	case $t in
	bytecode | sealed) seed=$seeds ;;
	*) seed=tests/fuzz/corpus/$t ;;
	esac
	work="$BUILD/fuzz/corpus/$t"
	log="$BUILD/fuzz/$t.log"
	dict=""
	case $t in
	run | json | ndjson) dict=-dict=tests/fuzz/json.dict ;;
	compile) dict=-dict=tests/fuzz/scrub.dict ;;
	esac
	mkdir -p "$work" "$BUILD/fuzz/artifacts"
	regress=$(find "tests/fuzz/regressions/$t" -type f 2> /dev/null)
	if [ -n "$regress" ]; then
		# shellcheck disable=SC2086
		"$bin" -timeout=10 -rss_limit_mb=4096 $regress > "$log" 2>&1 || {
			echo "FAIL  fuzz-$t: a regression input fails"
			tail -30 "$log"
			return 1
		}
	fi
	# shellcheck disable=SC2086
	if "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 \
		-rss_limit_mb=4096 -print_final_stats=1 $dict \
		-artifact_prefix="$BUILD/fuzz/artifacts/$t-" \
		"$work" "$seed" > "$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "PASS  fuzz-$t: $runs inputs in ${SECONDS_EACH}s"
	else
		echo "FAIL  fuzz-$t (log: $log)"
		grep -E 'ERROR|SUMMARY|property|Test unit written' "$log" |
			head -10
		return 1
	fi
}

# FUZZ_JOBS targets at a time (default 2, one per core of a small CI
# machine): each still gets its full SECONDS_EACH.
jobs=${FUZZ_JOBS:-2}
while [ $# -gt 0 ]; do
	group=""
	n=0
	while [ $# -gt 0 ] && [ $n -lt "$jobs" ]; do
		( fuzz_target "$1" > "$BUILD/fuzz/$1.result" 2>&1 ) &
		group="$group $1"
		n=$((n + 1))
		shift
	done
	wait
	for t in $group; do
		cat "$BUILD/fuzz/$t.result"
		grep -q "^FAIL" "$BUILD/fuzz/$t.result" && fail=1
	done
done
exit $fail
