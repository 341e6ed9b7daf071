#!/bin/sh
# seed.sh SHARED - (re)make the committed seed corpora in corpus/ from the
# repository's policies and events and SHARED's samples and JSON test
# suite. Run from anywhere; review what changed before committing.
#
#   corpus/compile   every .scrub file in the repository
#   corpus/run       one event per file: the examples, the e2e inputs,
#                    SHARED/samples/*.event.json, the bench edge cases
#   corpus/json      the events above, SHARED/samples/*.json whole, and
#                    the JSONTestSuite documents
#   corpus/ndjson    whole NDJSON files: the examples, the e2e inputs
# The bytecode targets' seeds are compiled from policies/ at fuzz time
# (run.sh), so they always match the compiler.
set -eu
SHARED=$(cd "$1" && pwd)
cd "$(dirname "$0")"
root=../..
rm -rf corpus
mkdir -p corpus/compile corpus/run corpus/json corpus/ndjson

for f in "$root"/policies/*.scrub "$root"/tests/e2e/cases/*/*.scrub \
	"$root"/tests/diag/*.scrub "$root"/tests/lambda/*.scrub \
	"$root"/bench/*.scrub; do
	name=$(echo "${f#"$root"/}" | tr '/' '_')
	cp "$f" "corpus/compile/$name"
done

# One file per line of NDJSON (blank lines skipped), named by its source.
split_lines() {
	prefix=$1
	file=$2
	n=0
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		[ -n "$line" ] || continue
		printf '%s' "$line" > "corpus/run/$prefix-$n"
	done < "$file"
}
for f in "$root"/policies/examples/*.ndjson; do
	split_lines "example-$(basename "$f" .events.ndjson)" "$f"
done
for f in "$root"/tests/e2e/cases/*/input.ndjson; do
	split_lines "e2e-$(basename "$(dirname "$f")")" "$f"
	cp "$f" "corpus/ndjson/e2e-$(basename "$(dirname "$f")")"
done
for f in "$root"/policies/examples/*.ndjson; do
	cp "$f" "corpus/ndjson/example-$(basename "$f" .events.ndjson)"
done
split_lines bench-edge "$SHARED/bench/testdata/edge_cases.ndjson"
for f in "$SHARED"/samples/*.event.json; do
	/usr/bin/python3 -c 'import json,sys
sys.stdout.write(json.dumps(json.load(open(sys.argv[1])),
                            separators=(",", ":")))' "$f" \
		> "corpus/run/sample-$(basename "$f" .event.json)"
done

cp corpus/run/* corpus/json/
for f in "$SHARED"/samples/*.json; do
	cp "$f" "corpus/json/sample-$(basename "$f")"
done
/usr/bin/python3 - "$SHARED/corpora/jsontestsuite.jsonl" <<'PY'
import base64, json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    with open("corpus/json/jts-" + t["name"], "wb") as f:
        f.write(base64.b64decode(t["bytes_b64"]))
PY
