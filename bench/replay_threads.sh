#!/bin/bash
# replay_threads.sh BUILD SHARED [--count N] [--seed S] [--runs R]
#                   [--sample-pct P]
#
# Throughput of `scrub replay` on the benchmark corpus with --threads 1
# and --threads 2 (the reference policy, NDJSON out to /dev/null), and
# their ratio. Runs alternate between the two so that the drift of a
# shared machine hits both alike; each figure is the median wall time,
# with the CPU time of all threads beside it. The load average is
# printed: other work on the cores eats the second thread's gain.
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

# One run: "wall cpu" seconds (cpu = user + system, all threads).
run() {
	local out
	out=$(mktemp)
	/usr/bin/time -f "%e %U %S" -o "$out" "$BUILD/scrub" replay --quiet \
		--threads "$1" --policy "$POLICY" --param sample_pct="$PCT" \
		"$CORPUS" > /dev/null
	awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$out"
	rm -f "$out"
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

w1=() w2=() c1=() c2=()
for ((i = 0; i < RUNS; i++)); do
	read -r w c <<< "$(run 1)"
	w1+=("$w") c1+=("$c")
	read -r w c <<< "$(run 2)"
	w2+=("$w") c2+=("$c")
done
t1=$(printf '%s\n' "${w1[@]}" | median)
t2=$(printf '%s\n' "${w2[@]}" | median)
u1=$(printf '%s\n' "${c1[@]}" | median)
u2=$(printf '%s\n' "${c2[@]}" | median)

echo "scrub replay: $COUNT events ($BYTES bytes), bench-reference at" \
	"$PCT%, median of $RUNS runs, $(nproc) cores," \
	"load $(cut -d' ' -f1 /proc/loadavg)"
for t in 1 2; do
	s=$t1 u=$u1
	[[ $t == 2 ]] && s=$t2 u=$u2
	awk -v t="$t" -v s="$s" -v u="$u" -v n="$COUNT" -v b="$BYTES" \
		'BEGIN { printf "  --threads %d: %.2f s (cpu %.2f s)  %.0f " \
		"events/s  %.1f MB/s\n", t, s, u, n / s, b / s / 1e6 }'
done
awk -v a="$t1" -v b="$t2" 'BEGIN {
	printf "  speedup, --threads 2 over 1: %.2f\n", a / b }'
