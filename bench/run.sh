#!/usr/bin/env bash
# run.sh BUILD SHARED - `make bench`: scrub against every contender of
# SHARED/bench on the same corpus, at 10% (the reference job) and 100%
# sampling, as ratios to baseline_cjson; also writes bench/RESULTS.md with
# the machine and a profile summary. Timing stays out of `make check`.
#
#   RUNS=N        timed runs per contender (median reported), default 3
#   COUNT=N       events in the corpus, default 200000
#   ONLY=a,b      only these contenders (harness names)
set -euo pipefail
BUILD=$(cd "$1" && pwd)
SHARED=$(cd "$2" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-3}
COUNT=${COUNT:-200000}
export SCRUB_KEY=${SCRUB_KEY:-scrub-bench-key}

# The harness builds its C contenders where it lives: use a copy, since
# SHARED is read-only reference material.
H=$BUILD/bench-harness
rm -rf "$H"
cp -r "$SHARED/bench" "$H"
chmod -R u+w "$H"
make -s -C "$H" >&2

scrub="$BUILD/scrub run --quiet --policy $ROOT/policies/bench-reference.scrub"
floor="$BUILD/scrub run --quiet --policy $ROOT/bench/passthrough.scrub"
contenders=(--add "scrub|policy|$scrub" --add "scrub_floor|floor|$floor")
if "$BUILD/scrub" replay --help > /dev/null 2>&1; then
	contenders+=(--add "scrub_2threads|policy|$BUILD/scrub replay --quiet \
--threads 2 --policy $ROOT/policies/bench-reference.scrub")
fi
only=()
[[ -n ${ONLY:-} ]] && only=(--only "$ONLY")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Add a column: throughput as a multiple of baseline_cjson's.
ratios() {
	awk -F'|' '
	function flush(   i, r) {
		for (i = 1; i <= n; i++) {
			r = "n/a"
			if (base > 0 && wall[i] > 0)
				r = sprintf("%.2f", base / wall[i])
			printf "%s %s |\n", rows[i], r
		}
		n = 0
	}
	/^\| contender/ { print $0 " × baseline_cjson |"; next }
	/^\|---/ { print $0 "--:|"; next }
	/^\| / {
		rows[++n] = $0
		wall[n] = $4 + 0
		name = $2
		gsub(/ /, "", name)
		if (name == "baseline_cjson")
			base = wall[n]
		next
	}
	{ flush(); print }
	END { flush() }'
}

echo "== reference job (10% sample)" >&2
"$H/run_baselines.sh" --count "$COUNT" --runs "$RUNS" "${contenders[@]}" \
	"${only[@]}" > "$tmp/r10.md"
echo "== transform-heavy (100% sample)" >&2
"$H/run_baselines.sh" --count "$COUNT" --runs "$RUNS" --sample-pct 100 \
	--no-check "${contenders[@]}" "${only[@]}" > "$tmp/r100.md"

{
	echo "# scrub benchmark results"
	echo
	echo "Written by \`make bench\` (bench/run.sh): the contenders of"
	echo "../shared/bench plus scrub (\`scrub run\` with"
	echo "policies/bench-reference.scrub; \`scrub_floor\` runs a policy that"
	echo "does nothing, i.e. scrub's own parse and print), timed by the"
	echo "shared harness, single-threaded unless the name says otherwise."
	echo "The last column is throughput as a multiple of baseline_cjson's."
	echo
	ratios < "$tmp/r10.md"
	echo
	ratios < "$tmp/r100.md"
	echo
	if [[ -x $ROOT/bench/profile.sh ]]; then
		"$ROOT/bench/profile.sh" "$BUILD" "$H"
	fi
	if [[ -x $ROOT/bench/lambda.sh ]]; then
		echo
		"$ROOT/bench/lambda.sh" "$BUILD" "$SHARED" || true
	fi
	# Threads at both rates: the lighter the work per event, the more
	# the one reader thread's share of the cores weighs.
	for pct in 10 100; do
		if [[ -x $ROOT/bench/replay_threads.sh ]]; then
			echo
			"$ROOT/bench/replay_threads.sh" "$BUILD" "$SHARED" \
				--sample-pct "$pct" || true
		fi
	done
} > "$tmp/RESULTS.md"
cp "$tmp/RESULTS.md" "$ROOT/bench/RESULTS.md"
cat "$tmp/RESULTS.md"
