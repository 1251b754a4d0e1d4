/* nc-bench: GFLOP/s of nc's matrix products at the model shapes, per ISA path and thread count,
 * next to the machine's FP32 FMA peak, printed as a markdown table.
 *
 * Peak = cores x FMA pipes x lanes x 2 flops x clock. The clock is MEASURED, not read from
 * /proc/cpuinfo (under a hypervisor that shows a nominal figure): a chain of dependent integer adds
 * retires exactly one add per cycle on every x86-64 core of the last decade, so adds per second is
 * cycles per second. As a cross-check the tool also times a loop of independent FMAs (the highest
 * FMA rate that code can reach on this core). FMA pipes default to 2 (Zen 2-5, Intel Haswell and
 * later server parts); override with --fma-units.
 *
 * usage: nc-bench [--quick] [--no-ref] [--fma-units N] [--wait-idle SECONDS]
 *   --wait-idle: first wait (up to SECONDS) for a 2-second window in which other processes keep
 *   less than 0.1 core busy, so a shared machine does not distort the 2-thread figures.
 * NNZIP_ISA is honoured for the default ISA. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_clock.h"
#include "nc/nc.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

/* Cycles per second from a dependent chain of 1-cycle integer adds; best of several runs. */
static double measure_hz(void)
{
#if defined(__x86_64__) || defined(__i386__)
    const long iters = 4000000; /* x 64 adds = 256 M cycles, ~0.1 s */
    double best = 0;
    for (int rep = 0; rep < 7; rep++) {
        unsigned long x = (unsigned long)rep;
        double t0 = bench_now();
        for (long i = 0; i < iters; i++) {
#define ADD8 "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t" \
             "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
            __asm__ volatile(ADD8 ADD8 ADD8 ADD8 ADD8 ADD8 ADD8 ADD8 : "+r"(x));
        }
        double hz = (double)iters * 64.0 / (bench_now() - t0);
        if (hz > best)
            best = hz;
        if (x == 0) /* never: keeps x alive */
            printf(" ");
    }
    return best;
#else
    return 0;
#endif
}

#if defined(__x86_64__) || defined(__i386__)
/* Independent FMAs: 10 accumulators (latency 4 x 2 pipes = 8 needed), named so they stay in
 * registers. */
__attribute__((target("avx2,fma"))) static double measure_fma_flops(void)
{
    __m256 a0 = _mm256_set1_ps(0.0f), a1 = _mm256_set1_ps(1.0f), a2 = _mm256_set1_ps(2.0f),
           a3 = _mm256_set1_ps(3.0f), a4 = _mm256_set1_ps(4.0f), a5 = _mm256_set1_ps(5.0f),
           a6 = _mm256_set1_ps(6.0f), a7 = _mm256_set1_ps(7.0f), a8 = _mm256_set1_ps(8.0f),
           a9 = _mm256_set1_ps(9.0f);
    const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    const long iters = 20000000;
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = bench_now();
        for (long it = 0; it < iters; it++) {
            a0 = _mm256_fmadd_ps(a0, m, c);
            a1 = _mm256_fmadd_ps(a1, m, c);
            a2 = _mm256_fmadd_ps(a2, m, c);
            a3 = _mm256_fmadd_ps(a3, m, c);
            a4 = _mm256_fmadd_ps(a4, m, c);
            a5 = _mm256_fmadd_ps(a5, m, c);
            a6 = _mm256_fmadd_ps(a6, m, c);
            a7 = _mm256_fmadd_ps(a7, m, c);
            a8 = _mm256_fmadd_ps(a8, m, c);
            a9 = _mm256_fmadd_ps(a9, m, c);
        }
        double f = (double)iters * 10 * 8 * 2 / (bench_now() - t0);
        if (f > best)
            best = f;
    }
    float sink[8];
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    _mm256_storeu_ps(sink, _mm256_add_ps(s, _mm256_add_ps(a8, a9)));
    if (sink[0] == 12345.0f)
        printf(" ");
    return best;
}
#endif

static void nothing(void *arg, size_t chunk)
{
    (void)arg;
    (void)chunk;
}

typedef void (*mm_pooled)(nc_pool *, float *, size_t, const float *, size_t, const float *, size_t,
                          size_t, size_t, size_t, int);

static const struct {
    const char *name;
    int kind; /* 0 A.B, 1 A.Bt, 2 At.B */
    mm_pooled fn;
} products[] = {{"A·B", 0, nc_matmul}, {"A·Bᵀ", 1, nc_matmul_nt}, {"Aᵀ·B", 2, nc_matmul_tn}};

/* Seconds per call over one batch lasting >= min_time (accumulating, so C stays live). */
static double time_batch(int p, nc_pool *pool, float *C, const float *A, const float *B, size_t M,
                         size_t N, size_t K, double min_time)
{
    int kind = products[p].kind;
    size_t lda = kind == 2 ? M : K, ldb = kind == 1 ? K : N;
    long reps = 0;
    double t0 = bench_now(), t;
    do {
        products[p].fn(pool, C, N, A, lda, B, ldb, M, N, K, 1);
        reps++;
        t = bench_now() - t0;
    } while (t < min_time);
    return t / (double)reps;
}

int main(int argc, char **argv)
{
    int quick = 0, with_ref = 1, fma_units = 2;
    double wait_idle = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            quick = 1;
        else if (!strcmp(argv[i], "--no-ref"))
            with_ref = 0;
        else if (!strcmp(argv[i], "--fma-units") && i + 1 < argc)
            fma_units = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--wait-idle") && i + 1 < argc)
            wait_idle = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: nc-bench [--quick] [--no-ref] [--fma-units N] "
                            "[--wait-idle SECONDS]\n");
            return 2;
        }
    }
    nc_status st = nc_isa_from_env();
    if (st != NC_OK) {
        fprintf(stderr, "nc-bench: NNZIP_ISA=%s: %s; this machine supports:", getenv("NNZIP_ISA"),
                st == NC_ERR_ARG ? "unknown ISA name" : nc_status_str(st));
        for (int i = 0; i < NC_ISA_COUNT; i++)
            if (nc_isa_supported((nc_isa)i))
                fprintf(stderr, " %s", nc_isa_name((nc_isa)i));
        fputc('\n', stderr);
        return 2;
    }

    if (wait_idle > 0)
        fprintf(stderr, "nc-bench: other load before start: %.2f cores\n", bench_wait_idle(wait_idle));
    double hz = measure_hz();
    printf("## nc-bench: matrix products\n\n");
    printf("- clock: %.3f GHz, measured as 1-cycle dependent integer adds per second (best of 7 "
           "runs of 256 M adds)\n", hz * 1e-9);
    double peak8 = hz * fma_units * 8 * 2, peak16 = hz * fma_units * 16 * 2;
#if defined(__x86_64__) || defined(__i386__)
    if (nc_isa_supported(NC_ISA_AVX2)) {
        double f = measure_fma_flops();
        printf("- cross-check, a loop of independent AVX2 FMAs on 1 thread: %.1f GFLOP/s = %.1f "
               "flop/cycle\n", f * 1e-9, f / hz);
    }
#endif
    printf("- AVX2 peak per core = %d FMA pipes x 8 lanes x 2 x clock = %.1f GFLOP/s",
           fma_units, peak8 * 1e-9);
    printf("; AVX-512 (Intel, 2 x 512-bit FMA) would be %.1f; on Zen 4 512-bit ops are "
           "double-pumped, so its AVX-512 peak equals the AVX2 peak\n", peak16 * 1e-9);
    printf("- shapes: a layer with d_in x d_out weights over a batch of T rows (T = 16..64 per "
           "timestep, 320..2048 per segment): A·B forward (M=T, K=d_in, N=d_out), A·Bᵀ input "
           "gradient (M=T, K=d_out, N=d_in), Aᵀ·B weight gradient (M=d_in, K=T, N=d_out)\n");
    printf("- GFLOP/s = 2·M·N·K / seconds per call (accumulate mode, C += A·B)\n");
    printf("- %% of peak uses the peak of the cores in use (1 or 2) for that path's vector width"
           " (ref: AVX2 peak)\n");
    printf("- ISAs supported here:");
    for (int i = 0; i < NC_ISA_COUNT; i++)
        if (nc_isa_supported((nc_isa)i))
            printf(" %s", nc_isa_name((nc_isa)i));
    printf("\n");

    static const size_t tstep_m[] = {16, 32, 64}, seg_m[] = {320, 640, 2048};
    static const size_t kn_full[][2] = {{256, 1024}, {352, 1408}, {512, 512}, {1024, 1024},
                                        {1408, 352}};
    static const size_t kn_quick[][2] = {{352, 1408}, {1024, 1024}};
    const size_t(*kn)[2] = quick ? kn_quick : kn_full;
    size_t nkn = quick ? 2 : 5;
    double min_time = quick ? 0.01 : 0.02;
    int rounds = quick ? 3 : 5;

    nc_pool *pool2 = nc_pool_new(2);
    if (!pool2) {
        fprintf(stderr, "nc-bench: cannot start 2 threads\n");
        return 1;
    }
    {
        /* Hand-off cost of the pool: an empty parallel-for over 2 chunks, back to back. */
        const int n = 20000;
        double best = 1e30;
        for (int rep = 0; rep < 5; rep++) {
            double t0 = bench_now();
            for (int i = 0; i < n; i++)
                nc_pool_for(pool2, 2, nothing, NULL);
            double t = (bench_now() - t0) / n;
            best = t < best ? t : best;
        }
        printf("- pool hand-off (empty 2-chunk parallel-for on 2 threads, back to back): %.2f µs\n\n",
               best * 1e6);
    }
    size_t maxel = 2048 * 1408;
    float *A = malloc(maxel * sizeof *A), *B = malloc(maxel * sizeof *B),
          *C = malloc(maxel * sizeof *C);
    if (!A || !B || !C) {
        fprintf(stderr, "nc-bench: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < maxel; i++) {
        A[i] = (float)((i * 2654435761u) % 1000) * 1e-3f - 0.5f;
        C[i] = 0;
    }
    for (size_t i = 0; i < maxel; i++)
        B[i] = (float)((i * 40503u) % 1000) * 1e-3f - 0.5f;

    printf("| product | T | M | K | N | path | 1 thread GFLOP/s | %% peak | 2 threads GFLOP/s | "
           "%% peak | 2T speed-up | other load |\n");
    printf("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|\n");
    double others_sum = 0;
    int others_n = 0;
    nc_isa isa_default = nc_isa_active();
    double t_start = bench_now();
    for (int isa = NC_ISA_COUNT - 1; isa >= 0; isa--) {
        if (!nc_isa_supported((nc_isa)isa) || (isa == NC_ISA_REF && !with_ref))
            continue;
        nc_isa_select((nc_isa)isa);
        double peak = isa == NC_ISA_AVX512 ? peak16 : peak8;
        for (int p = 0; p < 3; p++) {
            for (int seg = 0; seg < 2; seg++) {
                for (size_t mi = 0; mi < 3; mi++) {
                    size_t T = seg ? seg_m[mi] : tstep_m[mi]; /* rows in the batch */
                    for (size_t s = 0; s < nkn; s++) {
                        /* A layer with d_in x d_out weights W over T rows:
                         *   A.B   forward       Y (T,d_out) = X (T,d_in) . W (d_in,d_out)
                         *   A.Bt  input grad    dX (T,d_in) = dY (T,d_out) . W^T
                         *   At.B  weight grad   dW (d_in,d_out) = X^T . dY, reduced over T */
                        size_t din = kn[s][0], dout = kn[s][1], M, K, N;
                        if (products[p].kind == 0)
                            M = T, K = din, N = dout;
                        else if (products[p].kind == 1)
                            M = T, K = dout, N = din;
                        else
                            M = din, K = T, N = dout;
                        /* The scalar reference is slow: one small shape per product suffices. */
                        if (isa == NC_ISA_REF && !(seg == 0 && mi == 0 && s == 0))
                            continue;
                        if (quick && mi == 1)
                            continue;
                        double flops = 2.0 * (double)M * (double)N * (double)K;
                        double mt = isa == NC_ISA_REF ? 0.1 : min_time, t1 = 1e30, t2 = 1e30;
                        /* Other jobs may share the machine: alternate 1- and 2-thread batches and
                         * keep the best of each, so a busy moment hurts both or neither. */
                        time_batch(p, pool2, C, A, B, M, N, K, 0); /* warm up */
                        bench_load load;
                        bench_load_start(&load);
                        for (int r = 0; r < rounds; r++) {
                            double a = time_batch(p, NULL, C, A, B, M, N, K, mt);
                            double b = time_batch(p, pool2, C, A, B, M, N, K, mt);
                            t1 = a < t1 ? a : t1;
                            t2 = b < t2 ? b : t2;
                        }
                        double g1 = flops / t1 * 1e-9, g2 = flops / t2 * 1e-9;
                        double others = bench_load_end(&load);
                        others_sum += others;
                        others_n++;
                        printf("| %s | %zu | %zu | %zu | %zu | %s | %.1f | %.0f%% | %.1f | %.0f%% | "
                               "%.2f× | %.2f |\n",
                               products[p].name, T, M, K, N, nc_isa_name((nc_isa)isa), g1,
                               100 * g1 / (peak * 1e-9), g2, 100 * g2 / (2 * peak * 1e-9),
                               g2 / g1, others);
                        fflush(stdout);
                    }
                }
            }
        }
    }
    nc_isa_select(isa_default);
    printf("\nRun time %.0f s. \"other load\": cores kept busy by other processes while that row "
           "was measured (/proc/stat minus this process); mean %.2f. Each figure is the best of "
           "%d alternating 1-/2-thread batches of >= %.0f ms.\n",
           bench_now() - t_start, others_n ? others_sum / others_n : 0.0, rounds, min_time * 1e3);
    nc_pool_free(pool2);
    free(A);
    free(B);
    free(C);
    return 0;
}
