#!/bin/sh
# deploy.sh - the CDK app's tests (deploy/): both stacks synthesized and
# checked with aws-cdk-lib's assertions under node's test runner, then
# `cdk synth` as a user runs it (offline, no AWS credentials).
#
# Needs Node.js and npm (scripts/setup.sh --test installs them); without
# them the test is skipped with a message. Installs deploy/node_modules
# with `npm ci` (the pinned package-lock.json) when missing or older than
# the lockfile.
set -eu
cd "$(dirname "$0")/../deploy"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1
then
	echo "deploy: SKIPPED: Node.js and npm are not installed" \
		"(scripts/setup.sh --test installs them)"
	exit 0
fi

if [ ! -f node_modules/.package-lock.json ] ||
   [ package-lock.json -nt node_modules/.package-lock.json ]; then
	npm ci --no-audit --no-fund --loglevel=error
fi

npm test --silent

# The CLI's own path: cdk.json's build step and app command.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! npx cdk synth --quiet >"$log" 2>&1; then
	cat "$log"
	echo "deploy: cdk synth failed" >&2
	exit 1
fi
echo "deploy: cdk synth: $(tail -n 2 "$log" | head -n 1)"
