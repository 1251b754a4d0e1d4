#!/usr/bin/env bash
# The nnzip command as a user meets it: round trips, file safety (no overwrite, input kept,
# --rm, temporary files), stdin/stdout, -t/-l, golden and bad files, option errors, signals.
# Usage: test_cli.sh NNZIP DATA_DIR [NNZIP_FCHECK]
set -u
BIN=$(realpath "$1")
DATA=$(realpath "$2")
FCHECK=$(realpath "${3:-$(dirname "$BIN")/nnzip-fcheck}")
WORK=$(mktemp -d) || exit 1 # (an empty WORK would make `cd` stay here and the test write into the tree)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
# File handling does not depend on the model: most checks run the fast order2 model through a
# wrapper (-m is ignored when decoding); the default model (hybrid: cm+lstm), cm, lstm and
# transformer get their own round trips below.
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
# the default model has a network: under the sanitizers (10x slower) a shorter text
def_size=5000
[ -z "${NNZIP_TEST_SANITIZED:-}" ] || def_size=2000
head -c $def_size text >deftext
for f in one allbytes deftext; do
    check "default model: compress $f" "$BIN" -q -k -o "$f.def.nnz" "$f"
    check "default model: round trip $f" sh -c "'$BIN' -dc '$f.def.nnz' | cmp -s - '$f'"
done
check "default model is the hybrid cm+lstm" sh -c "'$BIN' -l deftext.def.nnz | grep -q 'model cm+lstm, level 5'"
check "the default model at -T2 writes the -T1 file" sh -c "'$BIN' -q -T2 -c deftext | cmp -s - deftext.def.nnz"
check "the default model's file decodes at -T2" sh -c "'$BIN' -dc -T2 deftext.def.nnz | cmp -s - deftext"
expect_error "the networks with the count mixer only decode" "unknown model" "$BIN" -q -f --model lstm-counts deftext
check "-l shows each part of a hybrid" sh -c "'$BIN' -l deftext.def.nnz | grep -q 'parts: context mixing [0-9]* parameters, [0-9.]* MiB; network (lstm) [0-9]* parameters'"
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
check "cm: zeros compress" test "$(stat -c %s zeros100k.cm.nnz)" -le 150
check "-l shows cm, its parameters and memory" sh -c "'$BIN' -l deftext.cm.nnz | grep -q 'model cm, level 9.*MiB' && '$BIN' -l deftext.cm.nnz | grep -q 'cm_hash=.*cm_apm='"
check "--set on cm is stored and decodes" sh -c "'$BIN' -q -f -k -2 --model cm --set cm_rate=9 -o cmset.nnz deftext && '$BIN' -l cmset.nnz | grep -q 'cm_rate=9' && '$BIN' -dc cmset.nnz | cmp -s - deftext"
expect_error "--set out of range (cm)" "out of range" "$BIN" -q -f --model cm --set cm_hash=99 deftext
check "-l shows the transformer and its parameters" sh -c "'$BIN' -l deftext.trf.nnz | grep -q 'model cm+transformer.*' && '$BIN' -l deftext.trf.nnz | grep -q 'd_model=.*memory='"
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
"$NNZIP" -q -c one text >members.nnz
check "-c with several files writes one member each" sh -c "'$NNZIP' -l members.nnz | grep -q '2 members in all'"
check "concatenated members decode to the concatenation" bash -c "'$NNZIP' -dc members.nnz | cmp -s - <(cat one text)"
cat members.nnz t1.nnz >members3.nnz 2>/dev/null || cp members.nnz members3.nnz
check "members of separate runs concatenated decode" sh -c "'$NNZIP' -t members3.nnz"
{ cat members.nnz; printf 'junk'; } >trailing.nnz
expect_error "bytes after the last member that are not one" "corrupt" "$NNZIP" -t trailing.nnz
"$NNZIP" -q -c -m order2 -1 --member-size=3000 text >pieces.nnz
check "--member-size writes independent members" sh -c "'$NNZIP' -l pieces.nnz | grep -q ' members in all' && '$NNZIP' -dc pieces.nnz | cmp -s - text"
"$NNZIP" -q -c -m stored text >stored.nnz
check "-m stored round trip" sh -c "'$NNZIP' -dc stored.nnz | cmp -s - text && '$NNZIP' -l stored.nnz | grep -q 'model stored'"
expect_error "--block-size=0 is refused" "block-size '0'" "$NNZIP" -c --block-size=0 text
# pipes and FIFOs: read as they come, with -c or -o
rm -f fifo && mkfifo fifo
(cat text >fifo &)
"$NNZIP" -q -c -m order2 -1 fifo >fifo.nnz
check "a FIFO is read with -c" sh -c "'$NNZIP' -dc fifo.nnz | cmp -s - text"
"$NNZIP" -q -f -o subst.nnz <(cat text)
check "<(cmd) is read with -o" sh -c "'$NNZIP' -dc subst.nnz | cmp -s - text"
(cat text >fifo 2>/dev/null &)
"$NNZIP" fifo 2>fifo.err; rc=$?
check "a FIFO without -c or -o is skipped (exit 2)" sh -c "test $rc -eq 2 && grep -q 'not a regular file.*-c or -o' fifo.err && test ! -e fifo.nnz.nnz"
# output as it goes: blocks come out of a pipe before its writer has finished
head -c 300000 /dev/urandom >noise
( cat noise; sleep 4 ) | "$NNZIP" -q -c -m stored --block-size=64KiB >asgo.nnz &
sleep 2
check "compressed blocks are written before the input ends" test "$(stat -c %s asgo.nnz)" -ge 196608
wait
( cat asgo.nnz; sleep 4 ) | "$NNZIP" -q -dc >asgo.out &
sleep 2
check "decoded blocks are written before the input ends" test "$(stat -c %s asgo.out)" -ge 196608
wait
check "... and the whole round trip" cmp -s asgo.out noise
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
# the golden files of models with ISA paths also on the scalar reference path (every ISA decodes
# every file). Not under the sanitizers, where _ref networks take minutes: the bits are a
# Release matter (test_isa_*), and the C tests run _ref under the sanitizers.
[ -n "${NNZIP_TEST_SANITIZED:-}" ] && ref_models="cm" || ref_models="lstm transformer cm cm-lstm cm-transformer"
for m in $ref_models; do
    NNZIP_ISA=ref "$BIN" -dc "$DATA/good-$m.txt.nnz" >golden-ref.out
    check "golden good-$m.txt.nnz decodes on NNZIP_ISA=ref" cmp -s golden-ref.out "$DATA/good-$m.txt"
done
declare -A msg=(
    [bad-magic]="not in .nnz format" [bad-truncated-header]="truncated"
    [bad-truncated-payload]="truncated" [bad-header-crc]="corrupt" [bad-version]="unsupported"
    [bad-model]="unsupported" [bad-param]="outside supported limits" [bad-huge-size]="corrupt"
    [bad-trailing]="corrupt" [bad-checksum]="checksum mismatch" [bad-payload]="corrupt\|checksum"
    [bad-memory-lstm]="decoding needs [0-9.]* MiB of memory, more than the limit"
    [bad-memory-transformer]="decoding needs [0-9.]* MiB of memory, more than the limit")
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
expect_error "bad thread count" "threads must be" "$NNZIP" -T 257 text
expect_error "negative thread count" "threads must be" "$NNZIP" -T -1 text
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
check "-T0 (one thread per core) gives the same bytes" sh -c "'$NNZIP' -9 -c -T0 text | cmp -s - text.nnz && '$BIN' -1 -c -T1 deftext >t1.def && '$BIN' -1 -c -T0 deftext | cmp -s - t1.def"
for lv in 19 91 10 0 99; do
    expect_error "level -$lv refused" "unknown level '-$lv'" "$NNZIP" -f -$lv one
done
expect_error "level inside combined flags refused" "unknown level '-12'" "$NNZIP" -kf12 one
check "--fast is level 1" sh -c "'$NNZIP' -q -f --fast -o fast.nnz text && '$NNZIP' -l fast.nnz | grep -q 'level 1,'"
check "--best is level 9" sh -c "'$NNZIP' -q -f --best -o best.nnz text && '$NNZIP' -l best.nnz | grep -q 'level 9,'"
check "-kf9 still means level 9" sh -c "'$NNZIP' -q -kf9 -o k9.nnz one && '$NNZIP' -l k9.nnz | grep -q 'level 9,'"
check "combined short flags" sh -c "'$NNZIP' -dcq text.nnz | cmp -s - text"

# ---- the output is never the input ------------------------------------------------------------
cp text same && cp text same.orig && ln -s same same.sym && ln same same.hard
for args in "--rm -f -o same same" "-f -o same same" "-f -o ./same same" "-f -o same.sym same" \
            "-f -o same.hard same" "-f -o $WORK/same same"; do
    # shellcheck disable=SC2086
    expect_error "output is the input ($args)" "is the input itself" "$NNZIP" $args
    check "input intact after '$args'" cmp -s same same.orig
done
"$NNZIP" -q -k -f same && cp same.nnz same.nnz.orig
expect_error "-d output is the input" "is the input itself" "$NNZIP" -d --rm -f -o same.nnz same.nnz
check "-d: input intact" cmp -s same.nnz same.nnz.orig
expect_error "-c into the input itself" "is the input itself" sh -c "'$NNZIP' -c same >>same"
check "-c: input intact" cmp -s same same.orig
expect_error "stdin is the output" "is the input itself" sh -c "'$NNZIP' -f -o same <same"
check "stdin: input intact" cmp -s same same.orig
check "no temporary file left after same-file refusals" no_temp_left

# ---- the true worst case: a one-block input is never more than its stored member: 40-byte
# header, a block head (7 bytes for a block under 128 bytes), 13-byte end ---------------------
head -c 50 deftext >t50
for m in lstm transformer order2; do
    check "$m: 50 bytes of text grow by at most 60" sh -c "'$BIN' -q -f -m $m -o t50.$m.nnz t50 && test \$(stat -c %s t50.$m.nnz) -le 110"
    check "$m: that file decodes" sh -c "'$BIN' -dc t50.$m.nnz | cmp -s - t50"
done

# ---- output problems are found before the modelling starts ----------------------------------
# lstm -9 on 1 MB of noise takes minutes: each refusal below must come before it (the timeout is
# a thousand times what a refusal takes, so no machine is too slow for it).
echo "precious" >noise.nnz && cp noise.nnz noise.nnz.keep
cp random noise
expect_error "existing output refused before modelling" "already exists" timeout 60 "$BIN" -9 noise
check "existing output untouched" cmp -s noise.nnz noise.nnz.keep
expect_error "missing output folder refused before modelling" "No such file" timeout 60 "$BIN" -9 -o nodir/x.nnz noise
long=$(printf 'n%.0s' $(seq 300))
expect_error "output name too long refused before modelling" "too long" timeout 60 "$BIN" -9 -o "$long" noise
expect_error "output folder is a file" "Not a directory" timeout 60 "$BIN" -9 -o noise.nnz.keep/x noise
mkdir -p outdir.nnz
expect_error "output is a folder" "Is a directory" timeout 60 "$BIN" -9 -f -o outdir.nnz noise
if [ "$(id -u)" != 0 ]; then # root writes anywhere
    mkdir -p ro && chmod 555 ro
    expect_error "unwritable folder refused before modelling" "Permission denied" timeout 60 "$BIN" -9 -o ro/x.nnz noise
fi
check "no temporary file left after early refusals" no_temp_left

# ---- names as long as the file system allows --------------------------------------------------
name=$(printf 'L%.0s' $(seq 251)) # + .nnz = 255, the usual NAME_MAX
cp one "$name"
check "a 251-character name compresses" "$NNZIP" -q "$name"
check "...and its 255-character .nnz decodes" sh -c "rm '$name' && '$NNZIP' -d -q '$name.nnz' && cmp -s '$name' one"
rm -f "$name" && cp one "$name"
check "long name with a named temporary file (no O_TMPFILE)" env NNZIP_NO_TMPFILE=1 "$NNZIP" -q -f "$name"
check "long name, -f over an existing file" "$NNZIP" -q -f "$name"
check "no temporary file left with long names" no_temp_left
rm -f "$name" "$name.nnz"

# ---- -l reports errors as -d and -t do --------------------------------------------------------
: >empty.nnz && cp t1.nnz damaged.nnz && printf '\377' | dd of=damaged.nnz bs=1 seek=12 conv=notrunc 2>/dev/null
expect_error "-l on a non-.nnz file" "not in .nnz format" "$NNZIP" -l plain.txt
expect_error "-l on an empty file" "truncated" "$NNZIP" -l empty.nnz
expect_error "-l on a damaged file" "corrupt" "$NNZIP" -l damaged.nnz
"$NNZIP" -l t1.nnz plain.txt >/dev/null 2>&1; rc=$?
check "-l with one bad file among good ones exits 1" test $rc -eq 1

# ---- the text transform ---------------------------------------------------------------------
for i in $(seq 1 250); do cat "$DATA/good-cm.txt"; done >bigtext # 600 KB: enough text for it
"$NNZIP" -q -k -o xt-on.nnz bigtext && "$NNZIP" -q -k --no-transform -o xt-off.nnz bigtext
check "the transform is on by default for text, and -l says so" sh -c "'$NNZIP' -l xt-on.nnz | grep -q 'transform: text'"
check "--no-transform turns it off" sh -c "'$NNZIP' -l xt-off.nnz | grep -q 'transform: none'"
check "a transformed file decodes" sh -c "'$NNZIP' -dc xt-on.nnz | cmp -s - bigtext"
check "-l on binary data: no transform" sh -c "'$NNZIP' -q -c random | '$NNZIP' -l - | grep -q 'transform: none'"

# ---- the float-array mode --------------------------------------------------------------------
# Weight-like floats with NaNs (payloads kept), infinities, -0, a subnormal, huge values; and
# random bits (every pattern). Lossy results are checked with nnzip-fcheck, exactly.
python3 -c '
import random, struct, sys
r = random.Random(7)
b = bytearray(struct.pack("<20000f", *[r.gauss(0, 0.05) for _ in range(20000)]))
for i, v in enumerate([b"\x01\x00\xc0\x7f", b"\x00\x00\x80\x7f", b"\x00\x00\x80\xff",
                       b"\x00\x00\x00\x80", b"\x01\x00\x00\x00", b"\xff\xff\x7f\x7f",
                       b"\x05\x00\x81\xff"]):
    b[4 * (997 * i + 5):4 * (997 * i + 6)] = v
sys.stdout.buffer.write(b)' >w.f32
head -c 40000 /dev/urandom >rb.f32
check "--float32: random bits compress" "$BIN" -q -k --float32 -o rb.nnz rb.f32
check "--float32: random bits round trip" sh -c "'$BIN' -dc rb.nnz | cmp -s - rb.f32"
check "--float32: weights compress" "$BIN" -q -k --float32 -o wl.nnz w.f32
check "--float32: weights round trip bit for bit" sh -c "'$BIN' -dc wl.nnz | cmp -s - w.f32"
check "--float32: -l shows the float model, lossless" sh -c "'$BIN' -l wl.nnz | grep -q 'model float, raw float32' && '$BIN' -l wl.nnz | grep -q 'lossless: every value bit for bit' && '$BIN' -l wl.nnz | grep -q '20000 floats in 1 tensor,'"
check "--float32 is lossless: nnzip-fcheck --lossless agrees" sh -c "'$BIN' -dc wl.nnz >wl.out && '$FCHECK' --lossless w.f32 wl.out >/dev/null"
check "--max-error=2^-10 compresses" "$BIN" -q -k --max-error=2^-10 -o w10.nnz w.f32
check "--max-error=2^-10: every value within 2^-10 (nnzip-fcheck)" sh -c "'$BIN' -dc w10.nnz >w10.out && '$FCHECK' w.f32 w10.out 2^-10 >/dev/null"
"$FCHECK" w.f32 w10.out 2^-20 >/dev/null; rc=$?
check "--max-error=2^-10 is lossy: not within 2^-20 (nnzip-fcheck exit 1)" test $rc -eq 1
check "--max-error: -l shows the bound" sh -c "'$BIN' -l w10.nnz | grep -q 'lossy: every value within 0x1p-10 '"
check "--max-error=1e-4 (a decimal) round trip within 1e-4" sh -c "'$BIN' -q -c --max-error=1e-4 w.f32 | '$BIN' -d >w4.out && '$FCHECK' w.f32 w4.out 1e-4 >/dev/null"
check "--max-error then --lossless is lossless" sh -c "'$BIN' -q -c --max-error=2^-10 --lossless w.f32 | '$BIN' -dc | cmp -s - w.f32"
check "--float32 from stdin to stdout" sh -c "'$BIN' --float32 <w.f32 | '$BIN' -d | cmp -s - w.f32"
check "float: compressing twice gives identical bytes" sh -c "'$BIN' -c --max-error=2^-10 w.f32 | cmp -s - w10.nnz"
check "float: NNZIP_ISA=ref gives the same bytes" sh -c "NNZIP_ISA=ref '$BIN' -c --max-error=2^-10 w.f32 | cmp -s - w10.nnz"
check "float: -t accepts the file" "$BIN" -t w10.nnz
head -c 100 w10.nnz >wcut.nnz
expect_error "float: a cut file is refused" "truncated" "$BIN" -t wcut.nnz
# the weights as a .npy file of shape (100, 200), version 1.0, header padded to 128 bytes as numpy does
{ printf '\x93NUMPY\x01\x00\x76\x00'; printf '%-117s\n' "{'descr': '<f4', 'fortran_order': False, 'shape': (100, 200), }"; cat w.f32; } >a.npy
check "the test's .npy is 80128 bytes" test "$(stat -c %s a.npy)" -eq 80128
check ".npy: lossless round trip" sh -c "'$BIN' -q -k --float32 -o npy.nnz a.npy && '$BIN' -dc npy.nnz | cmp -s - a.npy"
check ".npy: -l shows a .npy file" sh -c "'$BIN' -l npy.nnz | grep -q 'model float, .npy file' && '$BIN' -l npy.nnz | grep -q '20000 floats in 1 tensor,'"
"$BIN" -q -c --max-error=2^-10 a.npy | "$BIN" -dc >npy10.out
check ".npy lossy: the header comes back byte for byte" sh -c "head -c 128 npy10.out >npyh.out && head -c 128 a.npy | cmp -s - npyh.out"
check ".npy lossy: the values within 2^-10" sh -c "tail -c +129 npy10.out >npy10.f32 && tail -c +129 a.npy >npy.f32 && test \$(stat -c %s npy10.f32) -eq 80000 && '$FCHECK' npy.f32 npy10.f32 2^-10 >/dev/null"
# errors: one line, exit 1
head -c 10 w.f32 >ten.f32
"$BIN" --float32 ten.f32 2>err.txt; rc=$?
check "10 bytes of raw float32: exit 1" test $rc -eq 1
expect_error "10 bytes of raw float32: one line saying why" "ten.f32: not a whole number of float32" "$BIN" --float32 ten.f32
check "10 bytes: no output left" test ! -e ten.f32.nnz
expect_error "--max-error=abc" "--max-error 'abc'" "$BIN" --max-error=abc w.f32
expect_error "--max-error=-1" "--max-error '-1'" "$BIN" --max-error=-1 w.f32
expect_error "--max-error=nan" "--max-error 'nan'" "$BIN" --max-error=nan w.f32
printf '{"tensors": [{"shape": [10], "offset": 0, "count": 10}]}' >short.json
expect_error "--shapes not adding up names the file" "short.json: .*cover 10 floats, the array has 20000" "$BIN" -f --shapes=short.json w.f32
expect_error "--shapes with a missing file names it" "nothere.json: No such file" "$BIN" -f --shapes=nothere.json w.f32
printf '{"tensors": [{"shape": [100, 100], "offset": 0, "count": 10000}, {"shape": [10000], "offset": 10000, "count": 10000}]}' >two.json
check "--shapes: round trip, lossy, two tensors" sh -c "'$BIN' -q -k -f --shapes=two.json --max-error=2^-10 -o ws.nnz w.f32 && '$BIN' -l ws.nnz | grep -q '20000 floats in 2 tensors' && '$BIN' -dc ws.nnz >ws.out && '$FCHECK' w.f32 ws.out 2^-10 >/dev/null"
check "--shapes alone is lossless" sh -c "'$BIN' -q -c --shapes=two.json w.f32 | '$BIN' -dc | cmp -s - w.f32"
# decoding never overwrites without -f
cp w10.nnz wd.f32.nnz && echo precious >wd.f32 && cp wd.f32 wd.keep
expect_error "float: -d refuses to overwrite" "already exists" "$BIN" -d wd.f32.nnz
check "float: the existing file is untouched" cmp -s wd.f32 wd.keep
check "float: -d -f overwrites" sh -c "'$BIN' -d -q -f wd.f32.nnz && '$FCHECK' w.f32 wd.f32 2^-10 >/dev/null"
check "no temporary file left by the float mode" no_temp_left

# ---- the decoder's memory limit --------------------------------------------------------------
check "-l shows the memory to decode" sh -c "'$NNZIP' -l '$DATA/good-lstm.txt.nnz' | grep -q '[0-9] MiB of memory to decode'"
check "-l shows a crafted file's memory without allocating it" sh -c "'$NNZIP' -l '$DATA/bad-memory-lstm.nnz' | grep -q ' [0-9.]* MiB of memory to decode'"
expect_error "a crafted header is refused at once" "decoding needs .* (--memlimit=[0-9]*MiB allows it)" timeout 20 "$NNZIP" -t "$DATA/bad-memory-lstm.nnz"
expect_error "--memlimit below a file's need" "more than the limit of 1.0 MiB" "$NNZIP" -t --memlimit=1MiB text.nnz
check "--memlimit at a file's need decodes it" "$NNZIP" -t --memlimit=17MiB text.nnz
check "--memory= and -M are the same option" sh -c "'$NNZIP' -t --memory=17M text.nnz && '$NNZIP' -t -M 17825792 text.nnz"
check "--memlimit=max" "$NNZIP" -t --memlimit=max text.nnz
expect_error "--memlimit=bogus" "memory limit 'bogus'" "$NNZIP" -t --memlimit=bogus text.nnz
head -c 600 zeros >zeros600 # compressible, so the model (not stored) is in the file
"$BIN" -f -9 --model cm --set cm_hash=26 -o bigmem.nnz zeros600 2>err.txt
check "a file beyond the default limit is written with a warning naming --memlimit" grep -q "warning: decoding will need .*--memlimit=" err.txt
expect_error "...and refused by the default limit" "decoding needs" "$BIN" -t bigmem.nnz

# ---- progress ---------------------------------------------------------------------------------
"$NNZIP" -f --progress -o prog.nnz text 2>prog.txt
check "--progress into a file: plain lines" sh -c "grep -q '%.*kB/s' prog.txt && ! grep -q \"\$(printf '\\r')\" prog.txt && ! grep -q \"\$(printf '\\033')\" prog.txt"
if script -qec "true" /dev/null >/dev/null 2>&1; then
    script -qec "'$NNZIP' -f -o progtty.nnz deftext" /dev/null >progtty.txt 2>&1
    # a line before the end (under 100 %): the old rule showed one only after 128 kB
    check "on a terminal the progress line shows from the start of a small file" grep -q '[^0-9][0-9]\{1,2\}\.[0-9]%.*kB/s' progtty.txt
fi
"$NNZIP" -f -o noprog.nnz deftext 2>noprog.txt
check "no progress on a non-terminal without --progress" test ! -s noprog.txt

# kill -9 at any moment, full disks and read errors: test_faults.sh (random and chosen kills,
# 24 or more each way, and the checks this file used to make on 20 random ones).

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
NNZIP_NO_TMPFILE=1 "$NNZIP" -q big &
pid=$!
sleep 0.5
kill -INT $pid 2>/dev/null
wait $pid
check "interrupted with a named temporary file: it is removed" no_temp_left
check "interrupted with a named temporary file: no final output" test ! -e big.nnz

echo "test_cli: $pass passed, $fail failed"
[ $fail -eq 0 ]
