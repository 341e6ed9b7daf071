#!/bin/sh
# package.sh BUILD SHARED - the Lambda zip: what it holds, that it runs on
# provided.al2023's glibc (2.34), and that the runtime inside it, with its
# bundled libraries, passes the emulator tests like BUILD/bootstrap does.
set -u
BUILD=$1
SHARED=$2
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
problem() {
	echo "  $*"
	fail=1
}

# Regression (review C): bytecode that does not load was zipped as it
# was, for the Lambda's init to refuse.
"$BUILD/scrubc" build tests/lambda/fidelity.scrub -o "$tmp/whole.scrubc"
head -c 100 "$tmp/whole.scrubc" > "$tmp/cut.scrubc"
size=$(wc -c < "$tmp/whole.scrubc")
printf '%s\n' "scrubc: $tmp/cut.scrubc: invalid bytecode: file is 100 bytes" \
	"but the header says $size (truncated or padded)" |
	paste -sd ' ' > "$tmp/want.err"
echo "scripts/package-lambda.sh: $tmp/cut.scrubc does not load: no zip made" \
	>> "$tmp/want.err"
if scripts/package-lambda.sh "$BUILD" "$tmp/cut.scrubc" "$tmp/cut.zip" \
	> /dev/null 2> "$tmp/cut.err"; then
	problem "packaged bytecode that does not load"
fi
cmp -s "$tmp/want.err" "$tmp/cut.err" || {
	problem "packaging bytecode that does not load said:"
	diff "$tmp/want.err" "$tmp/cut.err" | head -5
}
[ -e "$tmp/cut.zip" ] && problem "a zip was made of bytecode that does not load"

GLIBC_MAX=2.34
# A sanitizer build links libasan, which no Lambda package should carry.
if ldd "$BUILD/bootstrap" | grep -q 'libasan'; then
	echo "  skipped: $BUILD is a sanitizer build"
	exit $fail
fi
zip=$tmp/scrub-lambda.zip
scripts/package-lambda.sh "$BUILD" tests/lambda/fidelity.scrub "$zip" \
	> /dev/null || { echo "  packaging failed"; exit 1; }
unzip -q "$zip" -d "$tmp/task"

# The entries: bootstrap (executable), the policy as scrubc compiles it,
# and libraries only under lib/, none of them glibc's.
entries=$(unzip -Z1 "$zip" | grep -v '^lib/' | tr '\n' ' ')
[ "$entries" = "bootstrap policy.scrubc " ] ||
	problem "unexpected entries: $entries"
[ -x "$tmp/task/bootstrap" ] || problem "bootstrap is not executable"
"$BUILD/scrubc" build tests/lambda/fidelity.scrub -o "$tmp/policy.scrubc"
cmp -s "$tmp/policy.scrubc" "$tmp/task/policy.scrubc" ||
	problem "policy.scrubc is not the compiled policy"
for lib in libc.so.6 libm.so.6 ld-linux-x86-64.so.2 libpthread.so.0; do
	[ -e "$tmp/task/lib/$lib" ] && problem "glibc's $lib is bundled"
done

# No file may need a glibc symbol version newer than provided.al2023's.
for f in "$tmp/task/bootstrap" "$tmp/task"/lib/*; do
	newest=$(objdump -T "$f" | grep -o 'GLIBC_[0-9][0-9.]*' |
		sed 's/GLIBC_//' | sort -V | tail -1)
	if [ -n "$newest" ] &&
		[ "$(printf '%s\n%s\n' "$newest" "$GLIBC_MAX" | sort -V |
			tail -1)" != "$GLIBC_MAX" ]; then
		problem "$(basename "$f") needs GLIBC_$newest (> $GLIBC_MAX):"
		objdump -T "$f" | grep "GLIBC_$newest" | head -3
	fi
done

# Every library outside glibc resolves to the bundled copy, even with
# LD_LIBRARY_PATH listing the system directories first, as Lambda's does.
LD_LIBRARY_PATH=/lib64:/usr/lib64:/lib/x86_64-linux-gnu:$tmp/task/lib \
	ldd "$tmp/task/bootstrap" > "$tmp/ldd" 2>&1
while read -r name arrow path rest; do
	[ "$arrow" = "=>" ] || continue
	case $name in
	libc.so.*|libm.so.*|libresolv.so.*|libpthread.so.*|libdl.so.*|\
	librt.so.*|ld-linux*) continue ;;
	esac
	case $path in
	"$tmp/task/lib/$name") ;;
	*) problem "$name resolves to $path, not the bundled copy" ;;
	esac
done < "$tmp/ldd"
for lib in "$tmp/task"/lib/*; do
	grep -q "$(basename "$lib") => $lib" "$tmp/ldd" ||
		problem "$(basename "$lib") is bundled but not needed"
done

# The packaged runtime behaves exactly as the built one.
/usr/bin/python3 tests/lambda/run.py "$BUILD" "$SHARED" \
	--bootstrap "$tmp/task/bootstrap" pipes-sample fidelity reject-fail \
	init-no-key api-500-response || problem "the packaged bootstrap" \
	"fails the emulator tests"
exit $fail
