#!/bin/sh
# equivalence.sh BUILD SHARED - policies/bench-reference.scrub must produce
# output byte-identical to the reference implementation of POLICY.md
# (SHARED/bench/baseline_python.py), on 10,000 generated events and on the
# hand-written edge cases, at sampling rates 10 and 100.
set -u
BUILD=$(cd "$1" && pwd)
SHARED=$(cd "$2" && pwd)
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export SCRUB_KEY=scrub-equivalence-key

python3 "$SHARED/bench/gen_events.py" --count 10000 --seed 7 > "$tmp/corpus" || exit 1
fail=0
for input in "$tmp/corpus" "$SHARED/bench/testdata/edge_cases.ndjson"; do
	for pct in 10 100; do
		SCRUB_SAMPLE_PCT=$pct python3 "$SHARED/bench/baseline_python.py" \
			< "$input" > "$tmp/expected" 2> /dev/null || exit 1
		# The rate goes in as a parameter here, and through the
		# environment (SCRUB_SAMPLE_PCT) in the bench harness.
		for mode in "" --lazy-validation; do
			${SCRUB_WRAP:-} "$BUILD/scrub" run --quiet $mode \
				--policy policies/bench-reference.scrub \
				--param sample_pct=$pct "$input" \
				> "$tmp/actual" || exit 1
			what="$(basename "$input") at $pct%${mode:+ ($mode)}"
			if cmp -s "$tmp/expected" "$tmp/actual"; then
				echo "  same: $what: $(wc -l < "$tmp/actual") events"
			else
				echo "  DIFFERENT: $what:"
				cmp "$tmp/expected" "$tmp/actual"
				fail=1
			fi
		done
	done
done
exit $fail
