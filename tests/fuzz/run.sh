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

for t in "$@"; do
	bin="$BUILD/fuzz/fuzz-$t"
	case $t in
	bytecode | sealed) seed=$seeds ;;
	*) seed=tests/fuzz/corpus/$t ;;
	esac
	work="$BUILD/fuzz/corpus/$t"
	dict=""
	case $t in
	run | json | ndjson) dict=-dict=tests/fuzz/json.dict ;;
	compile) dict=-dict=tests/fuzz/scrub.dict ;;
	esac
	mkdir -p "$work" "$BUILD/fuzz/artifacts"
	regress=$(find "tests/fuzz/regressions/$t" -type f 2> /dev/null)
	if [ -n "$regress" ]; then
		# shellcheck disable=SC2086
		"$bin" -timeout=10 -rss_limit_mb=4096 $regress \
			> "$BUILD/fuzz/$t.log" 2>&1 || {
			echo "FAIL  fuzz-$t: a regression input fails"
			tail -30 "$BUILD/fuzz/$t.log"
			fail=1
			continue
		}
	fi
	# shellcheck disable=SC2086
	if "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 \
		-rss_limit_mb=4096 -print_final_stats=1 $dict \
		-artifact_prefix="$BUILD/fuzz/artifacts/$t-" \
		"$work" "$seed" > "$BUILD/fuzz/$t.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
			"$BUILD/fuzz/$t.log")
		echo "PASS  fuzz-$t: $runs inputs in ${SECONDS_EACH}s"
	else
		echo "FAIL  fuzz-$t (log: $BUILD/fuzz/$t.log)"
		grep -E 'ERROR|SUMMARY|property|Test unit written' \
			"$BUILD/fuzz/$t.log" | head -10
		fail=1
	fi
done
exit $fail
