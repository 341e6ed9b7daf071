#!/bin/sh
# package-lambda.sh BUILD POLICY ZIP - the Lambda deployment package for
# provided.al2023 (what `make lambda POLICY=FILE` runs):
#
#   bootstrap       the runtime, stripped; its DT_RPATH ($ORIGIN/lib) makes
#                   it load the libraries below before anything on
#                   LD_LIBRARY_PATH, which lists /lib64 and /usr/lib64 first
#   policy.scrubc   POLICY compiled with scrubc (or copied, if it already
#                   is bytecode that loads)
#   lib/            every shared library bootstrap needs, as ldd finds them,
#                   except glibc's own: provided.al2023 brings glibc 2.34,
#                   and tests/lambda/package.sh checks that nothing in the
#                   zip needs a newer symbol version
#
# The zip is reproducible: fixed timestamps, sorted entries.
set -eu
if [ $# -ne 3 ]; then
	echo "usage: $0 BUILD POLICY ZIP" >&2
	exit 2
fi
BUILD=$1
POLICY=$2
case $3 in
/*) ZIP=$3 ;;
*) ZIP=$(pwd)/$3 ;;
esac

# glibc's libraries (and the vDSO): the image has them, and they must
# match its dynamic loader.
GLIBC_LIBS="linux-vdso.so.1 ld-linux-x86-64.so.2 ld-linux-aarch64.so.1
libc.so.6 libm.so.6 libpthread.so.0 libdl.so.2 librt.so.1 libresolv.so.2
libutil.so.1 libanl.so.1 libmvec.so.1 libBrokenLocale.so.1 libnsl.so.1
libnss_files.so.2 libnss_dns.so.2 libthread_db.so.1 libc_malloc_debug.so.0"

# No zip at all rather than a stale one, if anything below fails.
rm -f "$ZIP"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/lib"

strip --strip-unneeded -o "$stage/bootstrap" "$BUILD/bootstrap"
chmod 755 "$stage/bootstrap"

if [ "$(head -c 4 "$POLICY")" = SCRB ]; then
	# Bytecode goes in as it is: it must load here (disasm loads and
	# verifies it), not first in the Lambda's init. scrubc build checks
	# its own output the same way.
	"$BUILD/scrubc" disasm "$POLICY" > /dev/null || {
		echo "$0: $POLICY does not load: no zip made" >&2
		exit 1
	}
	cp "$POLICY" "$stage/policy.scrubc"
else
	"$BUILD/scrubc" build "$POLICY" -o "$stage/policy.scrubc"
fi
chmod 644 "$stage/policy.scrubc"

# "libfoo.so.1 => /lib/x86_64-linux-gnu/libfoo.so.1 (0x...)": copy the
# file itself under its soname.
ldd "$BUILD/bootstrap" | while read -r name arrow path rest; do
	[ "$arrow" = "=>" ] || continue
	case " $(echo $GLIBC_LIBS) " in
	*" $name "*) continue ;;
	esac
	if [ ! -f "$path" ]; then
		echo "$0: bootstrap needs $name, which ldd cannot find" >&2
		exit 1
	fi
	cp -L "$path" "$stage/lib/$name"
	chmod 644 "$stage/lib/$name"
done

find "$stage" -exec touch -h -t 198001010000 {} +
mkdir -p "$(dirname "$ZIP")"
(cd "$stage" && find . -type f | sed 's|^\./||' | LC_ALL=C sort |
	zip -X -q "$ZIP" -@)
echo "$ZIP: bootstrap, policy.scrubc, $(ls "$stage/lib" | wc -l)" \
	"libraries, $(wc -c < "$ZIP") bytes"
