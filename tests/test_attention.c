/* Attention kernels (nc_attn_fwd, nc_attn_bwd_p, nc_attn_bwd_qkv): every SIMD variant gives the
 * reference's bits (memcmp) over random odd shapes (window, dk, dv across the 16-lane blocks and
 * tails), unaligned buffers, signed zeros and wide magnitudes, with and without accumulation;
 * the reference equals a naive copy of the documented order (docs/determinism.md "Attention"),
 * and orders that differ (no fma in the dot, the scale folded into q, the bias added before the
 * scale) give other bits for some input, so the check can fail. */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "nc/nc.h"

static uint64_t rng = 0xA77E0001;

static float frand(void) /* [-1, 1), with some signed zeros and tiny values mixed in */
{
    uint32_t r = test_rand_below(&rng, 64);
    if (r == 0)
        return 0.0f;
    if (r == 1)
        return -0.0f;
    float x = (float)((int32_t)(test_rand64(&rng) >> 40) - (1 << 23)) * 0x1p-23f;
    return r == 2 ? x * 0x1p-100f : x;
}

/* An unaligned buffer (test_fbuf), random or zero. */
static float *fbuf(size_t n, int fill)
{
    float *p = test_fbuf(n);
    for (size_t i = 0; i < n && fill; i++) p[i] = frand();
    return p;
}


typedef struct variant {
    const char *name;
    void (*fwd)(float *, float *, float *, const float *, const float *, const float *,
                const float *, float, const nc_attn_dims *, size_t, size_t);
    void (*bwd_p)(float *, float *, const float *, const float *, const float *,
                  const nc_attn_dims *, size_t, size_t);
    void (*bwd_qkv)(float *, float *, float *, const float *, const float *, const float *,
                    const float *, const float *, float, const nc_attn_dims *, size_t, size_t,
                    unsigned);
} variant;

typedef struct bufs {
    float *q, *k, *v, *bias, *dout, *out, *p, *kt, *vt, *ds, *dq, *dk, *dv;
} bufs;

typedef struct sizes {
    size_t nq, nk, nv, nb, no, np;
} sizes;

static sizes sizes_of(const nc_attn_dims *d)
{
    size_t P = d->mem + d->T, W = d->mem + 1, R = d->T * d->S, H = d->heads;
    sizes z = {R * H * d->dk, P * d->S * H * d->dk, P * d->S * H * d->dv, H * W,
               R * H * d->dv, R * H * W};
    return z;
}

/* Runs every unit of one variant: forward, d scores, then dq/dk/dv (acc: start from init). */
static void run_variant(const variant *vt, bufs *o, const bufs *in, const nc_attn_dims *d,
                        float scale, unsigned acc, const bufs *init)
{
    sizes z = sizes_of(d);
    memcpy(o->dq, init->dq, z.nq * sizeof(float));
    memcpy(o->dk, init->dk, z.nk * sizeof(float));
    memcpy(o->dv, init->dv, z.nv * sizeof(float));
    /* units in reverse order: no unit may depend on another having run */
    for (size_t u = d->S * d->heads; u-- > 0;)
        vt->fwd(o->out, o->p, o->kt, in->q, in->k, in->v, in->bias, scale, d, u / d->heads,
                u % d->heads);
    for (size_t u = 0; u < d->S * d->heads; u++)
        vt->bwd_p(o->ds, o->vt, in->dout, o->p, in->v, d, u / d->heads, u % d->heads);
    for (size_t u = 0; u < d->S * d->heads; u++)
        vt->bwd_qkv(o->dq, o->dk, o->dv, o->ds, o->p, in->q, in->k, in->dout, scale, d,
                    u / d->heads, u % d->heads, acc);
}

static void alloc_out(bufs *o, const nc_attn_dims *d)
{
    sizes z = sizes_of(d);
    o->out = fbuf(z.no, 0), o->p = fbuf(z.np, 0), o->kt = fbuf(z.nk, 0), o->vt = fbuf(z.nv, 0);
    o->ds = fbuf(z.np, 0), o->dq = fbuf(z.nq, 0), o->dk = fbuf(z.nk, 0), o->dv = fbuf(z.nv, 0);
}

static void free_out(bufs *o)
{
    test_ffree(o->out), test_ffree(o->p), test_ffree(o->kt), test_ffree(o->vt), test_ffree(o->ds), test_ffree(o->dq), test_ffree(o->dk);
    test_ffree(o->dv);
}

static int same(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof *a) == 0;
}

static const size_t Ss[] = {1, 2, 3}, Ts[] = {1, 2, 5, 9}, Mems[] = {0, 1, 2, 7, 15, 16, 17, 33};
static const size_t Hs[] = {1, 2, 3}, Ds[] = {1, 3, 5, 15, 16, 17, 32, 33};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Fixed shapes: the NNCP-like one, and heads so wide that the SIMD kernels read the rows in
 * place instead of from a contiguous stack copy (more than 4096 floats). */
static const nc_attn_dims fixed[] = {
    {8, 2, 32, 2, 32, 32}, {9, 1, 33, 1, 257, 100}, {5, 2, 7, 1, 31, 700},
    {2, 1, 1, 1, 4100, 17}, {1, 1, 2, 1, 3, 4097},
};

static void check_simd(const variant *ref, const variant *vt, int cases)
{
    int nfixed = (int)COUNT(fixed);
    for (int c = 0; c < cases + nfixed; c++) {
        nc_attn_dims d = {Ts[test_rand_below(&rng, COUNT(Ts))], Ss[test_rand_below(&rng, COUNT(Ss))],
                          Mems[test_rand_below(&rng, COUNT(Mems))],
                          Hs[test_rand_below(&rng, COUNT(Hs))], Ds[test_rand_below(&rng, COUNT(Ds))],
                          Ds[test_rand_below(&rng, COUNT(Ds))]};
        if (c >= cases)
            d = fixed[c - cases];
        float scale = c % 3 == 0 ? 4.0f : 0.3535f; /* large scores too: wide softmax range */
        sizes z = sizes_of(&d);
        bufs in, init, a, b;
        in.q = fbuf(z.nq, 1), in.k = fbuf(z.nk, 1), in.v = fbuf(z.nv, 1), in.bias = fbuf(z.nb, 1);
        in.dout = fbuf(z.no, 1);
        init.dq = fbuf(z.nq, 1), init.dk = fbuf(z.nk, 1), init.dv = fbuf(z.nv, 1);
        alloc_out(&a, &d);
        alloc_out(&b, &d);
        for (unsigned acc = 0; acc < 8; acc += 7) {
            run_variant(ref, &a, &in, &d, scale, acc, &init);
            run_variant(vt, &b, &in, &d, scale, acc, &init);
            int ok = same(a.out, b.out, z.no) && same(a.p, b.p, z.np) &&
                     same(a.kt, b.kt, z.nk) && same(a.vt, b.vt, z.nv) && same(a.ds, b.ds, z.np) &&
                     same(a.dq, b.dq, z.nq) && same(a.dk, b.dk, z.nk) && same(a.dv, b.dv, z.nv);
            CHECK_MSG(ok, "%s: T=%zu S=%zu mem=%zu H=%zu dk=%zu dv=%zu acc=%u differs from ref",
                      vt->name, d.T, d.S, d.mem, d.heads, d.dk, d.dv, acc);
        }
        test_ffree(in.q), test_ffree(in.k), test_ffree(in.v), test_ffree(in.bias), test_ffree(in.dout);
        test_ffree(init.dq), test_ffree(init.dk), test_ffree(init.dv);
        free_out(&a);
        free_out(&b);
    }
}

/* The documented forward, written out naively (mode 0). Modes 1-3 are wrong orders the check must
 * be able to see: 1 dot without fma, 2 the scale applied to q first, 3 the bias added first. */
static void naive_forward(float *out, float *p, const float *q, const float *k, const float *v,
                          const float *bias, float scale, const nc_attn_dims *d, int mode)
{
    size_t S = d->S, H = d->heads, dk = d->dk, dv = d->dv, W = d->mem + 1;
    float *sc = malloc(W * sizeof *sc);
    REQUIRE(sc);
    for (size_t t = 0; t < d->T; t++)
        for (size_t s = 0; s < S; s++)
            for (size_t h = 0; h < H; h++) {
                const float *qr = q + (t * S + s) * H * dk + h * dk;
                for (size_t j = 0; j < W; j++) {
                    const float *kr = k + ((t + j) * S + s) * H * dk + h * dk;
                    float acc = 0.0f;
                    for (size_t e = 0; e < dk; e++) {
                        if (mode == 1) {
                            float m = qr[e] * kr[e];
                            acc = acc + m;
                        } else if (mode == 2) {
                            float qs = qr[e] * scale;
                            acc = fmaf(qs, kr[e], acc);
                        } else {
                            acc = fmaf(qr[e], kr[e], acc);
                        }
                    }
                    if (mode == 2) {
                        sc[j] = acc + bias[h * W + j];
                    } else if (mode == 3) {
                        float x = acc + bias[h * W + j];
                        sc[j] = x * scale;
                    } else {
                        float x = acc * scale;
                        sc[j] = x + bias[h * W + j];
                    }
                }
                float *pr = p + (t * S + s) * H * W + h * W;
                nc_softmax_forward(pr, sc, 1, W); /* the row softmax of nc */
                for (size_t e = 0; e < dv; e++) {
                    float acc = 0.0f;
                    for (size_t j = 0; j < W; j++)
                        acc = fmaf(pr[j], v[((t + j) * S + s) * H * dv + h * dv + e], acc);
                    out[(t * S + s) * H * dv + h * dv + e] = acc;
                }
            }
    free(sc);
}

static void check_order(const variant *ref)
{
    int differs[4] = {0, 0, 0, 0};
    for (int c = 0; c < 40; c++) {
        nc_attn_dims d = {Ts[test_rand_below(&rng, COUNT(Ts))], Ss[test_rand_below(&rng, COUNT(Ss))],
                          Mems[test_rand_below(&rng, COUNT(Mems))],
                          Hs[test_rand_below(&rng, COUNT(Hs))], Ds[test_rand_below(&rng, COUNT(Ds))],
                          Ds[test_rand_below(&rng, COUNT(Ds))]};
        float scale = 0.3535f;
        sizes z = sizes_of(&d);
        bufs in, a;
        in.q = fbuf(z.nq, 1), in.k = fbuf(z.nk, 1), in.v = fbuf(z.nv, 1), in.bias = fbuf(z.nb, 1);
        alloc_out(&a, &d);
        float *out = fbuf(z.no, 0), *p = fbuf(z.np, 0);
        for (size_t u = 0; u < d.S * d.heads; u++)
            ref->fwd(a.out, a.p, a.kt, in.q, in.k, in.v, in.bias, scale, &d, u / d.heads,
                     u % d.heads);
        for (int mode = 0; mode < 4; mode++) {
            naive_forward(out, p, in.q, in.k, in.v, in.bias, scale, &d, mode);
            int eq = same(out, a.out, z.no) && same(p, a.p, z.np);
            if (mode == 0)
                CHECK_MSG(eq, "ref differs from the documented order: T=%zu S=%zu mem=%zu H=%zu "
                              "dk=%zu dv=%zu", d.T, d.S, d.mem, d.heads, d.dk, d.dv);
            else
                differs[mode] += !eq;
        }
        test_ffree(in.q), test_ffree(in.k), test_ffree(in.v), test_ffree(in.bias), test_ffree(out), test_ffree(p);
        free_out(&a);
    }
    for (int mode = 1; mode < 4; mode++)
        CHECK_MSG(differs[mode] > 0, "wrong order %d gives the same bits in every case", mode);
}

int main(void)
{
    const variant ref = {"ref", nc_attn_fwd_ref, nc_attn_bwd_p_ref, nc_attn_bwd_qkv_ref};
    check_order(&ref);
#if defined(__x86_64__) || defined(__i386__)
    const variant avx2 = {"avx2", nc_attn_fwd_avx2, nc_attn_bwd_p_avx2, nc_attn_bwd_qkv_avx2};
    const variant avx512 = {"avx512", nc_attn_fwd_avx512, nc_attn_bwd_p_avx512,
                            nc_attn_bwd_qkv_avx512};
    if (nc_isa_supported(NC_ISA_AVX2)) {
        check_simd(&ref, &avx2, 150);
        printf("avx2: compared with ref\n");
    } else {
        printf("avx2: SKIPPED, this CPU lacks AVX2+FMA\n");
    }
    if (nc_isa_supported(NC_ISA_AVX512)) {
        check_simd(&ref, &avx512, 150);
        printf("avx512: compared with ref\n");
    } else {
        printf("avx512: SKIPPED, this CPU lacks AVX-512F\n");
    }
#endif
    return test_finish("test_attention");
}
