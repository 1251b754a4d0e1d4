#!/usr/bin/env bash
# The scale-out recipe (tools/nnzip-parallel, docs/scale-out.md) over local job slots: GNU
# parallel cuts a file into byte ranges, one nnzip per range, members concatenated in order;
# plain nnzip -d must give the input back, and the members must be the very bytes a sequential
# loop over the same ranges writes (each member is independent and deterministic), whatever
# the split: exact byte ranges (--recend '') or parallel's default cuts after a newline.
# Usage: test_parallel.sh NNZIP NNZIP_PARALLEL CORPUS_FILE...
# Skipped (77) without GNU parallel: this test installs nothing (.ci/run does).
set -u
BIN=$(realpath "$1")
PAR=$(realpath "$2")
shift 2
FILES=()
for f in "$@"; do FILES+=("$(realpath "$f")"); done
command -v parallel >/dev/null || { echo "test_parallel: no GNU parallel (Debian: parallel): skipped"; exit 77; }
WORK=$(mktemp -d) || exit 1 # (an empty WORK would make `cd` stay here and the test write into the tree)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
pass=0 fail=0
check() { local what=$1; shift; if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what" >&2; fi; }
OPTS=(-m order2 -1)
# seq IN OUT SIZE...: one `nnzip -c` per byte range of IN, the ranges' sizes in order
seq_loop() {
    local in=$1 out=$2 off=0 s; shift 2
    : >"$out"
    for s in "$@"; do
        tail -c +$((off + 1)) "$in" | head -c "$s" | "$BIN" -q -c "${OPTS[@]}" >>"$out"
        off=$((off + s))
    done
}
# sizes NNZ: the original size of each member, as nnzip -l shows them
sizes() { "$BIN" -l "$1" | sed '/ members in all$/,$d' | sed -n 's/^  original \([0-9]*\) bytes.*/\1/p'; }
# text and binary (the files repeated), then noise (perl's seeded generator): about 600 kB,
# not a multiple of the block
for ((i = 0; i < 40; i++)); do cat "${FILES[@]}"; done >in
perl -e 'srand(16); print pack("C*", map { int rand 256 } 1 .. 123457)' >noise
cat noise >>in
for ((i = 0; i < 20; i++)); do cat "${FILES[1]:-${FILES[0]}}"; done >bin
cat noise >>bin
SIZE=$(stat -c %s in)
BLOCK=100k BYTES=102400 # as nnzip's --member-size reads it: 100 KiB
n=$(( (SIZE + BYTES - 1) / BYTES ))
export NNZIP="$BIN"

# 1. The recipe: exact ranges of BYTES, members in order.
"$PAR" -j 2 --block $BLOCK -o par.nnz in "${OPTS[@]}"
check "the recipe writes its output" test -s par.nnz
check "plain nnzip -d decodes the members to the input" sh -c "'$BIN' -dc par.nnz | cmp -s - in"
check "nnzip -l: $n members" sh -c "'$BIN' -l par.nnz | grep -q ' $n members in all'"
sizes=($(sizes par.nnz))
check "members of $BYTES bytes but the last" test "${sizes[*]}" = "$(for ((i = 1; i < n; i++)); do printf '%s ' $BYTES; done)$((SIZE - (n - 1) * BYTES))"
seq_loop in seq.nnz "${sizes[@]}"
check "the same bytes as a sequential loop over the same ranges" cmp -s par.nnz seq.nnz
check "the same bytes as nnzip --member-size=$BLOCK" sh -c "'$BIN' -q -c ${OPTS[*]} --member-size=$BLOCK <in | cmp -s - par.nnz"
: >plain
check "the output's mode is a plain redirection's" test "$(stat -c %a par.nnz)" = "$(stat -c %a plain)"

# 2. Plain GNU parallel, exact ranges (--recend '') on binary data: the same bytes as the loop.
parallel --pipepart -a bin --block $BYTES --recend '' -k "$BIN" -q -c "${OPTS[@]}" >bin.nnz
check "--recend '' on binary data: decodes to the input" sh -c "'$BIN' -dc bin.nnz | cmp -s - bin"
seq_loop bin binseq.nnz $(sizes bin.nnz)
check "--recend '' on binary data: the same bytes as the loop" cmp -s bin.nnz binseq.nnz
check "--recend '' on binary data: ranges of exactly $BYTES bytes" test "$(sizes bin.nnz | head -1)" = $BYTES

# 3. Parallel's default split (after a newline near each boundary): other ranges, still every
# byte once and in order, so the same input back; and the members are the loop's over them.
parallel --pipepart -a in --block $BYTES -k "$BIN" -q -c "${OPTS[@]}" >nl.nnz
check "newline split: decodes to the input" sh -c "'$BIN' -dc nl.nnz | cmp -s - in"
nl_sizes=($(sizes nl.nnz))
seq_loop in nlseq.nnz "${nl_sizes[@]}"
check "newline split: the same bytes as the loop over its ranges (${nl_sizes[*]})" cmp -s nl.nnz nlseq.nnz

# 4. Failures and file safety.
cp par.nnz keep.nnz
"$PAR" -j 2 --block $BLOCK -o par.nnz in "${OPTS[@]}" 2>err.txt; rc=$?
check "an existing output: refused without -f" sh -c "test $rc -ne 0 && grep -q 'already exists' err.txt && cmp -s par.nnz keep.nnz"
"$PAR" -j 2 --block $BLOCK -o bad.nnz in -- --bogus 2>err.txt; rc=$?
check "a failing job: non-zero exit, one line of nnzip-parallel" sh -c "test $rc -ne 0 && grep -c '^nnzip-parallel:' err.txt | grep -qx 1"
check "... and no output, no temporary file" sh -c "test ! -e bad.nnz && ! ls -A | grep -q nnzip-parallel"
"$PAR" -f -j 2 --block $BLOCK -o par.nnz in -- --bogus 2>/dev/null
check "a failing job with -f: the old output is kept" cmp -s par.nnz keep.nnz
"$PAR" -j 2 --block 1x -o x.nnz in 2>err.txt; rc=$?
check "a bad --block: non-zero exit, one clear line, no output" sh -c "test $rc -ne 0 && test \$(wc -l <err.txt) = 1 && test ! -e x.nnz"

# 5. Edge sizes: a block larger than the file, an empty file.
"$PAR" -j 1 --block 1M -o one.nnz in "${OPTS[@]}"
check "a block larger than the file: one member, the bytes of nnzip -c" sh -c "'$BIN' -q -c ${OPTS[*]} <in | cmp -s - one.nnz"
: >empty
"$PAR" -o empty.nnz empty "${OPTS[@]}"
check "an empty file: one empty member, as nnzip -c writes" sh -c "'$BIN' -q -c ${OPTS[*]} </dev/null | cmp -s - empty.nnz && '$BIN' -t empty.nnz"

# 6. Hosts: --sshlogin with a stand-in for ssh (runs the command here, as sshd would), so the
# remote path (command quoting, data through ssh's standard input and output) runs everywhere.
# sshd always sets SHELL (the login shell), and parallel's remote wrapper runs the job with it:
# without it the job prints nothing (CI runs with SHELL unset), so the stand-in sets it too.
cat >fakessh <<'EOF'
#!/bin/sh
export SHELL=/bin/sh
echo "$*" | cut -c1-60 >>fakessh.log
while [ $# -gt 0 ]; do case $1 in -o|-l|-p) shift 2 ;; -*) shift ;; *) break ;; esac; done
shift; [ "${1-}" = -- ] && shift
exec sh -c "$*"
EOF
chmod +x fakessh
"$PAR" -S "2/$WORK/fakessh node1" -S "1/$WORK/fakessh node2" --block $BLOCK -o fake.nnz in "${OPTS[@]}"
check "--sshlogin (stand-in ssh): the same bytes" cmp -s fake.nnz seq.nnz
check "--sshlogin (stand-in ssh): the jobs went through it" test "$(grep -c node fakessh.log 2>/dev/null)" -ge "$n"
if ssh -o BatchMode=yes -o ConnectTimeout=3 localhost true 2>/dev/null; then
    "$PAR" -S localhost -j 2 --block $BLOCK -o ssh.nnz in "${OPTS[@]}"
    check "--sshlogin localhost (real ssh): the same bytes" cmp -s ssh.nnz seq.nnz
else
    echo "test_parallel: no password-less ssh to localhost: the real-ssh check skipped"
fi
echo "test_parallel: $pass passed, $fail failed"
[ $fail = 0 ]
