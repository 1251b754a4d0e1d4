/* Round-trip fuzz target: fuzzer-chosen data compressed with a fuzzer-chosen model and small
 * configuration, twice, then decoded two ways. Where the per-timestep proof (the encoder's
 * batched forward of a segment against the decoder's step program, nc_graph_timestep) meets odd
 * shapes -- a network of 1 to 16 cells, segments of 1 to 64 steps, blocks and members that cut
 * segments, streams that end at different steps -- any difference between the two sides shows
 * as a decoding that fails or gives other bytes.
 *
 * What must hold (else abort), besides no crash, hang, leak or out-of-bounds access:
 *   - compressing twice gives the same bytes: once with nnz_compress (one push) and once
 *     through an encoder stream pushed in odd chunks; where nnz_compress fell back to the stored
 *     form (its output would have been larger), it equals a stored encoder stream instead;
 *   - nnz_decompress gives the data back, and nnz_decoded_size its size;
 *   - a decoder stream pushed and pulled in odd chunks gives the data back;
 *   - a refused configuration is refused with NNZ_ERR_ARG (before anything is coded).
 * The older count-mixer networks (lstm-counts, transformer-counts, decode-only in the command
 * line) go through the same checks from a config built here (stream_encoder_cfg), with several
 * streams.
 *
 * The input:
 *   byte 0  the model: MODELS[b % 8];
 *   byte 1  the level, 1 + b % 9;
 *   byte 2  bits 0-2 the block size (BLOCKS[]), bits 3-5 the member size (MEMBERS[], raised
 *           so that there are at most 8 members, each of which opens a model anew), bit 6
 *           no text transform, bit 7 threads = 2 (which never changes the output);
 *   byte 3  the chunking of the streams (push sizes CHUNKS[b & 7], pull sizes PULLS[b >> 3 & 3],
 *           the pattern's phase b >> 6);
 *   byte 4  the number of overrides, b % 8, each then two bytes: a parameter (PARAMS[b % N]; one
 *           the model does not have is skipped) and its value (an entry of its list, or for the
 *           cm masks the byte itself);
 *   the rest: the data (at most a few KiB: see -max_len in tests/fuzz/README.md).
 * Every model starts from its preset with small tables and networks (SMALL[]), so one input
 * takes milliseconds, not seconds; the overrides stay within each model's check() limits, so
 * refusals are rare (a transformer whose workspace bound is exceeded, a schedule check()
 * refuses, a count mixer without its limits).
 *
 * Built like fuzz_decode.c: a libFuzzer target with -DNNZIP_FUZZ=ON, else a replayer of the files
 * named on the command line (tests/fuzz/corpus-roundtrip under ctest). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "config.h"
#include "member.h"
#include "nnzip.h"
#include "stream_int.h"
#include "chunking.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "lstm-counts" and "transformer-counts" are not user models: built from their ops. */
static const char *const MODELS[8] = { "stored", "order2", "cm", "hybrid", "lstm", "transformer",
                                       "lstm-counts", "transformer-counts" };
static const uint64_t BLOCKS[8] = { 0 /* the whole input */, 1, 2, 5, 16, 31, 64, 100 };
static const uint64_t MEMBERS[8] = { 0, 0, 0, 0, 1, 7, 50, 200 };

/* Small tables and networks, set first (where the preset has the key) so every input is
 * cheap; the overrides may then change them. cm's context groups are cut to orders 0-4 and
 * words (a quarter of the mixer inputs) and its APMs to one (the others' tables take longer
 * to set up than a small input to code): the overrides bring back the rest. */
static const struct { const char *name; uint32_t v; } SMALL[] = {
    { "cm_hash", 12 },  { "cm_match", 8 },  { "cm_history", 12 }, { "cm_apm", 1 },
    { "cm_contexts", 9 }, { "layers", 1 },
    { "hidden", 8 },    { "embed", 8 },     { "segment", 8 },     { "d_model", 8 },
    { "heads", 2 },     { "d_key", 4 },     { "d_value", 4 },     { "d_inner", 16 },
    { "memory", 8 },
};

/* The overrides: a parameter and the values it may take (integers, or floats), all within
 * check(). n = 0: 1 + the value byte % v[0] (cm's bit masks, never 0). */
typedef struct param {
    const char *name;
    int is_float;
    unsigned n;
    double v[8];
} param;

static const param PARAMS[] = {
    { "o2_limit", 0, 5, { 2, 3, 17, 60, 250 } },
    { "o1_limit", 0, 5, { 2, 5, 100, 1000, 60000 } },
    { "seed", 0, 4, { 0, 1, 12345, 4294967295.0 } },
    { "layers", 0, 4, { 1, 1, 2, 3 } },
    { "hidden", 0, 7, { 1, 2, 3, 5, 8, 13, 16 } },
    { "embed", 0, 5, { 1, 2, 3, 7, 16 } },
    { "segment", 0, 8, { 1, 2, 3, 5, 8, 17, 32, 64 } },
    { "gate_norm", 0, 2, { 0, 1 } },
    { "lr_steps", 0, 4, { 0, 1, 10, 1000 } },
    { "lr_decay", 0, 2, { 0, 1 } },
    { "bigram", 0, 2, { 0, 1 } },
    { "mix_order", 0, 5, { 0, 2, 3, 4, 6 } },
    { "streams", 0, 4, { 1, 2, 3, 7 } },
    { "d_model", 0, 6, { 1, 2, 4, 6, 8, 12 } },
    { "heads", 0, 4, { 1, 2, 3, 4 } },
    { "d_key", 0, 5, { 1, 2, 3, 5, 8 } },
    { "d_value", 0, 5, { 1, 2, 3, 5, 8 } },
    { "d_inner", 0, 5, { 1, 3, 8, 16, 24 } },
    { "memory", 0, 6, { 0, 1, 2, 5, 8, 31 } },
    { "shift", 0, 2, { 0, 1 } },
    { "lag", 0, 2, { 0, 1 } },
    { "cm_hash", 0, 4, { 12, 13, 14, 15 } },
    { "cm_match", 0, 4, { 8, 9, 10, 12 } },
    { "cm_history", 0, 4, { 12, 13, 14, 16 } },
    { "cm_contexts", 0, 0, { 255 } }, /* 1 ... 0xFF: any set of groups */
    { "cm_mixers", 0, 0, { 63 } },    /* 1 ... 0x3F: with the network's selector (hybrids) */
    { "cm_rate", 0, 5, { 1, 2, 8, 33, 64 } },
    { "cm_apm", 0, 3, { 1, 2, 3 } },
    { "lr", 1, 6, { 1e-4, 1e-3, 5e-3, 3e-2, 0.3, 0.9 } },
    { "lr_end", 1, 6, { 1e-4, 1e-3, 5e-3, 3e-2, 0.3, 0.9 } },
    { "beta2", 1, 4, { 0, 0.9, 0.999, 0.9999 } },
    { "adam_eps", 1, 4, { 1e-8, 1e-6, 1e-3, 0.5 } },
    { "init", 1, 5, { 0, 0.5, 1, 3, 16 } },
    { "mix_rate", 1, 4, { 0, 1e-3, 0.02, 1 } },
    { "clip", 1, 4, { 0, 0.01, 1, 1e6 } },
    { "pos_slope", 1, 4, { 0, 0.1, 1, 64 } },
    { "pos_rate", 1, 5, { 0.015625, 0.5, 1, 4, 64 } },
};
#define N_PARAMS (sizeof PARAMS / sizeof PARAMS[0])
#define MAX_SET (sizeof SMALL / sizeof SMALL[0] + 7)

static void fail(const char *what, const char *mname, int a, int b)
{
    fprintf(stderr, "fuzz_roundtrip: %s (model %s; %d, %d)\n", what, mname, a, b);
    abort();
}

/* Run s (encoder or decoder) over in, pushed in the chunks ctl chooses and pulled likewise. */
static nnz_status run_stream(nnz_stream *s, const uint8_t *in, size_t n, uint8_t ctl, bytes *out)
{
    const size_t *chunk = CHUNKS[ctl & 7];
    size_t pull_cap = PULLS[ctl >> 3 & 3], done = 0;
    unsigned k = ctl >> 6;
    uint8_t tmp[4096];
    nnz_status st = NNZ_OK;
    int finished = 0;
    while (st == NNZ_OK && !nnz_stream_done(s)) {
        size_t used = 0, got = 0;
        if (done < n) {
            size_t want = chunk[k++ % 4];
            want = want < n - done ? want : n - done;
            st = nnz_stream_push(s, in + done, want, &used);
            done += used;
        } else if (!finished) {
            finished = 1;
            st = nnz_stream_finish(s);
        }
        do {
            if (st == NNZ_OK)
                st = nnz_stream_pull(s, tmp, pull_cap, &got);
            if (st == NNZ_OK)
                put(out, tmp, got);
        } while (st == NNZ_OK && got);
        if (st == NNZ_OK && finished && !nnz_stream_done(s) && got == 0)
            return NNZ_ERR_ARG; /* neither done nor giving output: reported by the caller */
    }
    return st;
}

/* The value of p chosen by byte b, as a --set string into buf. */
static void value_of(char *buf, size_t len, const param *p, uint8_t b)
{
    if (p->n == 0) {
        snprintf(buf, len, "%s=%u", p->name, 1u + b % (uint32_t)p->v[0]);
        return;
    }
    double v = p->v[b % p->n];
    if (p->is_float)
        snprintf(buf, len, "%s=%.9g", p->name, v);
    else
        snprintf(buf, len, "%s=%u", p->name, (uint32_t)v);
}

/* Whether cfg (a preset) has the parameter called name. */
static int has_param(const model_config *cfg, const char *name, unsigned *key)
{
    for (unsigned k = 0; k < MP_COUNT; k++) {
        const char *n = model_param_name(k);
        if (n && strcmp(n, name) == 0) {
            *key = k;
            return model_config_has(cfg, k);
        }
    }
    return 0;
}

/* The config of a count-mixer model, as the command line's codec_config_build would make it
 * if it knew the name: the preset, then the overrides, then check(). */
static nc_status counts_config(model_config *cfg, const char *name, int level,
                               char sets[][48], size_t n_set)
{
    const model_ops *ops = model_find_name(name);
    memset(cfg, 0, sizeof *cfg);
    if (!ops || ops->preset(cfg, level) != NC_OK)
        abort();
    cfg->id = ops->id;
    cfg->level = (uint8_t)level;
    for (size_t i = 0; i < n_set; i++) {
        char *eq = strchr(sets[i], '=');
        unsigned k;
        *eq = 0;
        int have = has_param(cfg, sets[i], &k);
        *eq = '=';
        if (!have)
            abort(); /* filtered by the caller */
        if (model_param_is_float(k))
            model_config_setf(cfg, (enum model_param)k, strtof(eq + 1, NULL));
        else
            model_config_set(cfg, (enum model_param)k, (uint32_t)strtoul(eq + 1, NULL, 10));
    }
    return ops->check(cfg) == NC_OK ? NC_OK : NC_ERR_ARG;
}

static void decode_check(const uint8_t *z, size_t zl, const uint8_t *data, size_t n, uint8_t ctl,
                         int threads, const char *mname)
{
    uint64_t size = 0;
    nnz_status st = nnz_decoded_size(&size, z, zl);
    if (st != NNZ_OK || size != n)
        fail("nnz_decoded_size", mname, st, (int)size);
    nnz_options d;
    nnz_options_init(&d);
    d.threads = threads;
    d.mem_limit = 0; /* what the encoder made, whatever --set asked for */
    uint8_t *back = malloc(n ? n : 1);
    size_t bl = 0;
    if (!back)
        abort();
    if ((st = nnz_decompress(back, n, &bl, z, zl, &d)) != NNZ_OK || bl != n
        || (n && memcmp(back, data, n) != 0))
        fail("nnz_decompress does not give the data back", mname, st, (int)bl);
    free(back);
    nnz_stream *s;
    if (nnz_decoder_new(&s, &d) != NNZ_OK)
        abort();
    bytes out = { 0 };
    if ((st = run_stream(s, z, zl, ctl, &out)) != NNZ_OK || out.len != n
        || (n && memcmp(out.p, data, n) != 0))
        fail("the decoder stream does not give the data back", mname, st, (int)out.len);
    nnz_stream_free(s);
    free(out.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    const char *mname = MODELS[data[0] % 8];
    int counts = data[0] % 8 >= 6, level = 1 + data[1] % 9;
    uint8_t box = data[2], ctl = data[3];
    unsigned n_over = data[4] % 8;
    size_t pos = 5;
    if (size < pos + 2 * n_over)
        return 0;

    /* the preset, to know which keys the model has */
    model_config preset;
    char why[160];
    if (counts) {
        memset(&preset, 0, sizeof preset);
        model_find_name(mname)->preset(&preset, level);
    } else if (codec_config_build(&preset, mname, level, NULL, 0, why, sizeof why) != NC_OK) {
        fail("a preset is refused", mname, level, 0);
    }
    char sets[MAX_SET][48];
    const char *set_ptr[MAX_SET];
    size_t n_set = 0;
    unsigned key;
    for (size_t i = 0; i < sizeof SMALL / sizeof SMALL[0]; i++)
        if (has_param(&preset, SMALL[i].name, &key))
            snprintf(sets[n_set++], sizeof sets[0], "%s=%u", SMALL[i].name, SMALL[i].v);
    for (unsigned i = 0; i < n_over; i++, pos += 2) {
        const param *p = &PARAMS[data[pos] % N_PARAMS];
        if (has_param(&preset, p->name, &key))
            value_of(sets[n_set++], sizeof sets[0], p, data[pos + 1]);
    }
    for (size_t i = 0; i < n_set; i++)
        set_ptr[i] = sets[i];
    const uint8_t *in = data + pos;
    size_t n = size - pos;

    nnz_options o;
    nnz_options_init(&o);
    o.model = mname;
    o.level = level;
    o.set = set_ptr;
    o.n_set = n_set;
    o.block_size = BLOCKS[box & 7] ? BLOCKS[box & 7] : n ? n : 1;
    /* at most 8 members: each opens its model anew, which costs more than a small input */
    o.member_size = MEMBERS[box >> 3 & 7];
    if (o.member_size && o.member_size < (n + 7) / 8)
        o.member_size = (n + 7) / 8;
    o.no_transform = box >> 6 & 1;
    o.threads = box & 0x80 ? 2 : 1;

    bytes a = { 0 }, b = { 0 };
    nnz_stream *s = NULL;
    nnz_status st;
    if (counts) {
        model_config cfg;
        if (counts_config(&cfg, mname, level, sets, n_set) != NC_OK)
            return 0; /* refused by check() */
        /* twice: all at once, and in odd chunks */
        if ((st = (nnz_status)stream_encoder_cfg(&s, &cfg, &o)) != NNZ_OK
            || (st = run_stream(s, in, n, 0, &a)) != NNZ_OK)
            fail("compression", mname, st, 0);
        nnz_stream_free(s);
        if ((st = (nnz_status)stream_encoder_cfg(&s, &cfg, &o)) != NNZ_OK
            || (st = run_stream(s, in, n, ctl, &b)) != NNZ_OK)
            fail("compression in chunks", mname, st, 0);
        nnz_stream_free(s);
        if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0)
            fail("two compressions differ", mname, (int)a.len, (int)b.len);
    } else {
        /* nnzip.h: the framing of b blocks and m members (ceil(n / block) + m blocks at
         * most, a member's end cutting one) */
        uint64_t m = o.member_size ? (n + o.member_size - 1) / o.member_size : 1;
        uint64_t blocks = (n + o.block_size - 1) / o.block_size + m;
        size_t cap = (size_t)(n + 431 * (m ? m : 1) + 35 * blocks);
        int one_block = o.block_size >= n && !o.member_size;
        a.p = malloc(cap);
        if (!a.p)
            abort();
        st = nnz_compress(a.p, cap, &a.len, in, n, &o);
        if (st == NNZ_ERR_ARG) {
            /* refused: so must the stream be, and codec_config_build says so too */
            model_config cfg;
            if (nnz_encoder_new(&s, &o) != NNZ_ERR_ARG || s
                || codec_config_build(&cfg, mname, level, set_ptr, n_set, why, sizeof why) == NC_OK)
                fail("a refusal that is not one", mname, 0, 0);
            free(a.p);
            return 0;
        }
        if (st != NNZ_OK)
            fail("nnz_compress", mname, st, (int)cap);
        if (one_block && a.len > nnz_compress_bound(n))
            fail("beyond nnz_compress_bound", mname, (int)a.len, (int)n);
        if ((st = nnz_encoder_new(&s, &o)) != NNZ_OK || (st = run_stream(s, in, n, ctl, &b)) != NNZ_OK)
            fail("compression in chunks", mname, st, 0);
        nnz_stream_free(s);
        if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0) {
            /* nnz_compress stores what its model made larger: then b is larger than the stored
             * member, and a is what a stored encoder writes */
            bytes c = { 0 };
            nnz_options so = o;
            so.model = CODEC_STORED_NAME;
            so.n_set = 0;
            if (o.member_size || b.len <= stream_stored_size(n))
                fail("two compressions differ", mname, (int)a.len, (int)b.len);
            if (nnz_encoder_new(&s, &so) != NNZ_OK || run_stream(s, in, n, ctl, &c) != NNZ_OK)
                fail("stored compression", mname, 0, 0);
            nnz_stream_free(s);
            if (c.len != a.len || memcmp(c.p, a.p, a.len) != 0)
                fail("nnz_compress fell back to something else than stored", mname, (int)a.len,
                     (int)c.len);
            free(c.p);
            decode_check(b.p, b.len, in, n, ctl, o.threads, mname);
        }
    }
    decode_check(a.p, a.len, in, n, ctl, o.threads, mname);
    free(a.p);
    free(b.p);
    return 0;
}

#ifndef NNZIP_LIBFUZZER
#include "replay.h"

int main(int argc, char **argv)
{
    return fuzz_replay("fuzz_roundtrip", argc, argv);
}
#endif
