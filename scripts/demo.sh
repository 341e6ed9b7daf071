#!/bin/sh
# demo.sh [BUILD] - the main job on the bundled example: check the
# orders-to-stage policy, compile it, and run it over the sample events.
set -eu
cd "$(dirname "$0")/.."
B=${1:-build}
if [ -z "${SCRUB_KEY:-}" ]; then
	# A public demo key: pseudonyms are only as secret as the key.
	SCRUB_KEY=demo-key-not-a-secret
	echo "(SCRUB_KEY not set: using the public demo key)" >&2
fi
export SCRUB_KEY

set -x
"$B/scrubc" check policies/orders-to-stage.scrub
"$B/scrubc" build policies/orders-to-stage.scrub -o "$B/orders-to-stage.scrubc"
"$B/scrub" run --policy "$B/orders-to-stage.scrubc" \
	--rejects "$B/demo.rejects.ndjson" \
	policies/examples/orders-to-stage.events.ndjson
