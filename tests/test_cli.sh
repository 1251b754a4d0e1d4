#!/usr/bin/env bash
# The nnzip command as a user meets it: round trips, file safety (no overwrite, input kept,
# --rm, temporary files), stdin/stdout, -t/-l, golden and bad files, option errors, signals.
# Usage: test_cli.sh NNZIP DATA_DIR
set -u
BIN=$(realpath "$1")
DATA=$(realpath "$2")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
# File handling does not depend on the model: most checks run the fast order2 model through a
# wrapper (-m is ignored when decoding); the default model (cm) and lstm get their own round trips below.
NNZIP="$WORK/nnzip-order2"
printf '#!/bin/sh\nexec "%s" -m order2 "$@"\n' "$BIN" >"$NNZIP" && chmod +x "$NNZIP"
pass=0 fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
check() { local what=$1; shift; if "$@"; then ok; else bad "$what"; fi; }

# expect_error WHAT PATTERN CMD...: non-zero exit and one stderr line "nnzip: ...PATTERN..."
expect_error() {
    local what=$1 pattern=$2; shift 2
    "$@" >out.txt 2>err.txt
    local rc=$? lines
    lines=$(wc -l <err.txt)
    if [ $rc -ne 0 ] && [ "$lines" -eq 1 ] && grep -q "^nnzip: .*$pattern" err.txt; then ok
    else bad "$what: rc=$rc, stderr: $(cat err.txt)"; fi
}
no_temp_left() { ! ls -a | grep -q nnztmp; }

# ---- round trips ---------------------------------------------------------------------------
: >empty
printf 'x' >one
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)))' >allbytes
head -c 1000000 /dev/urandom >random
head -c 1000000 /dev/zero >zeros
cat "$DATA"/../*.c "$DATA"/../../coder/*.c "$DATA"/../../docs/*.md 2>/dev/null | head -c 300000 >text
for f in empty one allbytes random zeros text; do
    cp "$f" "$f.orig"
    if "$NNZIP" -q "$f" && [ -f "$f.nnz" ] && [ -f "$f" ]; then ok; else bad "compress $f"; fi
    cp "$f.nnz" "$f.first.nnz"
    rm "$f"
    if "$NNZIP" -d -q "$f.nnz" && cmp -s "$f" "$f.orig"; then ok; else bad "round trip $f"; fi
    rm "$f.nnz"
    "$NNZIP" -q "$f" && check "compressing $f twice gives identical bytes" cmp -s "$f.nnz" "$f.first.nnz"
    check "-t accepts $f.nnz" "$NNZIP" -t "$f.nnz"
done
head -c 5000 text >deftext
for f in one allbytes deftext; do
    check "default model: compress $f" "$BIN" -q -k -o "$f.def.nnz" "$f"
    check "default model: round trip $f" sh -c "'$BIN' -dc '$f.def.nnz' | cmp -s - '$f'"
done
check "default model is cm" sh -c "'$BIN' -l deftext.def.nnz | grep -q 'model cm, level 5'"
check "lstm: compress deftext" "$BIN" -q -k -1 --model lstm -o deftext.lstm.nnz deftext
check "lstm: round trip deftext" sh -c "'$BIN' -dc deftext.lstm.nnz | cmp -s - deftext"
for f in one deftext; do
    check "transformer: compress $f" "$BIN" -q -k -1 --model transformer -o "$f.trf.nnz" "$f"
    check "transformer: round trip $f" sh -c "'$BIN' -dc '$f.trf.nnz' | cmp -s - '$f'"
done
head -c 100000 zeros >zeros100k
for lv in 1 5 9; do
    for f in one allbytes deftext zeros100k; do
        check "cm -$lv: compress $f" "$BIN" -q -k -f -$lv --model cm -o "$f.cm.nnz" "$f"
        check "cm -$lv: round trip $f" sh -c "'$BIN' -dc '$f.cm.nnz' | cmp -s - '$f'"
    done
done
check "cm: zeros compress" test "$(stat -c %s zeros100k.cm.nnz)" -le 120
check "-l shows cm, its parameters and memory" sh -c "'$BIN' -l deftext.cm.nnz | grep -q 'model cm, level 9.*MiB' && '$BIN' -l deftext.cm.nnz | grep -q 'cm_hash=.*cm_apm='"
check "--set on cm is stored and decodes" sh -c "'$BIN' -q -f -k -2 --model cm --set cm_rate=9 -o cmset.nnz deftext && '$BIN' -l cmset.nnz | grep -q 'cm_rate=9' && '$BIN' -dc cmset.nnz | cmp -s - deftext"
expect_error "--set out of range (cm)" "out of range" "$BIN" -q -f --model cm --set cm_hash=99 deftext
check "-l shows the transformer and its parameters" sh -c "'$BIN' -l deftext.trf.nnz | grep -q 'model transformer.*' && '$BIN' -l deftext.trf.nnz | grep -q 'd_model=.*memory='"
check "--set on the transformer" "$BIN" -q -f -k -1 --model transformer --set memory=5 --set=pos_slope=0.25 -o trfset.nnz deftext
check "--set on the transformer is stored and decodes" sh -c "'$BIN' -l trfset.nnz | grep -q 'memory=5 .*pos_slope=0.25' && '$BIN' -dc trfset.nnz | cmp -s - deftext"
expect_error "--set out of range (transformer)" "out of range" "$BIN" -q -f --model transformer --set heads=999 deftext
check "--set overrides a preset parameter" "$BIN" -q -f -k -1 --model lstm --set hidden=24 --set=lr=0.005 -o set.nnz deftext
check "--set is stored in the header" sh -c "'$BIN' -l set.nnz | grep -q 'hidden=24 .*lr=0.005'"
check "--set output decodes" sh -c "'$BIN' -dc set.nnz | cmp -s - deftext"
expect_error "--set unknown name" "not a parameter" "$BIN" -q -f --set bogus=1 deftext
expect_error "--set bad number" "not an unsigned integer" "$BIN" -q -f --model lstm --set hidden=abc deftext
expect_error "--set out of range" "out of range" "$BIN" -q -f --model lstm --set layers=99 deftext
check "random data is stored, not expanded" test "$(stat -c %s random.nnz)" -le 1000100
check "zeros compress" test "$(stat -c %s zeros.nnz)" -le 2000

# ---- file safety ---------------------------------------------------------------------------
cp text t1 && "$NNZIP" -q t1
echo "precious" >t1.nnz.keep && cp t1.nnz.keep t1.nnz
expect_error "no overwrite without -f" "already exists" "$NNZIP" t1
check "existing output untouched" cmp -s t1.nnz t1.nnz.keep
check "no temporary file left after refusal" no_temp_left
check "-f overwrites" "$NNZIP" -q -f t1
check "-f output decodes" "$NNZIP" -t t1.nnz
check "input kept by default" test -f t1
cp text t2
check "--rm compresses" "$NNZIP" -q --rm t2
check "--rm removes input after success" test ! -e t2 -a -f t2.nnz
cp text t3 && cp t1.nnz t3.nnz
"$NNZIP" -q --rm t3 2>/dev/null
check "--rm keeps input when writing failed" test -f t3
check "-d refuses to overwrite" test "$("$NNZIP" -d t2.nnz 2>&1; echo $?)" != 0 -o -f t2
rm -f t2 && "$NNZIP" -d -q --rm t2.nnz
check "-d --rm removes the .nnz" test -f t2 -a ! -e t2.nnz
cp text t4 && chmod 640 t4 && touch -d '2001-02-03 04:05:06' t4 && "$NNZIP" -q t4
check "mode preserved" test "$(stat -c %a t4.nnz)" = 640
check "mtime preserved" test "$(stat -c %Y t4.nnz)" = "$(stat -c %Y t4)"

# ---- stdin / stdout / -o ---------------------------------------------------------------------
"$NNZIP" <text >s.nnz && "$NNZIP" -d <s.nnz >s.out
check "stdin -> stdout round trip" cmp -s s.out text
cp text ctext && "$NNZIP" -c ctext >c.nnz && "$NNZIP" -dc c.nnz >c.out
check "-c round trip" cmp -s c.out text
check "-c leaves no file" test ! -e ctext.nnz
cp text rmc && "$NNZIP" -c --rm rmc >rmc.nnz 2>/dev/null
check "--rm with -c keeps the input" test -f rmc
cat text | "$NNZIP" - >dash.nnz && "$NNZIP" -d -o dash.out dash.nnz
check "- and -o" cmp -s dash.out text
"$NNZIP" -q -o named.bin text && "$NNZIP" -d -q -o named.out named.bin
check "-o names any suffix" cmp -s named.out text
expect_error "-o with two files" "one input file" "$NNZIP" -o x one text
expect_error "-c with several files when compressing" "concatenate" "$NNZIP" -c one text
if script -qec "true" /dev/null >/dev/null 2>&1; then
    script -qec "$NNZIP -c text" /dev/null >tty.txt 2>&1
    check "refuses compressed data to a terminal" grep -q "not written to a terminal" tty.txt
fi

# ---- -l, golden and bad files ----------------------------------------------------------------
"$NNZIP" -l text.nnz >list.txt
check "-l shows model and bits per byte" grep -q "model order2.*" list.txt
check "-l shows bits per byte" grep -q "bits per byte" list.txt
for g in "$DATA"/good-*.nnz; do
    want="${g%.nnz}"
    "$NNZIP" -dc "$g" >golden.out
    check "golden $(basename "$g") decodes" cmp -s golden.out "$want"
done
# the golden files of models with ISA paths also on the scalar reference path (every ISA decodes every file)
for m in lstm transformer cm; do
    NNZIP_ISA=ref "$BIN" -dc "$DATA/good-$m.txt.nnz" >golden-ref.out
    check "golden good-$m.txt.nnz decodes on NNZIP_ISA=ref" cmp -s golden-ref.out "$DATA/good-$m.txt"
done
declare -A msg=(
    [bad-magic]="not in .nnz format" [bad-truncated-header]="truncated"
    [bad-truncated-payload]="truncated" [bad-header-crc]="corrupt" [bad-version]="unsupported"
    [bad-model]="unsupported" [bad-param]="outside supported limits" [bad-huge-size]="corrupt"
    [bad-trailing]="corrupt" [bad-checksum]="checksum mismatch" [bad-payload]="corrupt\|checksum")
for b in "$DATA"/bad-*.nnz; do
    name=$(basename "$b" .nnz)
    cp "$b" "$name.nnz"
    expect_error "$name" "${msg[$name]:-MISSING-EXPECTATION}" "$NNZIP" -d "$name.nnz"
    check "$name: no output written" test ! -e "$name"
    expect_error "$name -t" "${msg[$name]:-MISSING-EXPECTATION}" "$NNZIP" -t "$name.nnz"
done
check "no temporary files after failures" no_temp_left
# Every truncation of a small file fails cleanly via the command too.
head -c 3000 text >small && "$NNZIP" -q small
size=$(stat -c %s small.nnz) trunc_bad=0
for ((n = 0; n < size; n += 7)); do
    head -c $n small.nnz >cut.nnz
    timeout 10 "$NNZIP" -t cut.nnz 2>/dev/null
    rc=$?
    [ $rc -eq 1 ] || { trunc_bad=1; echo "truncation to $n: exit $rc" >&2; }
done
check "every 7th truncation exits 1" test $trunc_bad -eq 0
printf 'hello\n' >plain.txt
expect_error "foreign file" "not in .nnz format" "$NNZIP" -d -c plain.txt
expect_error "missing file" "No such file" "$NNZIP" nothere

# ---- skips and option errors -------------------------------------------------------------------
mkdir adir
"$NNZIP" adir 2>err.txt; rc=$?
check "a folder is skipped with exit 2" test $rc -eq 2
"$NNZIP" -d plain.txt 2>err.txt; rc=$?
check "-d on a name without .nnz is skipped with exit 2" test $rc -eq 2
"$NNZIP" text.nnz 2>err.txt; rc=$?
check "compressing a .nnz is skipped with exit 2" test $rc -eq 2
expect_error "unknown option" "unknown option" "$NNZIP" --frobnicate
expect_error "unknown short option" "unknown option" "$NNZIP" -Y
expect_error "bad thread count" "threads must be" "$NNZIP" -T 0 text
expect_error "unknown model" "unknown model" "$NNZIP" --model=nope text
expect_error "missing value" "needs a value" "$NNZIP" -o
expect_error "unknown NNZIP_ISA" "NNZIP_ISA=bogus: unknown" env NNZIP_ISA=bogus "$NNZIP" -c text
for isa in ref avx2 avx512; do
    if [ $isa = ref ] || grep -qw "${isa/avx512/avx512f}" /proc/cpuinfo; then
        NNZIP_ISA=$isa "$NNZIP" -c text >isa.nnz
        check "NNZIP_ISA=$isa gives the same bytes" cmp -s isa.nnz text.nnz
    else
        expect_error "NNZIP_ISA=$isa unsupported here" "not supported on this machine" env NNZIP_ISA=$isa "$NNZIP" -c text
    fi
done
"$BIN" -q -f -k -5 --model cm -o cm-isa.nnz deftext
check "cm: NNZIP_ISA=ref gives the same bytes as the default path" sh -c "NNZIP_ISA=ref '$BIN' -c -5 --model cm deftext | cmp -s - cm-isa.nnz"
check "-h" sh -c "'$NNZIP' -h | grep -q Usage"
check "-V" sh -c "'$NNZIP' -V | grep -q 'nnzip '"
check "levels and -T accepted" "$NNZIP" -q -f -9 -T 2 --model order2 text
check "combined short flags" sh -c "'$NNZIP' -dcq text.nnz | cmp -s - text"

# ---- signals: an interrupted run leaves neither a temporary nor a final file ------------------
head -c 30000000 /dev/urandom >big
"$NNZIP" -q big &
pid=$!
sleep 0.5
kill -INT $pid 2>/dev/null
wait $pid
check "interrupted: no final output" test ! -e big.nnz
check "interrupted: no temporary file" no_temp_left
check "interrupted: input kept" test -f big

echo "test_cli: $pass passed, $fail failed"
[ $fail -eq 0 ]
