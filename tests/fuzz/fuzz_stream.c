/* Fuzz target for the streaming decoder and the members/blocks layer (lib/stream.c,
 * lib/member.c) through the public calls of nnzip.h: the input after its first byte is a .nnz
 * file that goes
 *   - to nnz_decoded_size (the scanner: framing and headers of every member, no decoding);
 *   - to nnz_decompress into a buffer of that size (one push, one pull loop);
 *   - to a decoder stream (nnz_decoder_new), pushed in chunks of sizes the first byte chooses
 *     and pulled into small buffers after every push, then finished and pulled to the end.
 * They must agree: the one-shot call and the stream give the same status, and on NNZ_OK the same
 * bytes, as many as nnz_decoded_size said; a stream never gives more bytes than the one-shot call
 * (output comes only from verified blocks); an input the scanner refuses decodes to an error;
 * after an error a stream repeats it. The decoder's memory limit is small (MEM_LIMIT), so a
 * header that asks for a large model is refused before anything is allocated, and models stay
 * cheap to build (cm with tables of a few MiB at most).
 *
 * Byte 0: bits 0-2 choose the push sizes (CHUNKS below, a pattern that cycles), bits 3-4 the
 * pull buffer (1, 7, 64 or 4096 bytes), bit 5 threads = 2 (which never changes the output),
 * bits 6-7 the pattern's phase.
 *
 * Built like fuzz_decode.c: a libFuzzer target with -DNNZIP_FUZZ=ON, else a replayer of the files
 * named on the command line (tests/fuzz/corpus-stream under ctest). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunking.h"
#include "nnzip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MEM_LIMIT ((uint64_t)48 << 20)
/* Inputs are a few KiB, but a block of highly predictable bytes may claim far more: beyond
 * this the target only checks that the scanner and the decoders do not crash on the way. */
#define OUT_MAX ((size_t)1 << 20)


static void fail(const char *what, int a, int b)
{
    fprintf(stderr, "fuzz_stream: %s (%d, %d)\n", what, a, b);
    abort();
}

typedef struct sink {
    bytes b;
    int over; /* more than OUT_MAX bytes came */
} sink;

/* Pull everything ready, pull_cap bytes at a time. */
static nnz_status drain(nnz_stream *s, sink *o, size_t pull_cap)
{
    uint8_t tmp[4096];
    for (;;) {
        size_t got = 0;
        nnz_status st = nnz_stream_pull(s, tmp, pull_cap, &got);
        if (st != NNZ_OK)
            return st;
        if (got == 0)
            return NNZ_OK;
        if (o->b.len + got > OUT_MAX) {
            o->over = 1;
            return NNZ_OK;
        }
        put(&o->b, tmp, got);
    }
}

static nnz_status stream_decode(const uint8_t *in, size_t n, uint8_t ctl, const nnz_options *o,
                                sink *out)
{
    nnz_stream *s;
    nnz_status st = nnz_decoder_new(&s, o);
    if (st != NNZ_OK)
        fail("nnz_decoder_new", st, 0);
    const size_t *chunk = CHUNKS[ctl & 7];
    size_t pull_cap = PULLS[ctl >> 3 & 3], done = 0;
    unsigned k = ctl >> 6;
    while (st == NNZ_OK && done < n && !out->over) {
        size_t want = chunk[k++ % 4], used = 0;
        want = want < n - done ? want : n - done;
        /* push until the chunk is taken, pulling whenever output waits */
        size_t off = 0;
        int idle = 0; /* pushes in a row that took nothing and gave nothing */
        while (st == NNZ_OK && off < want && !out->over) {
            size_t before = out->b.len;
            st = nnz_stream_push(s, in + done + off, want - off, &used);
            off += used;
            if (st == NNZ_OK)
                st = drain(s, out, pull_cap);
            /* a push may refuse input while output waits, but not twice with none pulled */
            idle = used == 0 && out->b.len == before ? idle + 1 : 0;
            if (idle > 1)
                fail("push makes no progress", 0, 0);
        }
        done += off;
    }
    if (st == NNZ_OK && !out->over) {
        st = nnz_stream_finish(s);
        while (st == NNZ_OK && !nnz_stream_done(s) && !out->over) {
            size_t before = out->b.len;
            st = drain(s, out, pull_cap);
            if (st == NNZ_OK && out->b.len == before && !nnz_stream_done(s) && !out->over)
                fail("finished stream neither done nor giving output", 0, 0);
        }
    }
    if (st != NNZ_OK) { /* sticky */
        size_t used = 1, got = 1;
        uint8_t b;
        nnz_status again = nnz_stream_push(s, &b, 1, &used);
        if (again != st || used != 0)
            fail("push after an error", st, again);
        if ((again = nnz_stream_pull(s, &b, 1, &got)) != st || got != 0)
            fail("pull after an error", st, again);
        if (nnz_stream_done(s))
            fail("done after an error", st, 0);
    } else if (!out->over && nnz_stream_memory(s) > MEM_LIMIT) {
        fail("decoded beyond the memory limit", 0, 0);
    }
    nnz_stream_free(s);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t ctl = data[0];
    const uint8_t *in = data + 1;
    size_t n = size - 1;
    nnz_options o;
    nnz_options_init(&o);
    o.mem_limit = MEM_LIMIT;
    o.threads = ctl & 0x20 ? 2 : 1;

    uint64_t want = 0;
    nnz_status scan = nnz_decoded_size(&want, in, n);
    if (scan == NNZ_OK && want > OUT_MAX)
        return 0; /* too long to decode here: the scan itself was the test */
    size_t cap = scan == NNZ_OK ? (size_t)want : OUT_MAX;
    uint8_t *one = malloc(cap ? cap : 1);
    if (!one)
        abort();
    size_t one_len = 0;
    nnz_status st1 = nnz_decompress(one, cap, &one_len, in, n, &o);

    sink out = { 0 };
    nnz_status st2 = stream_decode(in, n, ctl, &o, &out);

    if (scan != NNZ_OK && (st1 == NNZ_OK || st2 == NNZ_OK))
        fail("decoded what nnz_decoded_size refuses", scan, st1 == NNZ_OK ? st2 : st1);
    if (!out.over) {
        if (scan == NNZ_OK && st1 != st2)
            fail("one-shot and stream give different statuses", st1, st2);
        if (scan != NNZ_OK && (st1 == NNZ_OK) != (st2 == NNZ_OK))
            fail("one-shot and stream disagree", st1, st2);
        if (st1 == NNZ_OK && (one_len != want || out.b.len != one_len
                              || (one_len && memcmp(one, out.b.p, one_len) != 0)))
            fail("one-shot and stream give different bytes", (int)one_len, (int)out.b.len);
        /* what a stream gave before an error is verified output: a prefix of the whole */
        if (st1 != NNZ_OK && scan == NNZ_OK && out.b.len > want)
            fail("stream gave more than the decoded size", (int)out.b.len, (int)want);
    }
    free(out.b.p);
    free(one);
    return 0;
}

#ifndef NNZIP_LIBFUZZER
#include "replay.h"

int main(int argc, char **argv)
{
    return fuzz_replay("fuzz_stream", argc, argv);
}
#endif
