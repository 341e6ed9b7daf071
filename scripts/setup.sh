#!/bin/sh
# setup.sh - install the Debian packages scrub needs.
#
#   scripts/setup.sh           what building needs
#   scripts/setup.sh --test    also what `make check` needs
#
# As root it installs what is missing with apt-get; otherwise it prints the
# exact command to run and fails. Nothing is downloaded from anywhere else.
set -eu

BUILD_PKGS="make gcc libc6-dev flex bison pkg-config libcjson-dev
libxxhash-dev libpcre2-dev libsodium-dev libcurl4-openssl-dev zlib1g-dev
libunistring-dev"
TEST_PKGS="check python3 jq valgrind clang libclang-rt-dev
python3-botocore curl zip unzip binutils nodejs npm"

want=$BUILD_PKGS
case "${1:-}" in
--test) want="$BUILD_PKGS $TEST_PKGS" ;;
"") ;;
*) echo "usage: $0 [--test]" >&2; exit 2 ;;
esac

# A package is there when it is installed, or when an installed package
# provides it: NodeSource's nodejs provides npm (and conflicts with
# Debian's npm, which apt would then fail to install).
have() {
	dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null |
		grep -q "^install ok installed$" && return 0
	dpkg-query -W -f='${Status}|${Provides}\n' 2>/dev/null |
		grep "^install ok installed|" | cut -d'|' -f2 | tr ',' '\n' |
		sed 's/^ *//; s/ .*//' | grep -qx "$1"
}

missing=""
for p in $want; do
	have "$p" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "scrub needs these Debian packages:$missing" >&2
	echo "install them with:" >&2
	echo "  sudo apt-get install -y --no-install-recommends$missing" >&2
	exit 1
fi
echo "setup: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
