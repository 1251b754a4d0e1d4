/* Softmax, log-softmax and cross-entropy, composed from the dispatched row kernels.
 *
 * Each step is a kernel whose variants give identical bits, so the composition does too on every
 * path; and every step works on one row at a time, so a row's result never depends on its batch.
 * The row max is subtracted first so exp never overflows for finite inputs. */
#include "nc/nc.h"

void nc_softmax_forward(float *y, const float *x, size_t M, size_t N)
{
    const nc_kernel_table *k = nc_kernels();
    for (size_t r = 0; r < M; r++) {
        const float *xr = x + r * N;
        float *yr = y + r * N, m, s;
        k->nc_row_max(&m, xr, 1, N);
        k->nc_row_sub(yr, xr, &m, 1, N);
        k->nc_vexp(yr, yr, N);
        k->nc_row_sum(&s, yr, 1, N);
        k->nc_row_div(yr, yr, &s, 1, N);
    }
}

void nc_log_softmax_forward(float *y, float *tmp, const float *x, size_t M, size_t N)
{
    const nc_kernel_table *k = nc_kernels();
    for (size_t r = 0; r < M; r++) {
        const float *xr = x + r * N;
        float *yr = y + r * N, m, s;
        k->nc_row_max(&m, xr, 1, N);
        k->nc_row_sub(yr, xr, &m, 1, N);
        k->nc_vexp(tmp, yr, N);
        k->nc_row_sum(&s, tmp, 1, N);
        float l = nc_logf(s);
        k->nc_row_sub(yr, yr, &l, 1, N);
    }
}

void nc_softmax_backward(float *dx, float *tmp, const float *dy, const float *y, size_t M, size_t N)
{
    const nc_kernel_table *k = nc_kernels();
    for (size_t r = 0; r < M; r++) {
        float d;
        k->nc_row_dot(&d, dy + r * N, y + r * N, 1, N);
        k->nc_row_sub(tmp, dy + r * N, &d, 1, N);
        k->nc_mul(dx + r * N, tmp, y + r * N, N);
    }
}

void nc_log_softmax_backward(float *dx, float *tmp, const float *dy, const float *logp, size_t M,
                             size_t N)
{
    const nc_kernel_table *k = nc_kernels();
    for (size_t r = 0; r < M; r++) {
        float s;
        k->nc_row_sum(&s, dy + r * N, 1, N);
        k->nc_vexp(tmp, logp + r * N, N);
        if (dx != dy)
            k->nc_scale(dx + r * N, dy + r * N, 1.0f, N); /* exact copy: x * 1 == x */
        k->nc_axpy(dx + r * N, tmp, -s, N);
    }
}

nc_status nc_cross_entropy(float *loss, const float *logp, const uint32_t *target, size_t M, size_t N)
{
    for (size_t r = 0; r < M; r++)
        if (target[r] >= N)
            return NC_ERR_ARG;
    for (size_t r = 0; r < M; r++)
        loss[r] = -logp[r * N + target[r]];
    return NC_OK;
}
