/* nnzip-curve: the learning curve of a model on a file -- bits per byte over each tenth of the
 * steps, as the encoder codes them (streams, segments and mixer exactly as in the codec; the
 * range coder's rounding aside, the sum is the compressed size). Shows where a model is still
 * learning and where one model overtakes another (docs/benchmarks.md).
 *
 * Usage: nnzip-curve FILE MODEL LEVEL [NAME=VALUE ...]   (NAME as `nnzip -l` shows it) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "model.h"

static int set_param(model_config *c, const char *arg)
{
    const char *eq = strchr(arg, '=');
    for (unsigned k = 0; eq && k < MP_COUNT; k++) {
        const char *n = model_param_name(k);
        if (!n || strlen(n) != (size_t)(eq - arg) || strncmp(n, arg, (size_t)(eq - arg)) != 0)
            continue;
        if (model_param_is_float(k))
            model_config_setf(c, k, strtof(eq + 1, NULL));
        else
            model_config_set(c, k, (uint32_t)strtoul(eq + 1, NULL, 10));
        return 0;
    }
    return -1;
}

/* The active streams at step t of stripes of L steps over n bytes (as coder/codec.c). */
static size_t active(size_t n, size_t L, size_t S, size_t t)
{
    size_t a = (n - t + L - 1) / L;
    return a < S ? a : S;
}

int main(int argc, char **argv)
{
    uint8_t *src = NULL;
    size_t n = 0;
    struct stat st;
    model_config c = { 0 };
    const model_ops *ops = argc >= 4 ? model_find_name(argv[2]) : NULL;
    if (!ops || ops->preset(&c, atoi(argv[3])) != NC_OK || read_whole(argv[1], &src, &n, &st) != 0
        || n == 0) {
        fprintf(stderr, "usage: nnzip-curve FILE MODEL LEVEL [NAME=VALUE ...] (FILE not empty)\n");
        return 2;
    }
    for (int i = 4; i < argc; i++)
        if (set_param(&c, argv[i]) != 0) {
            fprintf(stderr, "nnzip-curve: unknown parameter '%s'\n", argv[i]);
            return 2;
        }
    model_env env = { .threads = 1 };
    model *m = NULL;
    nc_status ms = model_open(&m, &c, &env);
    if (ms != NC_OK) {
        fprintf(stderr, "nnzip-curve: %s\n", codec_status_str(ms));
        return 1;
    }
    size_t S = m->n_streams, V = m->n_symbols, T = m->segment, L = (n + S - 1) / S;
    float *w = malloc(T * S * V * sizeof *w);
    uint16_t *seg = calloc(T * S, sizeof *seg), *sym = calloc(S, sizeof *sym);
    uint32_t *act = calloc(T, sizeof *act);
    if (!w || !seg || !sym || !act)
        return 1;
    double bits = 0;
    size_t count = 0, tenth = 1;
    printf("%s -%s on %s, bits per byte by tenth of the steps:\n", argv[2], argv[3], argv[1]);
    for (size_t t = 0; t < L; t++) {
        size_t a = active(n, L, S, t);
        if (t % T == 0 && m->ops->predict_segment) { /* the encoder's path */
            size_t steps = L - t < T ? L - t : T;
            for (size_t j = 0; j < steps; j++) {
                act[j] = (uint32_t)active(n, L, S, t + j);
                for (size_t s = 0; s < S; s++) seg[j * S + s] = s < act[j] ? src[s * L + t + j] : 0;
            }
            ms = m->ops->predict_segment(m, w, seg, act, (uint32_t)steps);
        } else if (!m->ops->predict_segment) {
            ms = m->ops->predict(m, w, (uint32_t)a);
        }
        const float *wt = m->ops->predict_segment ? w + (t % T) * S * V : w;
        for (size_t s = 0; s < a; s++) {
            double sum = 0;
            for (size_t j = 0; j < V; j++) sum += wt[s * V + j];
            sym[s] = src[s * L + t];
            bits -= log2(wt[s * V + sym[s]] / sum);
            count++;
        }
        if (ms == NC_OK)
            ms = m->ops->update(m, sym, (uint32_t)a);
        if (ms != NC_OK) {
            fprintf(stderr, "nnzip-curve: %s\n", codec_status_str(ms));
            return 1;
        }
        if ((t + 1) * 10 >= tenth * L) {
            printf(" %.3f", bits / (double)count);
            fflush(stdout);
            bits = 0, count = 0, tenth++;
        }
    }
    printf("\n");
    model_close(m);
    free(src), free(w), free(seg), free(sym), free(act);
    return 0;
}
