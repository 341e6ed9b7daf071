#!/usr/bin/env bash
# profile.sh BUILD HARNESS - where scrub spends its instructions on the
# reference job: callgrind over 20,000 events of the bench corpus, the top
# functions by instructions executed (repeatable, unlike timings).
set -euo pipefail
BUILD=$1
H=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export SCRUB_KEY=${SCRUB_KEY:-scrub-bench-key}
command -v valgrind > /dev/null || { echo "(valgrind not installed: no profile)"; exit 0; }
# Pipelines read to the end: under pipefail, `head` closing early
# kills the writer with SIGPIPE, and the script with it.
corpus=$(ls -t "${SCRUB_BENCH_CACHE:-/tmp/scrub-bench}"/events-n200000-*.ndjson 2> /dev/null | sed -n 1p)
[[ -n $corpus ]] || { echo "(no cached corpus: no profile)"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -20000 "$corpus" > "$tmp/in"
for pct in 10 100; do
	SCRUB_SAMPLE_PCT=$pct valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$pct" \
		"$BUILD/scrub" run --quiet --policy "$ROOT/policies/bench-reference.scrub" \
		"$tmp/in" > /dev/null 2>&1
	SCRUB_SAMPLE_PCT=$pct valgrind --tool=callgrind --callgrind-out-file="$tmp/cgb.$pct" \
		"$H/baseline_cjson" < "$tmp/in" > /dev/null 2>&1
done
echo "## Profile (callgrind, 20,000 events, instructions executed)"
echo
for pct in 10 100; do
	total=$(callgrind_annotate "$tmp/cg.$pct" | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
	base=$(callgrind_annotate "$tmp/cgb.$pct" | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
	echo "At $pct%: scrub $(awk -v t="$total" 'BEGIN { printf "%.0f", t / 20000 }') instructions per event," \
		"baseline_cjson $(awk -v t="$base" 'BEGIN { printf "%.0f", t / 20000 }')" \
		"($(awk -v a="$base" -v b="$total" 'BEGIN { printf "%.1f", a / b }')× fewer). Top functions:"
	echo
	callgrind_annotate "$tmp/cg.$pct" 2> /dev/null |
		sed -n 's/^ *[0-9,]* (\( *[0-9.]*%\))  *\([^ ]*\)\( \[\(.*\)\]\)\{0,1\}$/\1 \2 \4/p' |
		grep -v 'PROGRAM' |
		awk 'NR <= 8 {
			n = split($2, parts, ":")
			fn = parts[n]
			# Code inlined from a header is counted apart.
			if (n > 1 && parts[1] ~ /\.h$/) {
				m = split(parts[1], dirs, "/")
				fn = fn " (inlined from " dirs[m] ")"
			}
			# A function without symbols: name its library.
			if (fn ~ /^0x/ && $3 != "") {
				m = split($3, dirs, "/")
				fn = fn " in " dirs[m]
			}
			printf "- %s %s\n", $1, fn
		}'
	echo
done
