#!/usr/bin/env bash
# Faults (issue 17): the data-safety contract when things go wrong. kill -9 at random moments and
# at chosen system calls; a full disk, failing fsync/close/link/rename and read errors (an
# LD_PRELOAD shim, no root needed); writes to /dev/full; and the decoder on a few thousand
# foreign files of at most 1 kB within bounded time and memory. With the argument `tmpfs`, the
# full disk is a real tmpfs instead (root only: skipped, 77, without).
# Usage: test_faults.sh NNZIP FAULT_INJECT_SO FAULT_RUN DATA_DIR CORPUS_DIR [tmpfs|full]
# Environment: NNZIP_FAULT_SEED (the kills' seed, printed), NNZIP_TEST_SANITIZED (fewer rounds).
set -u
BIN=$(realpath "$1")
SHIM=$(realpath "$2")
RUN=$(realpath "$3")
DATA=$(realpath "$4")
CORPUS=$(realpath "$5")
PART=${6:-}
# The parts to run (NNZIP_FAULT_PARTS picks some, to try one quickly): random and chosen kills,
# failing calls (full disk, read errors), standard output, the decoder on small files; tmpfs.
PARTS=${NNZIP_FAULT_PARTS:-random chosen calls stdout small}
[ "$PART" != tmpfs ] || PARTS=tmpfs
want() { [[ " $PARTS " == *" $1 "* ]]; }
HERE=$(dirname "$(realpath "$0")")
WORK=$(mktemp -d)
MNT=
cleanup() { [ -z "$MNT" ] || umount "$MNT" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
cd "$WORK" || exit 1
command -v python3 >/dev/null || { echo "test_faults: SKIP: needs python3 (to make its inputs)"; exit 77; }
SAN=${NNZIP_TEST_SANITIZED:-}
# The shim comes before the sanitizers' runtime in the load order, which ASan refuses unless told.
export ASAN_OPTIONS="verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
SEED=${NNZIP_FAULT_SEED:-1704}
RANDOM=$SEED
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
check() { local what=$1; shift; if "$@"; then ok; else bad "$what"; fi; }
say() { echo "test_faults: $*"; }
ms() { echo $(($(date +%s%N) / 1000000)); }
T0=$(ms)
lap() { say "$1 ($((($(ms) - T0) / 1000)) s in all)"; }
temps() { ls -A "${1:-.}" | grep '^\.nnztmp'; }

# expect_error WHAT PATTERN CMD...: exit 1 and exactly one stderr line matching "^nnzip: PATTERN$"
expect_error() {
    local what=$1 pattern=$2; shift 2
    "$@" >"$WORK/out.txt" 2>"$WORK/err.txt"
    local rc=$?
    if [ $rc -eq 1 ] && [ "$(wc -l <"$WORK/err.txt")" -eq 1 ] && grep -q "^nnzip: $pattern\$" "$WORK/err.txt"
    then ok; else bad "$what: rc=$rc, stderr: $(head -c 600 "$WORK/err.txt")"; fi
}

# make_input SIZE BLOCK: k.orig, SIZE bytes of made-up text (the same every run), and k.nnz.ref,
# its compression by order2 in blocks of BLOCK, which writes its output a block at a time (so a
# kill can land before, during and after the writes).
make_input() {
    python3 - "$1" >k.orig <<'EOF'
import random, sys
r = random.Random(17)
words = ["".join(r.choice("etaoinshrdlucmfwypvbgk") for _ in range(r.randint(1, 9))) for _ in range(4000)]
out, n = [], 0
while n < int(sys.argv[1]):
    line = " ".join(r.choice(words) for _ in range(r.randint(3, 14))) + "\n"
    out.append(line)
    n += len(line)
sys.stdout.write("".join(out)[: int(sys.argv[1])])
EOF
    ARGS=(-q -m order2 --block-size=$2)
    "$BIN" "${ARGS[@]}" -c k.orig >k.nnz.ref || { echo "test_faults: cannot compress"; exit 1; }
}
printf 'an older file, to be kept or replaced whole\n' >old.ref
# Whether this file system gives unnamed temporary files (else nnzip writes named ones).
if python3 -c 'import os, sys; os.close(os.open(sys.argv[1], os.O_TMPFILE | os.O_WRONLY, 0o600))' . 2>/dev/null
then tmpfile=1; else tmpfile=0; say "note: no O_TMPFILE here: nnzip writes named temporary files"; fi

# fresh DIR WHAT MODE: a folder holding the input of WHAT (compress: k, decompress: k.nnz), and
# with MODE force the older file under the output's name.
fresh() {
    rm -rf "$1" && mkdir "$1" && fresh_input "$1" "$2"
    [ "$3" != force ] || cp old.ref "$1/$(out_of "$2")"
}
fresh_input() { if [ "$2" = compress ]; then cp k.orig "$1/k"; else cp k.nnz.ref "$1/k.nnz"; fi; }
in_of() { [ "$1" = compress ] && echo k || echo k.nnz; }
out_of() { [ "$1" = compress ] && echo k.nnz || echo k; }
want_of() { [ "$1" = compress ] && echo "$WORK/k.nnz.ref" || echo "$WORK/k.orig"; }
cmd_of() { # WHAT MODE -> the command's arguments (run inside the folder)
    local a=("${ARGS[@]}")
    [ "$1" = compress ] || a+=(-d)
    [ "$2" != rm ] || a+=(--rm)
    [ "$2" != force ] || a+=(-f)
    echo "${a[@]} $(in_of "$1")"
}

# state DIR WHAT MODE NAMED: after a kill (or a failure), check the contract and set STATE to what
# was left: the output's name holds nothing, the older file (-f) or the whole output -- never
# part of one; the input is intact, or gone only once the whole output is there (--rm); a
# temporary file is hidden and clearly named (.nnztmp-*), and never partial unless nnzip had to
# use named ones (NAMED, or a file system without O_TMPFILE).
state() {
    local d=$1 what=$2 mode=$3 named=$4 out in want f i t n_part=0 n_whole=0 x
    out=$d/$(out_of "$what") in=$d/$(in_of "$what") want=$(want_of "$what")
    if [ ! -e "$out" ]; then f=absent
    elif cmp -s "$out" "$want"; then f=whole
    elif [ "$mode" = force ] && cmp -s "$out" old.ref; then f=old
    else f=PARTIAL; fi
    if [ ! -e "$in" ]; then i=removed
    elif cmp -s "$in" "$([ "$what" = compress ] && echo k.orig || echo k.nnz.ref)"; then i=intact
    else i=CHANGED; fi
    for x in $(temps "$d"); do
        if cmp -s "$d/$x" "$want"; then n_whole=$((n_whole + 1)); else n_part=$((n_part + 1)); fi
    done
    t="temps=$n_whole whole+$n_part partial"
    STATE="output $f, input $i, $t"
    [ "$f" != PARTIAL ] && [ "$i" != CHANGED ] && { [ "$i" != removed ] || [ "$f" = whole ]; } \
        && { [ "$mode" != force ] || [ "$f" != absent ]; } && { [ "$named" = 1 ] || [ $tmpfile = 0 ] || [ $n_part -eq 0 ]; }
}

# rerun DIR WHAT: with whatever the kills left beside it, the same command (without -f, the
# output's name cleared as a user would) succeeds and gives the whole output.
rerun() {
    local d=$1 what=$2
    [ -e "$d/$(in_of "$what")" ] || fresh_input "$d" "$what"
    rm -f "$d/$(out_of "$what")"
    (cd "$d" && "$BIN" $(cmd_of "$what" plain)) && cmp -s "$d/$(out_of "$what")" "$(want_of "$what")"
}

# ---- kill -9 at random moments ----------------------------------------------------------------
# A run's length is measured first; each kill then lands at a seeded random moment between its
# start and 1.2 times its length (so some land after the end: then the output must be whole).
# The kills of one WHAT share a folder: what one leaves behind is there for the next runs.
random_kills() {
    local what=$1 per_mode=$2 named=$3 d=$WORK/rk-$1-$3 t0 len mode r delay pid lo=999999 hi=0
    local -A seen=()
    local n=0 bad_rounds=0 left
    fresh "$d" "$what" plain
    t0=$(ms)
    (cd "$d" && NNZIP_NO_TMPFILE=$named "$BIN" $(cmd_of "$what" plain)) || bad "$what: the timing run failed"
    len=$(($(ms) - t0))
    for mode in plain rm force; do
        for ((r = 0; r < per_mode; r++)); do
            [ -e "$d/$(in_of "$what")" ] || fresh_input "$d" "$what"
            rm -f "$d/$(out_of "$what")"
            [ "$mode" != force ] || cp old.ref "$d/$(out_of "$what")"
            delay=$((RANDOM % 1000 * len * 12 / 10000))
            (cd "$d" && NNZIP_NO_TMPFILE=$named exec "$BIN" $(cmd_of "$what" "$mode")) &
            pid=$!
            sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
            { kill -9 $pid; wait $pid; } 2>/dev/null
            n=$((n + 1))
            [ $delay -lt $lo ] && lo=$delay
            [ $delay -gt $hi ] && hi=$delay
            if ! state "$d" "$what" "$mode" "$named"; then
                bad_rounds=$((bad_rounds + 1))
                bad "kill -9 after $delay ms while ${what}ing ($mode): $STATE"
            fi
            seen["$mode: ${STATE%%, temps*}"]=$((${seen["$mode: ${STATE%%, temps*}"]:-0} + 1))
        done
    done
    left=$(temps "$d" | wc -l)
    say "kill -9 x$n while ${what}ing$([ "$named" = 1 ] && echo ' (named temporary files)'): a run takes $len ms, kills at $lo..$hi ms; $left temporary files left"
    for k in "${!seen[@]}"; do say "    ${seen[$k]} x $k"; done | sort
    check "kill -9 x$n while ${what}ing: the contract held every time" test $bad_rounds -eq 0
    [ "$named" = 1 ] || [ $tmpfile = 0 ] || check "kill -9 while ${what}ing: no temporary file left with O_TMPFILE ($left)" test "$left" -eq 0
    check "kill -9 x$n while ${what}ing: a rerun beside what the kills left succeeds" rerun "$d" "$what"
}
# 400 kB (sanitized: 100 kB) in 64 KiB blocks: a run of about half a second in either build.
rounds=8 size=400000
[ -z "$SAN" ] || rounds=2 size=100000
want random && make_input $size 64KiB
want random && for what in compress decompress; do
    random_kills $what $rounds 0
    random_kills $what $(((rounds + 3) / 4)) 1
done

want random && lap "kill -9 at random moments: done"

# ---- kill -9 at chosen moments -----------------------------------------------------------------
# From here on a smaller input does: 100 kB in 8 KiB blocks (sanitized: 20 kB in 2 KiB), a
# dozen writes of output.
if [ -z "$SAN" ]; then make_input 100000 8KiB; else make_input 20000 2KiB; fi
# The moments that matter last microseconds (between writing and naming the output, between
# naming it and removing the input): the shim sends SIGKILL at exactly those calls. The run must
# have died there (else the moment was never reached: the test would prove nothing).
chosen_kill() {
    local what=$1 mode=$2 named=$3 point=$4 d=$WORK/ck rc
    fresh "$d" "$what" "$mode"
    { (cd "$d" && NNZIP_NO_TMPFILE=$named LD_PRELOAD=$SHIM NNZ_FAULT_KILL=$point exec "$BIN" $(cmd_of "$what" "$mode")); rc=$?; } 2>/dev/null
    if [ $rc -ne 137 ]; then bad "kill at $point while ${what}ing ($mode): not reached (exit $rc)"; return; fi
    state "$d" "$what" "$mode" "$named" && ok || bad "kill at $point while ${what}ing ($mode, named $named): $STATE"
    say "  kill at $point while ${what}ing ($mode$([ "$named" = 1 ] && echo ', named temporary')): $STATE"
    [ -z "$(temps "$d")" ] || check "rerun beside what a kill at $point left ($what, $mode)" rerun "$d" "$what"
}
want chosen && [ $tmpfile = 0 ] && say "note: no O_TMPFILE: the kills at the naming of unnamed files are not tried"
want chosen && for what in compress decompress; do
    if [ $tmpfile = 1 ]; then
        for p in read:1 write:1:after write:2:after close:1 linkat:1 linkat:1:after; do
            chosen_kill $what plain 0 $p
        done
        for p in fsync:1 fsync:1:after linkat:1:after unlink:1 unlink:1:after; do
            chosen_kill $what rm 0 $p
        done
        for p in write:1:after linkat:1:after close:1 rename:1 rename:1:after; do
            chosen_kill $what force 0 $p
        done
    fi
    for p in write:2:after link:1 link:1:after unlink:1; do
        chosen_kill $what plain 1 $p
    done
    for p in unlink:1:after unlink:2 unlink:2:after; do
        chosen_kill $what rm 1 $p
    done
    for p in rename:1 rename:1:after; do
        chosen_kill $what force 1 $p
    done
done

want chosen && lap "kill -9 at chosen moments: done"

# ---- a full disk, failing calls, read errors ---------------------------------------------------
# clean_fail WHAT MODE NAMED PATTERN ENV...: the run fails with one line naming the file and the
# reason; nothing under the output's name (or the older file, -f), no temporary file, the input
# intact (also with --rm).
clean_fail() {
    local what=$1 mode=$2 named=$3 pattern=$4 d=$WORK/cf; shift 4
    fresh "$d" "$what" "$mode"
    (cd "$d" && expect_error "$* while ${what}ing ($mode)" "$pattern" env NNZIP_NO_TMPFILE=$named "$@" "$BIN" $(cmd_of "$what" "$mode"))
    local f=$d/$(out_of "$what")
    if [ "$mode" = force ]; then check "$* ($what, -f): the older file kept" cmp -s "$f" old.ref
    else check "$* ($what, $mode): nothing under the output's name" test ! -e "$f"; fi
    check "$* ($what, $mode): no temporary file" test -z "$(temps "$d")"
    state "$d" "$what" "$mode" "$named" && ok || bad "$* ($what, $mode): $STATE"
}
# clean_ok WHAT MODE ENV...: despite the faults, the run succeeds with the whole output.
clean_ok() {
    local what=$1 mode=$2 d=$WORK/co; shift 2
    fresh "$d" "$what" "$mode"
    (cd "$d" && env "$@" "$BIN" $(cmd_of "$what" "$mode")) 2>err.txt
    local rc=$?
    check "$* ($what, $mode): succeeds" test $rc -eq 0 -a ! -s err.txt
    check "$* ($what, $mode): the whole output" cmp -s "$d/$(out_of "$what")" "$(want_of "$what")"
    check "$* ($what, $mode): no temporary file" test -z "$(temps "$d")"
    [ "$mode" != rm ] || check "$* ($what, --rm): the input removed" test ! -e "$d/$(in_of "$what")"
}
if want calls; then
    P="LD_PRELOAD=$SHIM"
    for what in compress decompress; do
        total=$(stat -c %s "$(want_of $what)")
        out=$(out_of $what)
        in=$(in_of $what)
        # the disk fills up after N bytes of the output (the write there is cut short)
        for n in 0 1 4095 $((total / 2)) $((total - 1)); do
            for mode in plain rm force; do
                clean_fail $what $mode 0 "$out: No space left on device" "$P" NNZ_FAULT_WRITE_AFTER=$n
            done
            clean_fail $what rm 1 "$out: No space left on device" "$P" NNZ_FAULT_WRITE_AFTER=$n
        done
        clean_ok $what plain "$P" NNZ_FAULT_WRITE_AFTER=$total # exactly full: it fits
        clean_fail $what plain 0 "$out: Disk quota exceeded" "$P" NNZ_FAULT_WRITE_AFTER=1000 NNZ_FAULT_ERRNO=EDQUOT
        clean_fail $what plain 0 "$out: File too large" "$P" NNZ_FAULT_WRITE_AFTER=1000 NNZ_FAULT_ERRNO=EFBIG
        # the calls that make the output durable and give it its name fail
        clean_fail $what rm 0 "$out: Input/output error" "$P" NNZ_FAULT_CALL=fsync
        clean_fail $what rm 1 "$out: Input/output error" "$P" NNZ_FAULT_CALL=fsync
        # close reports a delayed write error (NFS, FUSE): also after the unnamed file got its name
        for mode in plain rm force; do
            clean_fail $what $mode 0 "$out: Input/output error" "$P" NNZ_FAULT_CALL=close
        done
        clean_fail $what rm 1 "$out: Input/output error" "$P" NNZ_FAULT_CALL=close
        clean_fail $what plain 0 "$out: Operation not permitted" "$P" NNZ_FAULT_CALL=fchmod NNZ_FAULT_ERRNO=EPERM
        clean_fail $what plain 0 "$out: Operation not permitted" "$P" NNZ_FAULT_CALL=futimens NNZ_FAULT_ERRNO=EPERM
        # a folder that takes no new name
        clean_fail $what rm 0 "$out: No space left on device" "$P" NNZ_FAULT_CALL=linkat:0,link:0,rename:0 NNZ_FAULT_ERRNO=ENOSPC
        clean_fail $what rm 1 "$out: No space left on device" "$P" NNZ_FAULT_CALL=link:0,rename:0 NNZ_FAULT_ERRNO=ENOSPC
        clean_fail $what force 0 "$out: Input/output error" "$P" NNZ_FAULT_CALL=rename:0
        clean_fail $what force 1 "$out: Input/output error" "$P" NNZ_FAULT_CALL=rename:0
        # no hard links (vfat: EPERM): the named file is renamed into place instead
        clean_ok $what rm NNZIP_NO_TMPFILE=1 "$P" NNZ_FAULT_CALL=link:0 NNZ_FAULT_ERRNO=EPERM
        # no /proc and no privilege for AT_EMPTY_PATH: the unnamed file cannot be named, so its
        # contents go to a named one (a fault that once published an empty file and, with --rm,
        # removed the input)
        for mode in plain rm force; do
            clean_ok $what $mode "$P" NNZ_FAULT_CALL=linkat:0 NNZ_FAULT_ERRNO=ENOENT
        done
        # interrupted and short reads and writes: retried, the same bytes
        clean_ok $what rm "$P" NNZ_FAULT_EINTR=1
        # the input cannot be read after N bytes
        isize=$(stat -c %s "$([ $what = compress ] && echo k.orig || echo k.nnz.ref)")
        for n in 0 1 $((isize / 4)) $((isize / 2)) $((isize - 1)) $isize; do
            for mode in plain rm; do
                clean_fail $what $mode 0 "$in: Input/output error" "$P" NNZ_FAULT_READ_AFTER=$n
            done
        done
        clean_fail $what rm 1 "$in: Input/output error" "$P" NNZ_FAULT_READ_AFTER=$((isize / 3))
        # ... from a pipe
        d=$WORK/pipe
        fresh "$d" $what plain
        (cd "$d" && expect_error "a read error on a pipe while ${what}ing" "(stdin): Input/output error" \
            sh -c "cat $in | env '$P' NNZ_FAULT_READ_AFTER=$((isize / 2)) '$BIN' ${ARGS[*]} $([ $what = compress ] || echo -d) -o out -")
        check "a read error on a pipe: no output file" test ! -e "$d/out" -a -z "$(temps "$d")"
    done
    lap "full disk, failing calls, read errors: done"
fi

# ---- standard output on a full device ------------------------------------------------------------
if want stdout; then
    expect_error "compress -c to /dev/full" "(stdout): No space left on device" sh -c "'$BIN' ${ARGS[*]} -c k.orig >/dev/full"
    expect_error "decompress -c to /dev/full" "(stdout): No space left on device" sh -c "'$BIN' -d -c k.nnz.ref >/dev/full"
    expect_error "-l to /dev/full" "(stdout): No space left on device" sh -c "'$BIN' -l k.nnz.ref >/dev/full"
    expect_error "--version to /dev/full" "(stdout): No space left on device" sh -c "'$BIN' --version >/dev/full"
    expect_error "--help to /dev/full" "(stdout): No space left on device" sh -c "'$BIN' --help >/dev/full"
    check "-t writes nothing: /dev/full is no error" sh -c "'$BIN' -t k.nnz.ref >/dev/full"
    # -f -o onto a FIFO or a device: the output would replace it (as root, /dev/null itself)
    mkfifo fifo-out
    expect_error "-f -o a FIFO" "fifo-out: not a regular file: refusing to replace it (use -c to write into it)" \
        "$BIN" -q -f -o fifo-out k.orig
    check "-f -o a FIFO: it is still one" test -p fifo-out
    if mknod null-out c 1 3 2>/dev/null; then
        expect_error "-f -o a device" "null-out: not a regular file: refusing.*" "$BIN" -q -d -f -o null-out k.nnz.ref
        check "-f -o a device: it is still one" test -c null-out
    else say "note: no mknod here (not root): -f -o onto a device is tried on a FIFO only"; fi
    check "-f -o onto a FIFO or a device: no temporary file" test -z "$(temps .)"
    lap "standard output and special files: done"
fi

# ---- a real full disk: a small tmpfs (root only) ------------------------------------------------
if want tmpfs; then
    MNT=$WORK/full
    mkdir "$MNT"
    if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=32k,mode=0777 tmpfs "$MNT" 2>/dev/null; then
        MNT=
        echo "test_faults: SKIP: the tmpfs part needs root and mount -t tmpfs (the injected full disk of test_faults runs without)"
        exit 77
    fi
    free0=$(df --output=avail -B1 "$MNT" | tail -1)
    for what in compress decompress; do
        for named in 0 1; do
            for mode in plain rm force; do
                d=$MNT/d
                rm -rf "$d" && mkdir "$d"
                ln -s "$WORK/$([ $what = compress ] && echo k.orig || echo k.nnz.ref)" "$d/$(in_of $what)"
                [ "$mode" != force ] || cp old.ref "$d/$(out_of $what)"
                (cd "$d" && expect_error "tmpfs full while ${what}ing ($mode, named $named)" \
                    "$(out_of $what): No space left on device" env NNZIP_NO_TMPFILE=$named "$BIN" $(cmd_of $what $mode))
                if [ "$mode" = force ]; then check "tmpfs full ($what, -f): the older file kept" cmp -s "$d/$(out_of $what)" old.ref
                else check "tmpfs full ($what): nothing under the output's name" test ! -e "$d/$(out_of $what)"; fi
                check "tmpfs full ($what): no temporary file" test -z "$(temps "$d")"
                check "tmpfs full ($what, $mode): the input kept" test -e "$d/$(in_of $what)"
                rm -rf "$d"
                check "tmpfs full ($what): all its space free again" test "$(df --output=avail -B1 "$MNT" | tail -1)" -ge "$free0"
            done
        done
    done
    # no inode left: the temporary file cannot even be made, before any work
    umount "$MNT" && mount -t tmpfs -o size=1m,nr_inodes=1 tmpfs "$MNT"
    for named in 0 1; do
        (cd "$MNT" && expect_error "tmpfs without a free inode (named $named)" "k.nnz: No space left on device" \
            env NNZIP_NO_TMPFILE=$named "$BIN" ${ARGS[*]} -o k.nnz "$WORK/k.orig")
        check "tmpfs without a free inode: nothing left" test -z "$(ls -A "$MNT")"
    done
    say "a 32 KiB tmpfs: compress and decompress (unnamed and named temporary files; plain, --rm,"
    say "  -f) into it, and a tmpfs without a free inode: one line, nothing left, its space free again"
fi

# ---- the decoder on foreign files of at most 1 kB ----------------------------------------------
# Freshly made small files of every kind (models, blocks, members, stored, float; cm with small
# tables so most decode quickly, one hybrid -9 that asks for the most memory the default limit
# admits), the golden files, every bad file and the fuzz corpus, cut, flipped and with forged
# fields (fault_cases.py). Each decode runs under the default limits; fault_run checks exit 0 or
# 1 with one line, never a signal, within the time limit, under an address-space cap of the
# default --memlimit plus 512 MiB (the code, stacks, and a block's buffers), peak resident memory
# under the limit plus 64 MiB.
if want small; then
    mkdir bases && cd bases || exit 1
    head -c 2000 "$WORK/k.orig" >t2k && head -c 1000 t2k >t1k && head -c 600 t2k >t600
    head -c 600 /dev/zero | tr '\0' 'x' >x600
    small=(--set cm_hash=12 --set cm_match=8 --set cm_history=12)
    "$BIN" -q -m order2 --block-size=512 -c t2k >order2-blocks.nnz
    "$BIN" -q -m order2 --member-size=700 -c t2k >order2-members.nnz
    "$BIN" -q -m cm -1 "${small[@]}" -c t2k >cm1.nnz
    "$BIN" -q -m cm -5 "${small[@]}" --block-size=700 -c t2k >cm5-blocks.nnz
    "$BIN" -q "${small[@]}" -c t1k >hybrid.nnz
    "$BIN" -q -m transformer -1 "${small[@]}" -c t1k >cm-transformer.nnz
    "$BIN" -q -m hybrid -9 -c t600 >hybrid9.nnz
    "$BIN" -q -m cm -1 "${small[@]}" -c x600 >cm-constant.nnz
    "$BIN" -q -m stored -c t600 >stored.nnz
    python3 -c 'import struct, math, sys; sys.stdout.buffer.write(b"".join(struct.pack("<f", math.sin(i / 7)) for i in range(240)))' >f.f32
    "$BIN" -q --float32 -c f.f32 >float.nnz
    "$BIN" -q --max-error=2^-8 -c f.f32 >float-lossy.nnz
    cd "$WORK" || exit 1
    fraction=0.3 t_limit=20
    [ -z "$SAN" ] || fraction=0.06 t_limit=120
    light=light: # hybrid -9 opens a 751 MiB model: a tenth of its cases, but all in the slow run
    [ "$PART" != full ] || fraction=1 light=
    python3 "$HERE/fault_cases.py" cases "$SEED" $fraction $(ls bases/*.nnz | grep -v hybrid9) \
        ${light}bases/hybrid9.nnz "$DATA"/good-*.nnz -- "$DATA"/bad-*.nnz "$CORPUS"/*
    mem_mib=$("$BIN" --help | sed -n 's/.*most any level needs, \([0-9]*\) MiB.*/\1/p')
    [ -n "$mem_mib" ] || bad "nnzip --help gives no default memory limit"
    limits=(-t $t_limit)
    [ -n "$SAN" ] || limits+=(-a $((mem_mib + 512)) -r $((mem_mib + 64)))
    t0=$(ms)
    "$RUN" "${limits[@]}" "$BIN" cases/* >run.txt
    rc=$?
    check "the decoder on $(ls cases | wc -l) files of at most 1 kB: exit 0 or 1 with one line, in time and memory" test $rc -eq 0
    sed 's/^/test_faults: /' run.txt
    say "  ($(( ($(ms) - t0) / 1000 )) s; limits: ${limits[*]}; default --memlimit $mem_mib MiB)"
fi

echo "test_faults: $pass passed, $fail failed (seed $SEED; $((($(ms) - T0) / 1000)) s)"
[ $fail -eq 0 ]
