#!/bin/sh
# lambda.sh BUILD SHARED - the Lambda runtime's cold init time and batch
# latency (10 and 100 records), against the Runtime API emulator; see
# bench/lambda.py.
set -eu
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/lambda.py "${1:-build}" "${2:-../shared}"
