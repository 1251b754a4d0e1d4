#!/usr/bin/env bash
# cmake --install gives a tree a program can use on its own: docs/example.c (the README's
# library example, checked to be the same text) builds with pkg-config against the installed
# header and libraries only, shared and static, and runs; bin/nnzip runs; the man page is there.
# Usage: test_install.sh BUILD_DIR SOURCE_DIR CC LIBDIR BINDIR MANDIR (the last three relative,
# as GNUInstallDirs gives them)
set -u
build=$1 src=$2 cc=$3 libdir=$4 bindir=$5 mandir=$6
pass=0 fail=0
ok() { echo "test_install: ok: $1"; pass=$((pass + 1)); }
bad() { echo "test_install: FAIL: $1"; fail=$((fail + 1)); }
finish() { echo "test_install: $pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit; }

# The README shows docs/example.c: its first C block after "## Library" must be the file.
awk '/^## Library/ {lib = 1} lib && /^```/ {if (code) exit; code = 1; next} code' \
    "$src/README.md" | cmp -s - "$src/docs/example.c" &&
    ok "README's library example is docs/example.c" ||
    bad "README's code block under '## Library' differs from docs/example.c"

if ! command -v pkg-config >/dev/null; then
    echo "test_install: pkg-config not found: skipped"
    exit 77
fi
case "$libdir$bindir$mandir" in
    /*) echo "test_install: absolute install dirs: skipped"; exit 77 ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nnzip-install.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix lib=$tmp/prefix/$libdir
if ! cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1; then
    cat "$tmp/install.log"
    bad "cmake --install"
    finish
fi
for f in "$bindir/nnzip" include/nnzip.h "$libdir/libnnzip.a" "$libdir/libnnzip.so" \
         "$libdir/libnnzip.so.0" "$libdir/pkgconfig/nnzip.pc" "$mandir/man1/nnzip.1"; do
    [ -s "$prefix/$f" ] && ok "installed $f" || bad "$f not installed"
done

# Build from a copy in the temporary folder, so nothing can come from the source tree.
export PKG_CONFIG_PATH=$lib/pkgconfig
cp "$src/docs/example.c" "$tmp/"
cd "$tmp" || exit 1
version=$(pkg-config --modversion nnzip)
cflags=$(pkg-config --cflags nnzip)
case "$cflags" in
    *"$prefix"/include*) ok "pkg-config --cflags: $cflags" ;;
    *) bad "pkg-config --cflags does not name the installed tree: $cflags" ;;
esac
out=
compile() { # compile NAME ARGS...: example.c and ARGS into NAME, or show why not
    local name=$1
    shift
    "$cc" -o "$name" example.c "$@" 2>cc.log && return
    cat cc.log
    return 1
}
runs() { # runs PROGRAM: it prints the library's version and succeeds
    out=$("$1") && [ "${out#libnnzip "$version",}" != "$out" ]
}

# shellcheck disable=SC2046 # pkg-config's words are separate arguments
if compile example-shared $(pkg-config --cflags --libs nnzip) &&
   LD_LIBRARY_PATH=$lib ldd example-shared | grep -q "=> $lib/libnnzip.so.0 " &&
   LD_LIBRARY_PATH=$lib runs ./example-shared; then
    ok "example with libnnzip.so: $(echo "$out" | tr '\n' ' ')"
else
    bad "example with libnnzip.so (pkg-config --cflags --libs nnzip): ${out:-}"
fi

# Statically: libnnzip.a by name, plus what pkg-config --static adds (libm, pthreads). Another
# object that defines our internal names must link beside it (they are local in libnnzip.a).
printf '%s\n' '/* names used inside libnnzip: a program may have its own */' \
    'int crc32_update(int x); int crc32_update(int x) { return x; }' \
    'void mixer_new(void); void mixer_new(void) {}' 'int nc_expf = 1;' >collide.c
static_libs=$(pkg-config --static --libs nnzip)
static_libs=${static_libs/-lnnzip/-l:libnnzip.a}
out=
# shellcheck disable=SC2046,SC2086
if compile example-static collide.c $(pkg-config --cflags nnzip) $static_libs &&
   ! readelf -d example-static | grep -q 'NEEDED.*libnnzip' && runs ./example-static; then
    ok "example with libnnzip.a, beside clashing names: $(echo "$out" | tr '\n' ' ')"
else
    bad "example with libnnzip.a ($static_libs): $out"
fi

nnzip=$prefix/$bindir/nnzip
out=$("$nnzip" --version) && [ "${out#nnzip "$version" }" != "$out" ] &&
    ok "installed nnzip --version: $out" || bad "installed nnzip --version: $out"
echo "installed" | "$nnzip" -1 -c | "$nnzip" -dc | grep -qx installed &&
    ok "installed nnzip round trip" || bad "installed nnzip round trip"

# The man page renders without a warning (groff -ww), where groff is installed.
if command -v groff >/dev/null; then
    page=$prefix/$mandir/man1/nnzip.1
    groff -man -Tutf8 -ww -z "$page" 2>groff.log && [ ! -s groff.log ] &&
        ok "man page renders without warnings" || { cat groff.log; bad "man page warnings"; }
fi
finish
