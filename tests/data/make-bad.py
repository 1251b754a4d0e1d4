#!/usr/bin/env python3
"""Make the bad-*.nnz files from the good ones (run once; the outputs are committed).

Each bad file has one defect, and the decoder must report it with the message listed in
README.md. Header CRCs are recomputed where the defect is meant to pass the header check."""
import struct
import zlib

FIXED = 30  # bytes before the parameter list (docs/format.md)


def header_len(b):
    return FIXED + 6 * struct.unpack_from("<H", b, 28)[0] + 4


def reseal(b):
    """Recompute the header CRC so only the intended defect remains."""
    n = header_len(b)
    return b[: n - 4] + struct.pack("<I", zlib.crc32(bytes(b[: n - 4]))) + b[n:]


good = open("good-order2.txt.nnz", "rb").read()
stored = open("good-stored.bin.nnz", "rb").read()
n = header_len(good)

out = {
    "bad-magic.nnz": b"\x89NNY" + good[4:],
    "bad-truncated-header.nnz": good[: n - 3],
    "bad-truncated-payload.nnz": good[: n + (len(good) - n) // 2],
    "bad-header-crc.nnz": good[:8] + bytes([good[8] ^ 1]) + good[9:],
    "bad-version.nnz": reseal(good[:4] + b"\x02" + good[5:]),
    "bad-model.nnz": reseal(good[:5] + b"\xc8" + good[6:]),
    "bad-param.nnz": reseal(good[:FIXED + 2] + struct.pack("<I", 1000) + good[FIXED + 6:]),
    "bad-huge-size.nnz": reseal(good[:8] + struct.pack("<Q", 1 << 60) + good[16:]),
    "bad-trailing.nnz": good + b"\x00",
    "bad-checksum.nnz": stored[:-1] + bytes([stored[-1] ^ 0x40]),
    "bad-payload.nnz": good[: n + 5] + bytes([good[n + 5] ^ 0x10]) + good[n + 6:],
}


def with_params(b, changes):
    """The file b with some parameter values changed (keys must exist), header resealed."""
    b = bytearray(b)
    for i in range(struct.unpack_from("<H", b, 28)[0]):
        key = struct.unpack_from("<H", b, FIXED + 6 * i)[0]
        if key in changes:
            struct.pack_into("<I", b, FIXED + 6 * i + 2, changes[key])
    return reseal(bytes(b))


# Sound headers whose models would allocate gigabytes: refused by the default memory limit
# before anything is allocated (keys 32 layers, 33 hidden, 47 d_model, 51 d_inner).
out["bad-memory-lstm.nnz"] = with_params(open("good-lstm.txt.nnz", "rb").read(), {32: 4, 33: 2048})
out["bad-memory-transformer.nnz"] = with_params(
    open("good-transformer.txt.nnz", "rb").read(), {32: 8, 47: 1024, 51: 4096})
for name, data in out.items():
    open(name, "wb").write(data)
