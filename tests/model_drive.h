/* Driving a model as the codec does, for the model tests (test_lstm, test_transformer): by
 * segment as the encoder or step by step as the decoder, recording every step's weights; and
 * the checks every neural model must pass: encoder = decoder bits on every ISA and thread
 * count, learning on easy text, every preset round-tripping small inputs. */
#ifndef NNZIP_TESTS_MODEL_DRIVE_H
#define NNZIP_TESTS_MODEL_DRIVE_H

#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "harness.h"
#include "model.h"

static uint64_t rng = 0x157A;

/* Text-like bytes: a few words in random order. */
static void make_text(uint8_t *buf, size_t n)
{
    static const char *const words[] = { "the ", "cat ", "sat ", "on ", "a ", "mat. ", "\n" };
    for (size_t i = 0; i < n;) {
        const char *w = words[test_rand64(&rng) % 7];
        for (; *w && i < n; w++) buf[i++] = (uint8_t)*w;
    }
}

/* Drive the model as the codec does (stripes of L = ceil(n/S), a shrinking prefix of active
 * streams), by segment (encoder) or step by step (decoder); store every step's weights of the
 * active streams in out (n floats * symbols, in stripe order). */
static void drive(const model_config *c, const uint8_t *src, size_t n, int by_segment, int threads,
                  float *out)
{
    model_env env = { .threads = threads };
    model *m = NULL;
    REQUIRE(model_open(&m, c, &env) == NC_OK);
    size_t S = m->n_streams, V = m->n_symbols, T = m->segment, L = (n + S - 1) / S;
    float *w = malloc(T * S * V * sizeof *w);
    uint16_t *seg = calloc(T * S, sizeof *seg), sym[16];
    uint32_t act[64];
    REQUIRE(w && seg && S <= 16 && T <= 64);
    for (size_t t = 0; t < L; t++) {
        size_t a = (n - t + L - 1) / L;
        a = a < S ? a : S;
        const float *wt = w;
        if (by_segment) {
            if (t % T == 0) {
                size_t steps = L - t < T ? L - t : T;
                for (size_t j = 0; j < steps; j++) {
                    act[j] = (uint32_t)((n - (t + j) + L - 1) / L < S ? (n - (t + j) + L - 1) / L : S);
                    for (size_t s = 0; s < S; s++)
                        seg[j * S + s] = s < act[j] ? src[s * L + t + j] : 0;
                }
                CHECK(m->ops->predict_segment(m, w, seg, act, (uint32_t)steps) == NC_OK);
            }
            wt = w + (t % T) * S * V;
        } else {
            CHECK(m->ops->predict(m, w, (uint32_t)a) == NC_OK);
        }
        for (size_t s = 0; s < a; s++) {
            memcpy(out + (s * L + t) * V, wt + s * V, V * sizeof *out);
            sym[s] = src[s * L + t];
        }
        CHECK(m->ops->update(m, sym, (uint32_t)a) == NC_OK);
    }
    free(w);
    free(seg);
    model_close(m);
}


/* 118 bytes over 3 streams: L = 40 = 8 segments of 5, the last stream ends inside the last
 * (trained) segment; 101 bytes: L = 34, a partial last segment. */
static void check_identity(void (*config)(model_config *c, uint32_t variant), uint32_t variants)
{
    static const size_t sizes[] = { 118, 101, 4 };
    nc_isa saved = nc_isa_active();
    for (uint32_t gn = 0; gn < variants; gn++)
        for (size_t k = gn == 1; k < sizeof sizes / sizeof sizes[0]; k++) {
            model_config c;
            config(&c, gn);
            size_t n = sizes[k], bytes = n * 256 * sizeof(float);
            uint8_t src[128];
            make_text(src, n);
            float *ref = malloc(bytes), *got = malloc(bytes);
            REQUIRE(ref && got);
            REQUIRE(nc_isa_select(NC_ISA_REF) == NC_OK);
            drive(&c, src, n, 1, 1, ref);
            for (int isa = 0; isa < NC_ISA_COUNT; isa++) {
                if (!nc_isa_supported((nc_isa)isa))
                    continue;
                REQUIRE(nc_isa_select((nc_isa)isa) == NC_OK);
                for (int threads = 1; threads <= 3; threads++)
                    for (int by_seg = 0; by_seg < 2; by_seg++) {
                        memset(got, 0xff, bytes);
                        drive(&c, src, n, by_seg, threads, got);
                        CHECK_MSG(memcmp(ref, got, bytes) == 0,
                                  "n=%zu variant %u isa %s, %d threads, %s: weights differ", n,
                                  gn, nc_isa_name((nc_isa)isa), threads,
                                  by_seg ? "per segment" : "per timestep");
                    }
            }
            free(ref);
            free(got);
        }
    REQUIRE(nc_isa_select(saved) == NC_OK);
}

/* Training works: on text made of a few words (c: 3 streams, no count mixer), the second half
 * costs far fewer bits. */
static void check_learns(const model_config *cfg)
{
    model_config c = *cfg;
    size_t n = 3000;
    uint8_t *src = malloc(n);
    float *w = malloc(n * 256 * sizeof *w);
    REQUIRE(src && w);
    make_text(src, n);
    drive(&c, src, n, 1, 1, w);
    size_t L = n / 3;
    double bits[2] = { 0, 0 };
    for (size_t s = 0; s < 3; s++)
        for (size_t t = 0; t < L; t++) {
            const float *p = w + (s * L + t) * 256;
            double sum = 0;
            for (int j = 0; j < 256; j++) sum += p[j];
            bits[t >= L / 2] += -__builtin_log2(p[src[s * L + t]] / sum);
        }
    printf("bits per byte: first half %.3f, second half %.3f\n", bits[0] / (n / 2.0),
           bits[1] / (n / 2.0));
    CHECK(bits[0] / (n / 2.0) < 7.0);      /* it learns during the first half */
    CHECK(bits[1] / (n / 2.0) < 2.5);      /* 7 words: about 2.8 bits a word, under 1 a byte */
    free(src);
    free(w);
}

/* Every preset: compress and decompress, sizes around the stripe and segment edges. */
static void check_presets(const char *name)
{
    static const size_t sizes[] = { 0, 1, 2, 7, 8, 9, 127, 128, 129, 600 };
    /* (600 bytes are too few to learn much: test_learns checks learning) */
    uint8_t src[600];
    make_text(src, sizeof src);
    codec_opts o = { .env = { .threads = 1 } };
    for (int level = 1; level <= 9; level++)
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            model_config c = { 0 };
            REQUIRE(model_find_name(name)->preset(&c, level) == NC_OK);
            c.level = (uint8_t)level;
            uint8_t *z = NULL, *z2 = NULL, *back = NULL;
            size_t zl = 0, zl2 = 0;
            uint64_t bl = 0;
            CHECK(codec_compress(&z, &zl, src, sizes[k], &c, &o) == NC_OK);
            CHECK(codec_compress(&z2, &zl2, src, sizes[k], &c, &o) == NC_OK);
            CHECK(zl == zl2 && z && z2 && memcmp(z, z2, zl) == 0);
            CHECK(codec_decompress(&back, &bl, z, zl, &o) == NC_OK);
            CHECK_MSG(bl == sizes[k] && (bl == 0 || memcmp(back, src, bl) == 0),
                      "%s level %d, %zu bytes: round trip differs", name, level, sizes[k]);
            free(z);
            free(z2);
            free(back);
        }
}

#endif
