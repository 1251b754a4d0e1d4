#!/usr/bin/env bash
# One kernel path (avx2 or avx512) proved on this CPU, or skipped loudly. The other tests compare
# every path the CPU has with _ref and print a note for a path it lacks, but a passing test's
# notes are never shown; this test exits 77 instead, so ctest lists it as "Skipped" at the end of
# every run on a machine without the path (tests/README.md).
# Usage: test_isa.sh ISA NNZIP TEST_BIN_DIR DATA_DIR
set -u
ISA=$1
BIN=$(realpath "$2")
TESTS=$(realpath "$3")
DATA=$(realpath "$4")
WORK=$(mktemp -d) || exit 1 # (an empty WORK would make `cd` stay here and the test write into the tree)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
pass=0 fail=0
check() { local what=$1; shift; if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what" >&2; fi; }

if ! NNZIP_ISA=$ISA "$BIN" -t "$DATA/good-order2.txt.nnz" 2>err.txt; then
    if grep -q "not supported on this machine" err.txt; then
        echo "***** test_isa: the $ISA kernels did NOT run: this CPU (or its OS) lacks $ISA *****"
        echo "***** run ctest on a machine that has it to prove that path (tests/README.md) *****"
        exit 77
    fi
    echo "FAIL: NNZIP_ISA=$ISA: $(cat err.txt)" >&2
    exit 1
fi

# 1. The tests that compare each path with _ref directly must have compared this one.
for t in test_kernels test_attention test_optim test_dispatch test_cpu; do
    "$TESTS/$t" >"$t.out" 2>&1
    check "$t passes" test $? = 0
    check "$t did not skip $ISA" sh -c "! grep -i '$ISA.*\\(skip\\|not supported\\|lacks\\)' '$t.out'"
done
check "test_cpu lists $ISA as supported" grep -q "^supported:.* $ISA" test_cpu.out

# 2. The golden files decode with every kernel on this path.
for f in "$DATA"/good-*.nnz; do
    NNZIP_ISA=$ISA "$BIN" -q -dc "$f" >dec 2>err.txt
    check "$(basename "$f") decodes under NNZIP_ISA=$ISA" cmp -s dec "${f%.nnz}"
done

# 3. Every model writes the same bytes on this path as on _ref (a float model, networks with
# their segments, the cm engine's mixer loops). 400 bytes: _ref runs a level-5 network at
# about 100 bytes a second.
head -c 400 "$DATA/good-cm.txt" >text
text=text
small=(--set cm_hash=16 --set cm_match=12 --set cm_history=16)
for m in order2 cm lstm transformer hybrid; do
    for lvl in 1 5; do
        set=()
        case $m in cm | hybrid) set=("${small[@]}") ;; esac
        NNZIP_ISA=ref "$BIN" -q -c -m $m -$lvl "${set[@]}" <"$text" >ref.nnz
        NNZIP_ISA=$ISA "$BIN" -q -c -m $m -$lvl "${set[@]}" <"$text" >isa.nnz
        check "$m -$lvl: $ISA writes the bytes of ref" cmp -s ref.nnz isa.nnz
        check "$m -$lvl: ref decodes the $ISA file" sh -c "NNZIP_ISA=ref '$BIN' -q -dc isa.nnz | cmp -s - '$text'"
    done
done
NNZIP_ISA=ref "$BIN" -q -c --max-error=2^-10 <"$DATA/good-float-lossy.f32" >ref.nnz
NNZIP_ISA=$ISA "$BIN" -q -c --max-error=2^-10 <"$DATA/good-float-lossy.f32" >isa.nnz
check "float --max-error: $ISA writes the bytes of ref" cmp -s ref.nnz isa.nnz

echo "test_isa $ISA: $pass passed, $fail failed"
[ $fail = 0 ]
