#!/bin/sh
# run_all.sh BUILD SHARED - every test of one build: the Check unit
# tests, the end-to-end and diagnostic goldens, the policies' own tests and
# the equivalence with the reference implementation. With VALGRIND=1 the C
# programs run under valgrind (errors and leaks fail the test).
set -u
BUILD=$1
SHARED=$2
export SCRUB_SHARED="$SHARED"
cd "$(dirname "$0")/.."

WRAP=""
if [ "${VALGRIND:-0}" = 1 ]; then
	WRAP="valgrind -q --error-exitcode=99 --leak-check=full"
	WRAP="$WRAP --errors-for-leak-kinds=definite,indirect"
	WRAP="$WRAP --show-leak-kinds=definite,indirect"
	WRAP="$WRAP --suppressions=$(pwd)/tests/valgrind.supp"
	export CK_FORK=no
	# Valgrind is ~30x slower: fewer random mutants per policy, every
	# 5th allocation failure point, every 8th event-pattern case.
	export SCRUB_MUTANTS=${SCRUB_MUTANTS:-25}
	export SCRUB_FAILPOINT_STRIDE=${SCRUB_FAILPOINT_STRIDE:-5}
	export SCRUB_PATTERN_STRIDE=${SCRUB_PATTERN_STRIDE:-8}
fi
export SCRUB_WRAP="$WRAP"

passed=0
failed=0
failures=""
# Each test's wall time is shown so a slow CI run says where it went;
# no test depends on it.
run() {
	name=$1
	shift
	start=$(date +%s)
	if "$@"; then
		passed=$((passed + 1))
		echo "PASS  $name ($(($(date +%s) - start))s)"
	else
		failed=$((failed + 1))
		failures="$failures $name"
		echo "FAIL  $name ($(($(date +%s) - start))s)"
	fi
}

for t in "$BUILD"/tests/check_*; do
	[ -x "$t" ] || continue
	# shellcheck disable=SC2086
	run "$(basename "$t")" $WRAP "$t"
done
run e2e tests/e2e/run.sh "$BUILD"
run fuzz-regressions tests/fuzz/replay.sh "$BUILD"
run error-paths tests/errors.sh "$BUILD"
run json-edges /usr/bin/python3 tests/edges.py "$BUILD"
run diagnostics tests/diag/run.sh "$BUILD"
run patterns /usr/bin/python3 tests/patterns/run.py "$BUILD"
run detect tests/detect/run.sh "$BUILD"
run scrubc tests/scrubc/run.sh "$BUILD"
run policy-tests $WRAP "$BUILD/scrubc" test --junit "$BUILD/policy-tests.xml" \
	policies/*.scrub
run equivalence tests/equivalence.sh "$BUILD" "$SHARED"
run lambda /usr/bin/python3 tests/lambda/run.py "$BUILD" "$SHARED"
run lambda-package tests/lambda/package.sh "$BUILD" "$SHARED"
# The CDK app runs no C code: once, in the plain build's run.
if [ -z "$WRAP" ] && [ "${SCRUB_SANITIZED:-0}" != 1 ]; then
	run deploy tests/deploy.sh
fi
run replay tests/replay/run.sh "$BUILD"
run replay-eventbridge /usr/bin/python3 tests/replay/eventbridge_test.py \
	"$BUILD"

echo "$passed passed, $failed failed${failures:+ (}${failures# }${failures:+)}"
[ "$failed" -eq 0 ]
