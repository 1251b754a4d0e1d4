#!/usr/bin/env bash
# The compression regression table: compress every row of results.tsv with the given nnzip,
# compare its size and hash with the table, decode it and compare with the input.
#
# A preset or model change moves bytes; this makes every such move visible, row by row, so it is
# decided (check.sh --update, reviewed in the diff) and never silent. Run with another build
# (clang, -O0, aarch64 under qemu) it is also the determinism check across builds: the table
# was written on x86-64, so the same hash means the same bytes (README.md).
#
# usage: check.sh [OPTION]... NNZIP [ARG]...
#   NNZIP [ARG]...   the command that runs nnzip, with any wrapper in front of it, e.g.
#                    qemu-aarch64-static -L /usr/aarch64-linux-gnu build-a64/tools/nnzip
#   --filter=ERE     only the rows whose "input model level options" matches ERE (bash =~)
#   --jobs=N         rows run N at a time (default $REGRESS_JOBS, else 2)
#   --update         rewrite the checked rows of the table with what this build gives (every
#                    row must still decode to its input); the deliberate way to accept a change
#   --keep=DIR       also leave each row's .nnz in DIR (named by its row, see --decode)
#   --decode=DIR     do not compress: decode DIR's .nnz of each row (written by --keep on
#                    another build), after checking they are the table's bytes
#   --no-decode      compress and compare only
# Exit status: 0 every row as in the table, 1 a row differs or fails, 2 usage or setup error.
set -u
here=$(cd "$(dirname "$0")" && pwd)
table=$here/results.tsv
filter= jobs=${REGRESS_JOBS:-2} update=0 keep= from= decode=1
while [ $# -gt 0 ]; do
    case $1 in
    --filter=*) filter=${1#*=} ;;
    --jobs=*) jobs=${1#*=} ;;
    --update) update=1 ;;
    --keep=*) keep=${1#*=} ;;
    --decode=*) from=${1#*=} ;;
    --no-decode) decode=0 ;;
    --) shift; break ;;
    -*) echo "check.sh: unknown option $1 (see the head of $0)" >&2; exit 2 ;;
    *) break ;;
    esac
    shift
done
[ $# -gt 0 ] || { echo "check.sh: no nnzip command given (usage: head of $0)" >&2; exit 2; }
cmd=("$@")
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "check.sh: --jobs=$jobs: not a positive count" >&2; exit 2; }
if [ $update = 1 ] && { [ -n "$from" ] || [ $decode = 0 ]; }; then
    echo "check.sh: --update compresses and decodes; not with --decode or --no-decode" >&2; exit 2
fi
if [ -n "$keep" ]; then
    mkdir -p "$keep" || { echo "check.sh: --keep=$keep: cannot make the folder" >&2; exit 2; }
fi
[ -r "$table" ] || { echo "check.sh: $table: cannot read the table" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nnzip-regress.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

# input_path NAME: where the input of a row is. inputs/ holds the committed ones; xt-630k.txt is
# made here, 14 copies of the golden tests/data/good-xt.txt (630,000 bytes): the text transform
# only rewrites text of 512 KiB or more, and 630 kB of text would be a corpus to commit. Called
# once per row while the table is read, so the rows running in parallel find it made.
input_path() {
    case $1 in
    xt-630k.txt)
        if [ ! -e "$tmp/xt-630k.txt" ]; then
            for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14; do cat "$here/../data/good-xt.txt"; done \
                >"$tmp/xt-630k.txt.part" && mv "$tmp/xt-630k.txt.part" "$tmp/xt-630k.txt"
        fi
        echo "$tmp/xt-630k.txt" ;;
    *) echo "$here/inputs/$1" ;;
    esac
}

hash16() { sha256sum "$1" | cut -c1-16; }

# run_row N INPUT MODEL LEVEL OPTIONS OUT NAME BYTES HASH: one row; writes "bytes hash decoded"
# (or an error line starting with "error:") to $tmp/N.res. OUT is = for a decoder that must give
# the input back, or the hash of what it must give (lossy float rows); NAME names its .nnz for
# --keep and --decode; BYTES and HASH are the table's.
run_row() {
    local n=$1 input=$2 model=$3 level=$4 opts=$5 out=$6 args=() in nnz dec got
    in=$(input_path "$input")
    [ -r "$in" ] || { echo "error: input $in missing" >"$tmp/$n.res"; return; }
    [ "$model" = - ] || args+=(-m "$model")
    [ "$level" = - ] || args+=("-$level")
    # shellcheck disable=SC2206 # options are words of the table, split on purpose
    [ "$opts" = - ] || args+=($opts)
    nnz=$tmp/$n.nnz
    if [ -n "$from" ]; then
        nnz=$from/$7.nnz
        [ -r "$nnz" ] || { echo "error: $nnz missing (--decode)" >"$tmp/$n.res"; return; }
    elif ! "${cmd[@]}" -q "${args[@]}" -c -- "$in" >"$nnz" 2>"$tmp/$n.err"; then
        echo "error: compressing failed: $(head -c 300 "$tmp/$n.err")" >"$tmp/$n.res"; return
    fi
    [ -z "$keep" ] || cp "$nnz" "$keep/$7.nnz"
    got="$(stat -c %s "$nnz") $(hash16 "$nnz")"
    if [ -n "$from" ] && [ "$got" != "$8 $9" ]; then
        echo "error: $nnz is not the table's file: $got, the table has $8 $9" >"$tmp/$n.res"
        return
    fi
    if [ $decode = 1 ]; then
        dec=$tmp/$n.dec
        if ! "${cmd[@]}" -q -d -c -- "$nnz" >"$dec" 2>"$tmp/$n.err"; then
            echo "error: decoding failed: $(head -c 300 "$tmp/$n.err")" >"$tmp/$n.res"; return
        fi
        if [ "$out" = = ] && ! cmp -s "$dec" "$in"; then
            echo "error: decoded file differs from the input" >"$tmp/$n.res"; return
        fi
        if [ "$out" = = ]; then got+=" ="; else got+=" $(hash16 "$dec")"; fi
        rm -f "$dec"
    else
        got+=" -"
    fi
    [ -n "$from" ] || rm -f "$nnz"
    echo "$got" >"$tmp/$n.res"
}

# Read the table: comment lines are kept as they are; a row is
#   input  model  level  options  bytes  hash  decoded
# separated by tabs, "-" for an empty field (bytes and hash "-" for a row not yet measured).
start=$(date +%s.%N)
declare -a lines rows keys names
n=0
while IFS= read -r line || [ -n "$line" ]; do
    lines+=("$line")
    case $line in '#'* | '') continue ;; esac
    IFS=$'\t' read -r input model level opts bytes hash out extra <<<"$line"
    if [ -z "${out:-}" ] || [ -n "${extra:-}" ]; then
        echo "check.sh: $table line ${#lines[@]}: not 7 tab-separated fields: $line" >&2; exit 2
    fi
    key="$input $model $level $opts"
    [ -z "$filter" ] || [[ $key =~ $filter ]] || continue
    input_path "$input" >/dev/null # made now, before the rows run in parallel
    rows[n]=$((${#lines[@]} - 1))
    keys[n]=$key
    names[n]=$(printf '%s' "$input.$model.$level.$opts" | tr -c 'A-Za-z0-9._=^-' '_')
    n=$((n + 1))
done <"$table"
[ $n -gt 0 ] || { echo "check.sh: no row of $table matches --filter=$filter" >&2; exit 2; }

for ((i = 0; i < n; i++)); do
    IFS=$'\t' read -r input model level opts bytes hash out <<<"${lines[rows[i]]}"
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    run_row "$i" "$input" "$model" "$level" "$opts" "$out" "${names[i]}" "$bytes" "$hash" &
done
wait

# Compare, in table order, and print every row that moved.
changed=0 failed=0
for ((i = 0; i < n; i++)); do
    IFS=$'\t' read -r input model level opts bytes hash out <<<"${lines[rows[i]]}"
    res=$(cat "$tmp/$i.res" 2>/dev/null || echo "error: no result")
    case $res in error:*) echo "FAIL    ${keys[i]}: ${res#error: }"; failed=$((failed + 1)); continue ;; esac
    read -r gbytes ghash gout <<<"$res"
    [ $decode = 1 ] || gout=$out
    if [ "$gbytes $ghash $gout" = "$bytes $hash $out" ]; then continue; fi
    changed=$((changed + 1))
    if [ "$bytes" = - ]; then
        echo "NEW     ${keys[i]}: $gbytes bytes, hash $ghash"
    elif [ "$gbytes" != "$bytes" ]; then
        pct=$(awk -v a="$bytes" -v b="$gbytes" 'BEGIN { printf "%+.2f", (b - a) * 100 / a }')
        echo "CHANGED ${keys[i]}: $bytes -> $gbytes bytes ($pct %), hash $hash -> $ghash"
    elif [ "$ghash" != "$hash" ]; then
        echo "CHANGED ${keys[i]}: same size ($bytes bytes), other bytes: hash $hash -> $ghash"
    else
        echo "CHANGED ${keys[i]}: decoded output $out -> $gout"
    fi
    [ $update = 0 ] || lines[rows[i]]=$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s' \
        "$input" "$model" "$level" "$opts" "$gbytes" "$ghash" "$gout")
done

secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
what="compressed and decoded"
[ -z "$from" ] || what="decoded from $from"
[ $decode = 1 ] || what="compressed"
echo "regress: $n rows $what by ${cmd[*]}: $changed changed, $failed failed ($secs s)"
if [ $update = 1 ]; then
    if [ $failed -gt 0 ]; then
        echo "regress: table NOT updated: $failed rows failed" >&2; exit 1
    fi
    printf '%s\n' "${lines[@]}" >"$table.tmp" && mv "$table.tmp" "$table" || exit 2
    echo "regress: $table: $changed rows rewritten"
    exit 0
fi
[ $changed -eq 0 ] && [ $failed -eq 0 ]
