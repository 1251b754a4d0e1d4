#!/usr/bin/env bash
# More than 4 GiB through pipes (slow label): sizes and offsets past 32 bits in the framing, the
# member's 64-bit size and CRC, and memory that does not grow with the input. The stored model
# (-m stored) keeps it to minutes; the framing is the same for every model.
# Usage: test_big.sh NNZIP
set -u
BIN=$(realpath "$1")
WORK=$(mktemp -d) || exit 1 # (an empty WORK would make `cd` stay here and the test write into the tree)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
SIZE=$((4 * 1024 * 1024 * 1024 + 123457)) # past 2^32, not a multiple of a block
head -c 1048573 /dev/urandom >chunk       # a prime-ish length: blocks never line up with it
gen() { while cat chunk; do :; done | head -c "$SIZE"; }
fail=0
gen | /usr/bin/time -f "%M" -o crss "$BIN" -q -c -m stored >big.nnz || { echo "FAIL: compress"; fail=1; }
"$BIN" -l big.nnz >list.txt || { echo "FAIL: -l"; fail=1; }
grep -q "original $SIZE bytes" list.txt || { echo "FAIL: -l does not show $SIZE bytes"; cat list.txt; fail=1; }
/usr/bin/time -f "%M" -o drss "$BIN" -dc big.nnz | cmp - <(gen) || { echo "FAIL: round trip"; fail=1; }
# the same bytes as two members through -c, decoded as one stream
{ "$BIN" -q -c -m stored <(head -c 3000000000 <(gen)); "$BIN" -q -c -m stored <(gen | tail -c +3000000001); } >two.nnz
"$BIN" -dc two.nnz | cmp - <(gen) || { echo "FAIL: two members"; fail=1; }
echo "peak RSS KiB: compress $(cat crss), decompress $(cat drss)"
for f in crss drss; do
    [ "$(cat $f)" -lt 65536 ] || { echo "FAIL: $f $(cat $f) KiB: memory grew with the input"; fail=1; }
done
[ $fail = 0 ] && echo "test_big: all checks passed"
exit $fail
