/* Fuzz target for the container's parsers alone, with no model ever created: the member
 * header of both versions (fmt_header_read), its parameter list as a model config and back,
 * each model's check() and memory bound on it, version 1 members (codec_inspect), and the
 * block heads and member ends of version 2 (blk_read) -- then the whole input through the
 * scanner behind nnz_decoded_size. Cheap enough per input (microseconds) for millions of runs.
 *
 * What must hold, besides no crash, hang, leak or out-of-bounds access:
 *   - one value, one encoding: a header, block head or member end that parses is written back
 *     byte for byte by its writer (fmt_header_write, blk_head_write, blk_end_write); in a fuzz
 *     build the header CRC is not checked on reading, so there its 4 bytes are left out;
 *   - a config read from a header gives the same parameter list back (codec_config_to_header);
 *   - the scanner and this target's own walk agree: when nnz_decoded_size accepts the input,
 *     the walk found whole members end to end whose ends add up to the size it gives.
 *
 * Built like fuzz_decode.c: a libFuzzer target with -DNNZIP_FUZZ=ON, else a replayer of the files
 * named on the command line (tests/fuzz/corpus-header and corpus/ under ctest). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "member.h"
#include "nnzip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define HEADER_CRC_CHECKED 0
#else
#define HEADER_CRC_CHECKED 1
#endif

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_header: %s\n", what);
    abort();
}

/* The header at in parsed as h (hl bytes): its writer must give the same bytes, and its config
 * the same parameters. *cfg_ok: the config was read. */
static void header_round_trip(const fmt_header *h, size_t hl, const uint8_t *in, model_config *c,
                              int *cfg_ok)
{
    uint8_t w[FMT_HEADER_MAX];
    if (hl > FMT_HEADER_MAX || fmt_header_size(h) != hl || fmt_header_write(w, h) != hl)
        fail("header size");
    if (memcmp(w, in, HEADER_CRC_CHECKED ? hl : hl - 4) != 0)
        fail("a header that parses is not written back the same");
    *cfg_ok = codec_header_to_config(c, h) == NC_OK;
    if (!*cfg_ok)
        return;
    fmt_header back = { .version = h->version };
    codec_config_to_header(&back, c);
    if (back.model_id != h->model_id || back.level != h->level || back.n_params != h->n_params
        || memcmp(back.params, h->params, h->n_params * sizeof h->params[0]) != 0)
        fail("config and parameter list differ");
}

/* The blocks of a version 2 member from in (len bytes): the bytes it takes up to and with its
 * end, and its original size in *total; 0 if it is not whole (or a head is wrong). */
static size_t walk_blocks(const uint8_t *in, size_t len, uint64_t block, uint64_t *total)
{
    size_t pos = 0;
    for (;;) {
        blk_head b;
        size_t used = 0;
        uint32_t crc = 0;
        uint8_t w[BLK_HEAD_MAX];
        if (blk_read(&b, &used, total, &crc, in + pos, len - pos, block) != NC_OK)
            return 0;
        if (used > len - pos)
            fail("blk_read took more than it had");
        if (b.raw_len == 0) {
            if (blk_end_write(w, *total, crc) != used || memcmp(w, in + pos, used) != 0)
                fail("a member end is not written back the same");
            return pos + used;
        }
        if (b.raw_len > block || blk_head_write(w, &b) != used || memcmp(w, in + pos, used) != 0)
            fail("a block head is not written back the same");
        pos += used;
        if (b.payload_len > len - pos)
            return 0;
        pos += (size_t)b.payload_len;
    }
}

/* One member at in: its size in the input (0 if it is not whole) and original size. */
static size_t walk_member(const uint8_t *in, size_t len, uint64_t *orig)
{
    fmt_header h;
    size_t hl;
    model_config c;
    int cfg_ok;
    if (fmt_header_read(&h, &hl, in, len) != NC_OK)
        return 0;
    if (hl > len)
        fail("header longer than the input");
    header_round_trip(&h, hl, in, &c, &cfg_ok);
    if (!cfg_ok)
        return 0;
    if (h.version == FMT_VERSION) {
        if (h.payload_size > len - hl)
            return 0;
        size_t n = hl + (size_t)h.payload_size;
        fmt_header h1;
        model_config c1;
        if (codec_inspect(&h1, &c1, in, n) != NC_OK)
            return 0;
        (void)codec_modelled_size(&h1, &c1);
        (void)codec_model_memory(&c1);
        *orig = h.orig_size;
        return n;
    }
    uint32_t block;
    if (model_config_get(&c, MP_BLOCK, &block) != NC_OK || block == 0 || block > BLK_SIZE_MAX)
        return 0;
    model_config_unset(&c, MP_BLOCK);
    if (h.model_id != MODEL_STORED) {
        const model_ops *ops = model_find_id(h.model_id);
        if (!ops || ops->check(&c) != NC_OK)
            return 0;
        (void)codec_model_memory(&c); /* a bound: computed, never allocated here */
        (void)codec_block_max_symbols(&c, len);
    }
    size_t n = walk_blocks(in + hl, len - hl, block, orig);
    return n ? hl + n : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pos = 0;
    uint64_t sum = 0;
    int whole = size > 0;
    while (pos < size) {
        uint64_t orig = 0;
        size_t n = walk_member(data + pos, size - pos, &orig);
        if (n == 0) {
            whole = 0;
            break;
        }
        pos += n;
        sum = sum + orig < sum ? UINT64_MAX : sum + orig;
    }
    uint64_t decoded = 0;
    if (nnz_decoded_size(&decoded, data, size) == NNZ_OK && (!whole || decoded != sum))
        fail("nnz_decoded_size accepts what the walk does not, or gives another size");
    return 0;
}

#ifndef NNZIP_LIBFUZZER
#include "replay.h"

int main(int argc, char **argv)
{
    return fuzz_replay("fuzz_header", argc, argv);
}
#endif
