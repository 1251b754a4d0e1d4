#!/usr/bin/env python3
"""Write a deterministic set of foreign .nnz files of at most 1 kB for the decoder's bound.

Usage: fault_cases.py OUTDIR SEED FRACTION BASE... [-- FILE...]
A BASE written light:PATH (a model that is slow to open) gives a tenth of the cases.

FILEs (the fuzz corpus, bad-* files: foreign already) are taken as they are. From each BASE file
(a .nnz file: golden or freshly made; one larger than 1 kB is only cut) come: cuts in its first 64 bytes (the header) and spread over the rest; single bit flips and
bytes set to 00/FF; every header field and parameter set to edge values with the header CRC
resealed (so the value itself is what the decoder meets), parameters dropped, repeated, added;
each block's and end's fields (sizes, kind, CRC, varints not in their shortest form); the payload
replaced by zeros, FF bytes or noise behind a sound header; then concatenations of pairs, and
random bytes with and without the magic. FRACTION (0..1] keeps that share of the cases (seeded),
for the slower sanitizer build. Files are named by a counter, the base and the mutation; equal
contents are written once. The layout is docs/format.md's."""
import hashlib
import os
import random
import struct
import sys
import zlib

LIMIT = 1024
FIXED = 30  # bytes of the header before its parameters
MAGIC = b"\x89NNZ"


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def read_varint(b, i):
    v = shift = 0
    for k in range(10):
        if i + k >= len(b):
            return None, i
        v |= (b[i + k] & 0x7F) << shift
        shift += 7
        if not b[i + k] & 0x80:
            return v, i + k + 1
    return None, i


def header_len(b, at=0):
    if len(b) < at + FIXED:
        return None
    n = at + FIXED + 6 * struct.unpack_from("<H", b, at + 28)[0] + 4
    return n if n <= len(b) else None


def reseal(b, at=0):
    n = header_len(b, at)
    if n is None:
        return bytes(b)
    return bytes(b[: n - 4]) + struct.pack("<I", zlib.crc32(bytes(b[at: n - 4]))) + bytes(b[n:])


def parse(b):
    """Members of b: dicts with the header's span, version and (version 2) each field's span."""
    members, at = [], 0
    while at < len(b) and b[at: at + 4] == MAGIC:
        n = header_len(b, at)
        if n is None:
            break
        m = {"at": at, "hend": n, "version": b[at + 4], "blocks": [], "end": None}
        members.append(m)
        if m["version"] == 1:
            at = n + struct.unpack_from("<Q", b, at + 20)[0]
            continue
        i = n
        while i < len(b):
            start = i
            raw, i2 = read_varint(b, i)
            if raw is None:
                return members
            if raw == 0:
                if i2 + 12 > len(b):
                    return members
                m["end"] = {"at": start, "size": (i2, i2 + 8), "crc": (i2 + 8, i2 + 12)}
                i = i2 + 12
                break
            blk = {"at": start, "raw": (start, i2), "raw_v": raw}
            if i2 >= len(b):
                return members
            blk["kind"] = i2
            kind = b[i2]
            i = i2 + 1
            if kind in (2, 3, 4):
                mod, i3 = read_varint(b, i)
                if mod is None:
                    return members
                blk["mod"], blk["mod_v"] = (i, i3), mod
                i = i3
            pl, i3 = read_varint(b, i)
            if pl is None or i3 + 4 > len(b):
                return members
            blk["plen"], blk["plen_v"] = (i, i3), pl
            blk["crc"] = (i3, i3 + 4)
            blk["payload"] = (i3 + 4, i3 + 4 + pl)
            m["blocks"].append(blk)
            i = i3 + 4 + pl
        at = i
    return members


EDGE32 = [0, 1, 2, 3, 7, 8, 12, 16, 30, 31, 64, 255, 256, 1024, 4096, 16384, 65535, 65536,
          1 << 24, (1 << 28) + 1, 1 << 30, (1 << 31) - 1, 1 << 31, (1 << 32) - 1,
          0x3F800000, 0x7F800000, 0x7FC00000, 0xFF800000, 0x00000001]  # floats: 1, inf, NaN, -inf
EDGE64 = [0, 1, 2, 255, 4096, 1 << 20, 1 << 30, (1 << 32) - 1, 1 << 32, 1 << 40, (1 << 63) - 1,
          1 << 63, (1 << 64) - 1]


def header_cases(b, m, rnd):
    """Header fields and parameters of member m at edge values, the CRC resealed."""
    at, n = m["at"], m["hend"]
    P = struct.unpack_from("<H", b, at + 28)[0]

    def put(off, fmt, v, name):
        c = bytearray(b)
        struct.pack_into(fmt, c, off, v % (1 << 8 * struct.calcsize(fmt)))
        return name, reseal(c, at)

    for v in (0, 1, 2, 3, 99, 255):
        yield put(at + 4, "<B", v, "version%d" % v)
    for v in (0, 1, 2, 3, 4, 5, 6, 200, 255):
        yield put(at + 5, "<B", v, "model%d" % v)
    for v in (0, 10, 255):
        yield put(at + 6, "<B", v, "level%d" % v)
    for v in (1, 128):
        yield put(at + 7, "<B", v, "flags%d" % v)
    orig = struct.unpack_from("<Q", b, at + 8)[0]
    size = struct.unpack_from("<Q", b, at + 20)[0]
    for v in rnd.sample(EDGE64, 5) + [orig + 1, max(orig - 1, 0)]:
        yield put(at + 8, "<Q", v, "orig%d" % v)
    for v in rnd.sample(EDGE64, 5) + [size + 1, max(size - 1, 0)]:
        yield put(at + 20, "<Q", v, "psize%d" % v)
    yield put(at + 16, "<I", struct.unpack_from("<I", b, at + 16)[0] ^ 1, "origcrc")
    for v in (0, P - 1, P + 1, 64, 65, 65535):
        if v >= 0:
            yield put(at + 28, "<H", v, "P%d" % v)
    for k in range(P):  # each parameter: edge values, a neighbour, another key
        off = at + FIXED + 6 * k
        key, val = struct.unpack_from("<HI", b, off)
        for v in rnd.sample(EDGE32, 3) + [val + rnd.choice((-1, 1)) if val else 1]:
            yield put(off + 2, "<I", v, "key%d=%d" % (key, v))
        kk = rnd.choice((0, max(key - 1, 0), key + 1, 127, 128, 65535))
        yield put(off, "<H", kk, "key%dto%d" % (key, kk))
    for k in sorted(rnd.sample(range(P), min(P, 2))):  # a parameter dropped, and repeated
        off = at + FIXED + 6 * k
        key = struct.unpack_from("<H", b, off)[0]
        c = bytearray(b[:off] + b[off + 6:])
        struct.pack_into("<H", c, at + 28, P - 1)
        yield "drop%d" % key, reseal(c, at)
        c = bytearray(b[:off + 6] + b[off: off + 6] + b[off + 6:])
        struct.pack_into("<H", c, at + 28, P + 1)
        yield "dup%d" % key, reseal(c, at)
    for key in (100, 127, 128, 300):  # an unknown key added at the end (keys stay increasing)
        c = bytearray(b[:n - 4] + struct.pack("<HI", key, 1) + b[n - 4:])
        struct.pack_into("<H", c, at + 28, P + 1)
        yield "add%d" % key, reseal(c, at)
    yield "hcrc", bytes(b[:n - 1]) + bytes([b[n - 1] ^ 0x80]) + bytes(b[n:])


def splice(b, span, new):
    return bytes(b[:span[0]]) + new + bytes(b[span[1]:])


def block_cases(b, m, rnd):
    for bi, blk in enumerate(m["blocks"][:2]):
        raw = blk["raw_v"]
        for v in [0, raw - 1, raw + 1] + rnd.sample([1, raw * 2, 1 << 17, 1 << 30, (1 << 30) + 1,
                                                      1 << 63, (1 << 64) - 1], 3):
            yield "b%draw%d" % (bi, v), splice(b, blk["raw"], varint(v))
        longer = bytearray(varint(raw))  # the same value, one byte too long
        longer[-1] |= 0x80
        yield "b%drawlong" % bi, splice(b, blk["raw"], bytes(longer) + b"\x00")
        for v in (0, 1, 2, 3, 4, 5, 255):
            yield "b%dkind%d" % (bi, v), splice(b, (blk["kind"], blk["kind"] + 1), bytes([v]))
        if "mod" in blk:
            mv = blk["mod_v"]
            for v in (0, 1, mv - 1, mv + 1, mv * 30, (1 << 40)):
                yield "b%dmod%d" % (bi, v), splice(b, blk["mod"], varint(max(v, 0)))
        pl = blk["plen_v"]
        for v in [pl - 1, pl + 1] + rnd.sample([0, 1, 3, 4, raw, 1 << 40], 2):
            if v >= 0:
                yield "b%dplen%d" % (bi, v), splice(b, blk["plen"], varint(v))
        c = bytearray(b)
        c[blk["crc"][0]] ^= 4
        yield "b%dcrc" % bi, bytes(c)
        p0, p1 = blk["payload"]
        if p1 > p0 and p1 <= len(b):
            n = p1 - p0
            yield "b%dzeros" % bi, splice(b, (p0, p1), bytes(n))
            yield "b%dff" % bi, splice(b, (p0, p1), b"\xff" * n)
            yield "b%dnoise" % bi, splice(b, (p0, p1), bytes(rnd.getrandbits(8) for _ in range(n)))
            yield "b%dcut1" % bi, splice(b, (p1 - 1, p1), b"")
    e = m["end"]
    if e:
        size = struct.unpack_from("<Q", b, e["size"][0])[0]
        for v in (0, (size + 1) % (1 << 64), max(size - 1, 0), (1 << 64) - 1):
            yield "endsize%d" % v, splice(b, e["size"], struct.pack("<Q", v))
        c = bytearray(b)
        c[e["crc"][0]] ^= 1
        yield "endcrc", bytes(c)
        yield "endlong", splice(b, (e["at"], e["at"] + 1), b"\x80\x00")


def v1_cases(b, m, rnd):
    """A version 1 member: its payload replaced behind the sound header."""
    n, end = m["hend"], m["hend"] + struct.unpack_from("<Q", b, m["at"] + 20)[0]
    if end <= len(b) and end > n:
        k = end - n
        yield "v1zeros", splice(b, (n, end), bytes(k))
        yield "v1ff", splice(b, (n, end), b"\xff" * k)
        yield "v1noise", splice(b, (n, end), bytes(rnd.getrandbits(8) for _ in range(k)))


def cases_of(name, b, rnd, light):
    if light:  # an expensive base (a large model to open): a tenth of its cases
        for case, c in cases_of(name, b, rnd, False):
            if rnd.random() < 0.1:
                yield case, c
        return
    L = len(b)
    if L > LIMIT:  # only its cuts are small enough: the header's and a few more
        for k in list(range(0, 64, 9)) + list(range(64, LIMIT + 1, 240)):
            yield "cut%d" % k, b[:k]
        return
    cuts = set(range(0, min(L, 64), 3)) | set(range(64, L, 41)) | set(range(max(L - 3, 0), L))
    for k in sorted(cuts):
        yield "cut%d" % k, b[:k]
    for pos in sorted(set(rnd.randrange(L) for _ in range(min(L, 30)))) if L else []:
        c = bytearray(b)
        c[pos] ^= 1 << rnd.randrange(8)
        yield "flip%d" % pos, bytes(c)
    for pos in sorted(set(rnd.randrange(L) for _ in range(min(L, 8)))) if L else []:
        for v in (0, 0xFF):
            c = bytearray(b)
            c[pos] = v
            yield "set%d=%d" % (pos, v), bytes(c)
    for mi, m in enumerate(parse(b)[:2]):
        for case, c in header_cases(b, m, rnd):
            yield "m%d-%s" % (mi, case), c
        gen = v1_cases if m["version"] == 1 else block_cases
        for case, c in gen(b, m, rnd):
            yield "m%d-%s" % (mi, case), c


def main():
    out, seed, fraction, args = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]
    bases = args[:args.index("--")] if "--" in args else args
    as_is = args[args.index("--") + 1:] if "--" in args else []
    rnd = random.Random(seed)
    keep = random.Random(seed + 1)
    os.makedirs(out, exist_ok=True)
    seen, count = set(), [0]

    def emit(base, case, data):
        if len(data) > LIMIT or keep.random() >= fraction:
            return
        h = hashlib.sha1(data).digest()
        if h in seen:
            return
        seen.add(h)
        count[0] += 1
        safe = "".join(ch if ch.isalnum() or ch in "-=." else "_" for ch in case)
        with open(os.path.join(out, "%05d-%s-%s" % (count[0], base, safe)), "wb") as f:
            f.write(data)

    small = []
    for path in bases:
        light = path.startswith("light:")
        path = path[6:] if light else path
        data = open(path, "rb").read()
        base = os.path.basename(path).replace(".nnz", "")[:24]
        if len(data) <= LIMIT:
            small.append((base, data))
        for case, c in cases_of(base, data, rnd, light):
            emit(base, case, c)
    for path in as_is:  # already foreign (the fuzz corpus, bad-* files): as they are
        data = open(path, "rb").read()
        base = os.path.basename(path).replace(".nnz", "")[:24]
        emit(base, "as-is", data)
        if len(data) <= LIMIT:
            small.append((base, data))
    # members one after the other (a file of members is their concatenation), and junk after
    for i in range(60):
        (a, x), (b, y) = rnd.choice(small), rnd.choice(small)
        emit(a, "cat-" + b, x + y)
    for base, x in rnd.sample(small, min(len(small), 12)):
        emit(base, "junk0", x + b"\x00")
        emit(base, "magic", x + MAGIC)
        emit(base, "twice-cut", x + x[: len(x) // 2])
    # foreign bytes: noise, noise behind the magic, text
    for i in range(30):
        n = rnd.choice([0, 1, 3, 4, 5, 29, 30, 33, 34, 64, 200, 512, 1000, 1024])
        noise = bytes(rnd.getrandbits(8) for _ in range(n))
        emit("noise", "%d-%d" % (i, n), noise)
        emit("noise", "magic%d-%d" % (i, n), (MAGIC + noise)[:LIMIT])
        emit("noise", "v%d-%d" % (i, n), (MAGIC + bytes([rnd.choice([1, 2])]) + noise)[:LIMIT])
    emit("text", "ascii", b"The quick brown fox jumps over the lazy dog.\n" * 20)
    print("fault_cases: %d files of at most %d bytes" % (count[0], LIMIT))


main()
