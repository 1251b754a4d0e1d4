/* nc-attn-bench: time of nc's attention kernels (the ATTENTION op and its backward) at an
 * NNCP-like shape, per ISA path and thread count, printed as a markdown table.
 *
 * One "forward" is nc_attn_fwd over all S*H (stream, head) units; one "backward" is nc_attn_bwd_p
 * then nc_attn_bwd_qkv over all units, as the interpreter runs them (units split over the pool).
 * Best of --reps runs each. The load other processes put on the machine is printed beside.
 *
 * usage: nc-attn-bench [--streams S] [--steps T] [--mem M] [--heads H] [--dk D] [--dv D]
 *                      [--reps N] [--wait-idle SECONDS]
 * Defaults: S = 16, T = 32, mem = 32, H = 8, dk = dv = 32, reps = 20 (ref: 2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_clock.h"
#include "nc/nc.h"

typedef struct job {
    const nc_kernel_table *k;
    int phase; /* 0 forward, 1 d scores, 2 dq dk dv */
    nc_attn_dims d;
    float *q, *kk, *v, *bias, *out, *p, *kt, *vt, *dout, *ds, *dq, *dk, *dv;
} job;

static void unit(void *arg, size_t c)
{
    job *j = arg;
    size_t s = c / j->d.heads, h = c % j->d.heads;
    if (j->phase == 0)
        j->k->nc_attn_fwd(j->out, j->p, j->kt, j->q, j->kk, j->v, j->bias, 0.17f, &j->d, s, h);
    else if (j->phase == 1)
        j->k->nc_attn_bwd_p(j->ds, j->vt, j->dout, j->p, j->v, &j->d, s, h);
    else
        j->k->nc_attn_bwd_qkv(j->dq, j->dk, j->dv, j->ds, j->p, j->q, j->kk, j->dout, 0.17f, &j->d,
                              s, h, 0);
}

static float *buf(size_t n, unsigned *seed)
{
    float *x = malloc(n * sizeof *x);
    if (!x) {
        fprintf(stderr, "nc-attn-bench: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        x[i] = (float)(*seed >> 8) * 0x1p-24f - 0.5f;
    }
    return x;
}

int main(int argc, char **argv)
{
    nc_attn_dims d = {32, 16, 32, 8, 32, 32};
    int reps = 20;
    double wait = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        size_t x = (size_t)strtoull(argv[i + 1], NULL, 10);
        if (!strcmp(argv[i], "--streams")) d.S = x;
        else if (!strcmp(argv[i], "--steps")) d.T = x;
        else if (!strcmp(argv[i], "--mem")) d.mem = x;
        else if (!strcmp(argv[i], "--heads")) d.heads = x;
        else if (!strcmp(argv[i], "--dk")) d.dk = x;
        else if (!strcmp(argv[i], "--dv")) d.dv = x;
        else if (!strcmp(argv[i], "--reps")) reps = (int)x;
        else if (!strcmp(argv[i], "--wait-idle")) wait = strtod(argv[i + 1], NULL);
        else {
            fprintf(stderr, "usage: nc-attn-bench [--streams S] [--steps T] [--mem M] [--heads H] "
                            "[--dk D] [--dv D] [--reps N] [--wait-idle SECONDS]\n");
            return 2;
        }
    }
    if (!d.S || !d.T || !d.heads || !d.dk || !d.dv || reps < 1) {
        fprintf(stderr, "nc-attn-bench: sizes and reps must be >= 1\n");
        return 2;
    }
    if (wait > 0)
        printf("waited for an idle window: other load %.2f cores\n", bench_wait_idle(wait));
    size_t P = d.mem + d.T, W = d.mem + 1, R = d.T * d.S, H = d.heads;
    unsigned seed = 1;
    job j;
    memset(&j, 0, sizeof j);
    j.d = d;
    j.q = buf(R * H * d.dk, &seed), j.kk = buf(P * d.S * H * d.dk, &seed);
    j.v = buf(P * d.S * H * d.dv, &seed), j.bias = buf(H * W, &seed);
    j.out = buf(R * H * d.dv, &seed), j.p = buf(R * H * W, &seed);
    j.kt = buf(P * d.S * H * d.dk, &seed), j.vt = buf(P * d.S * H * d.dv, &seed);
    j.dout = buf(R * H * d.dv, &seed);
    j.ds = buf(R * H * W, &seed), j.dq = buf(R * H * d.dk, &seed);
    j.dk = buf(P * d.S * H * d.dk, &seed), j.dv = buf(P * d.S * H * d.dv, &seed);
    double fma = (double)R * H * W * (2.0 * d.dk + 3.0 * d.dv) + (double)R * H * W * d.dk;
    printf("attention S=%zu T=%zu mem=%zu H=%zu dk=%zu dv=%zu: %.1f M fma forward+backward\n\n",
           d.S, d.T, d.mem, H, d.dk, d.dv, fma * 1e-6);
    printf("| ISA | threads | forward ms | backward ms | total ms | G fma/s | other load |\n");
    printf("|---|---|---|---|---|---|---|\n");
    for (int isa = 0; isa < NC_ISA_COUNT; isa++) {
        if (!nc_isa_supported((nc_isa)isa))
            continue;
        j.k = nc_kernels_for((nc_isa)isa);
        for (int threads = 1; threads <= 2; threads++) {
            nc_pool *pool = nc_pool_new(threads);
            if (!pool)
                return 1;
            int n = isa == NC_ISA_REF ? 2 : reps;
            double best[2] = {1e30, 1e30};
            bench_load load;
            bench_load_start(&load);
            for (int r = 0; r < n; r++) {
                double t0 = bench_now();
                j.phase = 0;
                nc_pool_for(pool, d.S * H, unit, &j);
                double t1 = bench_now();
                j.phase = 1;
                nc_pool_for(pool, d.S * H, unit, &j);
                j.phase = 2;
                nc_pool_for(pool, d.S * H, unit, &j);
                double t2 = bench_now();
                if (t1 - t0 < best[0])
                    best[0] = t1 - t0;
                if (t2 - t1 < best[1])
                    best[1] = t2 - t1;
            }
            double other = bench_load_end(&load);
            printf("| %s | %d | %.3f | %.3f | %.3f | %.1f | %.2f |\n", nc_isa_name((nc_isa)isa),
                   threads, best[0] * 1e3, best[1] * 1e3, (best[0] + best[1]) * 1e3,
                   fma / (best[0] + best[1]) * 1e-9, other);
            nc_pool_free(pool);
        }
    }
    float *all[] = {j.q, j.kk, j.v, j.bias, j.out, j.p, j.kt, j.vt, j.dout, j.ds, j.dq, j.dk, j.dv};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]);
    return 0;
}
