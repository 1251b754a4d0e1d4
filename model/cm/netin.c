/* The network as a mixer input (netin.h). */
#include <stdlib.h>
#include <string.h>

#include "models.h"
#include "netin.h"

/* The network model a config asks for, NULL for none; *bad set for a value no build accepts. */
static const model_ops *net_ops(const model_config *c, int *bad)
{
    uint32_t id = 0;
    *bad = 0;
    if (model_config_get(c, MP_CM_NET, &id) != NC_OK || id == 0)
        return NULL;
    if (id == MODEL_LSTM)
        return &lstm_ops;
    if (id == MODEL_TRANSFORMER)
        return &transformer_ops;
    *bad = 1;
    return NULL;
}

nc_status cm_netin_check(const model_config *c)
{
    int bad;
    const model_ops *ops = net_ops(c, &bad);
    if (bad)
        return NC_ERR_LIMIT;
    if (!ops)
        return NC_OK;
    uint32_t streams = 0, mix = 1;
    nc_status st = model_config_get(c, MP_STREAMS, &streams);
    if (st == NC_OK)
        st = model_config_get(c, MP_MIX_ORDER, &mix);
    if (st != NC_OK)
        return st;
    /* one stream of bytes, as cm codes them; the cm engine replaces the count mixer */
    if (streams != 1 || mix != 0)
        return NC_ERR_LIMIT;
    return ops->check(c);
}

void cm_netin_size(const model_config *c, uint64_t *params, uint64_t *bytes)
{
    int bad;
    const model_ops *ops = net_ops(c, &bad);
    *params = *bytes = 0;
    if (ops)
        ops->size(c, params, bytes);
}

nc_status cm_netin_open(cm_netin *n, const model_config *c, const model_env *env)
{
    int bad;
    memset(n, 0, sizeof *n);
    const model_ops *ops = net_ops(c, &bad);
    if (bad)
        return NC_ERR_LIMIT;
    if (!ops)
        return NC_OK;
    model_config nc = *c;
    nc.id = ops->id;
    nc_status st = ops->create(&n->net, &nc, env);
    if (st != NC_OK)
        return st;
    if (n->net->n_symbols != 256 || n->net->n_streams != 1 || !n->net->segment) {
        cm_netin_close(n);
        return NC_ERR_LIMIT;
    }
    n->segment = n->net->segment;
    n->w = malloc((size_t)n->segment * 256 * sizeof *n->w);
    n->ahead = malloc((size_t)n->segment * sizeof *n->ahead);
    if (!n->w || !n->ahead) {
        cm_netin_close(n);
        return NC_ERR_NOMEM;
    }
    return NC_OK;
}

void cm_netin_close(cm_netin *n)
{
    model_close(n->net);
    free(n->w);
    free(n->ahead);
    memset(n, 0, sizeof *n);
}

nc_status cm_netin_byte(cm_netin *n, const uint8_t *ahead, uint64_t n_ahead)
{
    const model_ops *ops = n->net->ops;
    nc_status st = NC_OK;
    if (n->t == 0 && ahead && n_ahead >= n->segment && ops->predict_segment) {
        /* The encoder, with a whole segment ahead in this block: one forward for all of it.
         * A shorter rest (the end of the data, or of a block that more data follows) goes step
         * by step, as the decoder does: a segment's batched forward assumes nothing follows. */
        uint32_t steps = n->segment;
        uint32_t act[1024];
        for (uint32_t i = 0; i < steps; i++) {
            n->ahead[i] = ahead[i];
            act[i] = 1;
        }
        st = ops->predict_segment(n->net, n->w, n->ahead, act, steps);
        n->have = steps;
    } else if (n->t >= n->have) {
        st = ops->predict(n->net, n->w + (size_t)n->t * 256, 1);
        n->have = n->t + 1;
    }
    if (st != NC_OK)
        return st;
    cm_netin_tree(n->lg, n->w + (size_t)n->t * 256);
    return NC_OK;
}

void cm_netin_tree(float lg[512], const float *p)
{
    /* S(x) for x = 256 + byte: its probability; S(x) = S(2x) + S(2x + 1) above */
    float s[512];
    memcpy(s + 256, p, 256 * sizeof *s);
    for (unsigned x = 255; x >= 1; x--)
        s[x] = s[2 * x] + s[2 * x + 1];
    nc_kernels()->nc_vlog(lg + 2, s + 2, 510);
}

nc_status cm_netin_learn(cm_netin *n, uint8_t c)
{
    uint16_t sym = c;
    nc_status st = n->net->ops->update(n->net, &sym, 1);
    if (++n->t == n->segment) {
        n->t = 0;
        n->have = 0;
    }
    return st;
}
