#!/bin/bash
# replay_threads.sh BUILD SHARED [--count N] [--seed S] [--runs R]
#                   [--sample-pct P]
#
# Throughput of `scrub replay` on the benchmark corpus with --threads 1
# and --threads 2 (the reference policy, NDJSON out to /dev/null), and
# their ratio. Runs alternate between the two so that the drift of a
# shared machine hits both alike; each figure is the median wall time.
set -euo pipefail
BUILD=$(cd "$1" && pwd)
SHARED=$(cd "$2" && pwd)
shift 2
COUNT=200000 SEED=1 RUNS=5 PCT=10
while [[ $# -gt 0 ]]; do
	case $1 in
	--count) COUNT=$2; shift 2 ;;
	--seed) SEED=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--sample-pct) PCT=$2; shift 2 ;;
	*) echo "usage: $0 BUILD SHARED [--count N] [--seed S] [--runs R]" \
		"[--sample-pct P]" >&2; exit 2 ;;
	esac
done
# shellcheck source=/dev/null
source "$SHARED/bench/lib.sh"
POLICY=$(cd "$(dirname "$0")/.." && pwd)/policies/bench-reference.scrub
CORPUS=$(corpus "$COUNT" "$SEED")
BYTES=$(stat -c %s "$CORPUS")

# One run: wall seconds.
run() {
	local t0 t1
	t0=$(date +%s%N)
	"$BUILD/scrub" replay --quiet --threads "$1" --policy "$POLICY" \
		--param sample_pct="$PCT" "$CORPUS" > /dev/null
	t1=$(date +%s%N)
	awk -v ns="$((t1 - t0))" 'BEGIN { printf "%.4f\n", ns / 1e9 }'
}

median() {
	sort -g | awk '{ v[NR] = $1 } END { m = int((NR + 1) / 2)
		print (NR % 2) ? v[m] : (v[m] + v[m + 1]) / 2 }'
}

# Both must write the same bytes before any timing counts.
a=$("$BUILD/scrub" replay --quiet --threads 1 --policy "$POLICY" \
	--param sample_pct="$PCT" "$CORPUS" | cksum)
b=$("$BUILD/scrub" replay --quiet --threads 2 --policy "$POLICY" \
	--param sample_pct="$PCT" "$CORPUS" | cksum)
[[ $a == "$b" ]] || die "--threads 1 and 2 write different output"

t1s=() t2s=()
for ((i = 0; i < RUNS; i++)); do
	t1s+=("$(run 1)")
	t2s+=("$(run 2)")
done
t1=$(printf '%s\n' "${t1s[@]}" | median)
t2=$(printf '%s\n' "${t2s[@]}" | median)

echo "scrub replay: $COUNT events ($BYTES bytes), bench-reference at" \
	"$PCT%, median of $RUNS runs, $(nproc) cores"
for t in 1 2; do
	s=$t1
	[[ $t == 2 ]] && s=$t2
	awk -v t="$t" -v s="$s" -v n="$COUNT" -v b="$BYTES" 'BEGIN {
		printf "  --threads %d: %.3f s  %.0f events/s  %.1f MB/s\n",
			t, s, n / s, b / s / 1e6 }'
done
awk -v a="$t1" -v b="$t2" 'BEGIN {
	printf "  speedup, --threads 2 over 1: %.2f\n", a / b }'
