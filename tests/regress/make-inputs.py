#!/usr/bin/env python3
"""Make the fixed inputs of the regression table (run once; the outputs are committed).

Never rerun this to make a check pass: the table's sizes and hashes belong to these exact bytes.
The inputs are small on purpose, so the table (every model at every level) checks in seconds
in Release and stays affordable at gcc -O0 and under qemu-aarch64 (README.md).

  text.txt   2048 bytes of prose: this repository's documentation, cut from the golden
             tests/data/good-xt.txt at its line 132 (which never changes)
  bin.bin    1024 bytes of binary records (counters, a random walk, flags, names, floats)
  wave.f32   512 little-endian float32 values: smooth waves, noise, and the special values
Everything random comes from one 64-bit LCG written out here, not from Python's random, so the
generator itself means the same thing on any Python."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "inputs")


class Lcg:
    """Knuth's MMIX LCG; next() gives the high 32 bits."""

    def __init__(self, seed):
        self.s = seed & (2**64 - 1)

    def next(self):
        self.s = (self.s * 6364136223846793005 + 1442695040888963407) & (2**64 - 1)
        return self.s >> 32

    def below(self, n):
        return self.next() % n


def text():
    src = open(os.path.join(HERE, "..", "data", "good-xt.txt"), "rb").read()
    start = 0
    for _ in range(131):  # the start of line 132
        start = src.index(b"\n", start) + 1
    return src[start : start + 2048]


def binary():
    r = Lcg(20261202)
    names = [b"alpha", b"beta", b"gamma", b"delta", b"eps"]
    out = bytearray(b"NNZREG\x00\x01" + struct.pack("<II", 1024, 0x5eed))  # 16-byte header
    rec, ts, walk = 1000, 1700000000, 0
    while len(out) + 24 <= 1024:
        rec += 1 + r.below(3)
        ts += 60 + r.below(5)
        walk += r.below(201) - 100
        flags = (1, 3, 8, 0x8001)[r.below(4)]
        name = names[r.below(len(names))].ljust(8, b"\x00")
        value = walk / 16.0 + r.below(1000) / 1024.0
        out += struct.pack("<IIhH8sf", rec, ts, walk, flags, name, value)
    out += bytes(r.below(256) for _ in range(1024 - len(out)))  # a ragged tail of noise
    return bytes(out)


def wave():
    r = Lcg(20261203)
    vals = []
    x = 0.0
    for i in range(512):
        # a triangle wave and a slow drift, in float arithmetic Python does exactly
        tri = (i % 64) / 32.0 - 1.0 if (i // 64) % 2 == 0 else 1.0 - (i % 64) / 32.0
        x += (r.below(2001) - 1000) / 65536.0
        vals.append(tri * (1 + (i // 128)) + x)
    special = [float("nan"), float("inf"), float("-inf"), -0.0, 0.0, 1e-40, 3.0e38, 65504.0]
    for k, v in enumerate(special):
        vals[37 + 61 * k] = v
    return b"".join(struct.pack("<f", v) for v in vals)


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in (("text.txt", text()), ("bin.bin", binary()), ("wave.f32", wave())):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        print(name, len(data))


if __name__ == "__main__":
    main()
