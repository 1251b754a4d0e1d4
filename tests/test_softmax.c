/* Softmax family: identical bits on every forced path and whatever the batch, accuracy against
 * double precision, and gradients against central finite differences in double. */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "nc/nc.h"

#define MAXM 32
#define MAXN 300

static float x[MAXM * MAXN], dy[MAXM * MAXN], tmp[MAXN];

static void fill(float *v, size_t n, float scale, uint64_t *rng)
{
    for (size_t i = 0; i < n; i++)
        v[i] = scale * ((float)(test_rand64(rng) >> 40) / (float)(1 << 24) - 0.5f);
}

typedef struct outputs {
    float sm[MAXM * MAXN], lsm[MAXM * MAXN], dsm[MAXM * MAXN], dlsm[MAXM * MAXN];
} outputs;

static void run_all(outputs *o, size_t M, size_t N)
{
    nc_softmax_forward(o->sm, x, M, N);
    nc_log_softmax_forward(o->lsm, tmp, x, M, N);
    nc_softmax_backward(o->dsm, tmp, dy, o->sm, M, N);
    nc_log_softmax_backward(o->dlsm, tmp, dy, o->lsm, M, N);
}

/* log-softmax of row xr in double, and L = sum dy * logsoftmax. */
static double loss_double(const double *xr, const float *dyr, size_t N)
{
    double m = xr[0], s = 0, L = 0;
    for (size_t j = 1; j < N; j++)
        m = xr[j] > m ? xr[j] : m;
    for (size_t j = 0; j < N; j++)
        s += exp(xr[j] - m);
    for (size_t j = 0; j < N; j++)
        L += dyr[j] * (xr[j] - m - log(s));
    return L;
}

int main(void)
{
    static outputs want, got, one;
    const size_t shapes[][2] = { { 1, 1 }, { 3, 2 }, { 5, 15 }, { 7, 16 }, { 9, 17 }, { 32, 256 }, { 4, 300 } };
    uint64_t rng = 21;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        size_t M = shapes[si][0], N = shapes[si][1];
        fill(x, M * N, 20.0f, &rng);
        fill(dy, M * N, 2.0f, &rng);
        REQUIRE(nc_isa_select(NC_ISA_REF) == NC_OK);
        run_all(&want, M, N);
        for (int isa = 1; isa < NC_ISA_COUNT; isa++) {
            if (nc_isa_select((nc_isa)isa) != NC_OK)
                continue;
            run_all(&got, M, N);
            CHECK_MSG(memcmp(&got, &want, sizeof got) == 0, "%s differs from ref at %zux%zu",
                      nc_isa_name((nc_isa)isa), M, N);
        }
        /* The last row computed alone equals the same row inside the batch. */
        size_t last = (M - 1) * N;
        memmove(x, x + last, N * sizeof *x);
        memmove(dy, dy + last, N * sizeof *dy);
        run_all(&one, 1, N);
        CHECK(memcmp(one.sm, want.sm + last, N * 4) == 0 && memcmp(one.lsm, want.lsm + last, N * 4) == 0 &&
              memcmp(one.dsm, want.dsm + last, N * 4) == 0 && memcmp(one.dlsm, want.dlsm + last, N * 4) == 0);
        /* Accuracy against double, and the log-softmax gradient against central differences. */
        double xd[MAXN];
        for (size_t j = 0; j < N; j++)
            xd[j] = x[j];
        double worst_p = 0, worst_g = 0, s = 0;
        for (size_t j = 0; j < N; j++) {
            double m = xd[0], z = 0;
            for (size_t i = 0; i < N; i++)
                m = xd[i] > m ? xd[i] : m;
            for (size_t i = 0; i < N; i++)
                z += exp(xd[i] - m);
            double p = exp(xd[j] - m) / z;
            worst_p = fmax(worst_p, fabs(one.sm[j] - p) / p);
            worst_p = fmax(worst_p, fabs(one.lsm[j] - (xd[j] - m - log(z))) / fmax(1.0, fabs(xd[j] - m - log(z))));
            s += one.sm[j];
            double h = 1e-4, keep = xd[j];
            xd[j] = keep + h;
            double up = loss_double(xd, dy, N);
            xd[j] = keep - h;
            double down = loss_double(xd, dy, N);
            xd[j] = keep;
            worst_g = fmax(worst_g, fabs(one.dlsm[j] - (up - down) / (2 * h)));
        }
        CHECK_MSG(worst_p < 4e-6, "%zux%zu: relative error %g", M, N, worst_p);
        CHECK_MSG(fabs(s - 1) < 1e-5, "%zux%zu: softmax row sums to %.9f", M, N, s);
        CHECK_MSG(worst_g < 1e-4, "%zux%zu: log-softmax gradient off by %g", M, N, worst_g);
    }
    /* Softmax backward = Jacobian-vector product: check one row against the explicit Jacobian. */
    {
        size_t N = 17;
        fill(x, N, 6.0f, &rng);
        fill(dy, N, 2.0f, &rng);
        run_all(&one, 1, N);
        for (size_t j = 0; j < N; j++) {
            double g = 0;
            for (size_t i = 0; i < N; i++)
                g += dy[i] * (double)one.sm[i] * ((i == j) - (double)one.sm[j]);
            CHECK_MSG(fabs(one.dsm[j] - g) < 1e-6, "softmax backward at %zu: %g vs %g", j, one.dsm[j], g);
        }
    }
    float logp[6] = { -1, -2, -3, -0.5f, -0.25f, -4 }, loss[2];
    uint32_t target[2] = { 2, 1 };
    CHECK(nc_cross_entropy(loss, logp, target, 2, 3) == NC_OK && loss[0] == 3 && loss[1] == 0.25f);
    target[1] = 3;
    loss[1] = 7;
    CHECK(nc_cross_entropy(loss, logp, target, 2, 3) == NC_ERR_ARG && loss[1] == 7);
    return test_finish("test_softmax");
}
