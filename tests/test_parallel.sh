#!/usr/bin/env bash
# The scale-out recipe (tools/nnzip-parallel, docs/scale-out.md) over local job slots: GNU
# parallel cuts a file into exact byte ranges, one nnzip per range, members concatenated in
# order; plain nnzip -d must give the input back, and the members must be the very bytes a
# sequential loop over the same ranges writes (each member is independent and deterministic).
# Usage: test_parallel.sh NNZIP NNZIP_PARALLEL CORPUS_FILE...
set -u
BIN=$(realpath "$1")
PAR=$(realpath "$2")
shift 2
FILES=()
for f in "$@"; do FILES+=("$(realpath "$f")"); done
if ! command -v parallel >/dev/null; then # Debian's parallel, installed where we may
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null \
        && apt-get install -y parallel >/dev/null 2>&1 || { echo "test_parallel: no GNU parallel: skipped"; exit 77; }
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
pass=0 fail=0
check() { local what=$1; shift; if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what" >&2; fi; }
# the files repeated (text, then binary), then noise: about 600 kB, not a multiple of the block
for ((i = 0; i < 40; i++)); do cat "${FILES[@]}"; done >in
head -c 123457 /dev/urandom >>in
BLOCK=65536
export NNZIP="$BIN"
"$PAR" -j 2 --block $BLOCK -o par.nnz in -- -m order2 -1
check "the recipe writes its output" test -s par.nnz
check "plain nnzip -d decodes the members" sh -c "'$BIN' -dc par.nnz | cmp -s - in"
n=$(( ($(stat -c %s in) + BLOCK - 1) / BLOCK ))
check "one member per block ($n)" sh -c "'$BIN' -l par.nnz | grep -q ' $n members in all'"
: >seq.nnz
for ((i = 0; i < n; i++)); do
    tail -c +$((i * BLOCK + 1)) in | head -c $BLOCK | "$BIN" -q -c -m order2 -1 >>seq.nnz
done
check "the same bytes as a sequential loop over the same ranges" cmp -s par.nnz seq.nnz
"$PAR" -j 2 --block $BLOCK -o par.nnz in -- -m order2 -1 2>err.txt
check "an existing output is not overwritten without -f" grep -q "already exists" err.txt
"$PAR" -j 2 --block $BLOCK -o bad.nnz in -- --bogus 2>err.txt; rc=$?
check "a failing job: non-zero exit" test $rc -ne 0
check "... and no output, no temporary file" sh -c "test ! -e bad.nnz && ! ls -A | grep -q nnzip-parallel"
"$PAR" -j 1 --block 1M -f -o one.nnz in -- -m order2 -1
check "a block larger than the file: one member, the same bytes as nnzip -c" sh -c "'$BIN' -q -c -m order2 -1 <in | cmp -s - one.nnz"
if ssh -o BatchMode=yes -o ConnectTimeout=3 localhost true 2>/dev/null; then
    "$PAR" -S localhost -j 2 --block $BLOCK -f -o ssh.nnz in -- -m order2 -1
    check "through ssh: the same bytes" cmp -s ssh.nnz seq.nnz
else
    echo "test_parallel: no password-less ssh to localhost: the --sshlogin check skipped"
fi
echo "test_parallel: $pass passed, $fail failed"
[ $fail = 0 ]
