#!/usr/bin/env bash
# The installed libraries export exactly the functions nnzip.h declares NNZ_API: any other global
# symbol (mixer_new, crc32_update, nc_*) could collide with one of the program that links them,
# and a missing one would fail to link.
# Usage: test_exports.sh nnzip.h libnnzip.so libnnzip.a
set -u
header=$1 so=$2 a=$3
# What a linker may add to a shared object's dynamic table by itself (older binutils export
# these; today's do not). Nothing else is allowed.
toolchain='^(_init|_fini|__bss_start|_edata|_end)$'

declared=$(grep '^NNZ_API' "$header" | grep -o 'nnz_[a-z0-9_]*(' | tr -d '(' | sort -u)
fail=0
check() { # check WHAT: the defined global names on standard input against $declared
    local exported extra missing
    exported=$(grep -Ev "$toolchain" | sort -u)
    extra=$(comm -13 <(echo "$declared") <(echo "$exported") | grep -v '^$')
    missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
    if [ -n "$extra" ]; then
        echo "test_exports: $1 exports $(echo "$extra" | wc -l) symbols nnzip.h does not declare:" \
             $(echo "$extra" | head -20) "..."
        fail=$((fail + 1))
    elif [ -n "$missing" ]; then
        echo "test_exports: $1 lacks:" $missing
        fail=$((fail + 1))
    else
        echo "test_exports: $1: the $(echo "$declared" | wc -l) functions of nnzip.h, nothing else"
    fi
}
# Not `nm | check`: check must run in this shell to count failures.
check "$(basename "$so")" < <(nm -D --defined-only "$so" | awk 'NF == 3 {sub(/@.*/, "", $3); print $3}')
check "$(basename "$a")" < <(nm -g --defined-only "$a" | awk 'NF == 3 {print $3}')
echo "test_exports: $((2 - fail)) passed, $fail failed"
[ "$fail" -eq 0 ] && [ -n "$declared" ]
