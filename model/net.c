/* net: the online training loop of the neural models (net.h).
 *
 * The input's streams advance in lockstep; every `segment` steps the model trains once on the
 * segment just coded (truncated back-propagation through time, the states carried over).
 * The encoder, knowing the symbols, evaluates a segment with one batched forward of the training
 * program (predict_segment) and later runs only its backward half; the decoder evaluates the
 * one-step program nc derives from the same graph, step by step, each run also filling the
 * training program's forward values (nc_feed), then runs the same backward half. Both give the
 * same probabilities bit for bit (nc_graph_timestep), and the training step is the same
 * computation on the same inputs on both sides. The coded weights mix these probabilities with
 * context counts (mixer.h).
 *
 * Step t's input is the stream's previous symbol (0 before the first, and for a stream that has
 * ended) and, for graphs that read it (sym2), the one before that (0 likewise), its target the
 * symbol itself, its loss weight 1 for an active stream and 0 otherwise.
 * A segment cut short by the end of the input is never trained on: nothing follows that could
 * use it. */
#include <stdlib.h>
#include <string.h>

#include "mixer.h"
#include "net.h"

typedef struct net {
    model base;
    net_cfg k;
    nc_pool *pool;
    nc_graph *graph;
    nc_program *train, *step; /* step: built on the first predict (the decoder's path) */
    nc_feed *feed;            /* fills train's forward values from step's runs */
    net_ids tr, st;
    size_t soff[NET_MAX_STATES + 1]; /* state i: floats [soff[i], soff[i+1]) of the buffers */
    nc_adam *adam;
    nc_lr_sched sched;
    uint64_t updates;
    size_t nparam;
    uint32_t *sym_in, *tgt;   /* (T*S) */
    float *mask;              /* (T*S) */
    float *state, *sstate;    /* the states: training / one-step program inputs */
    uint32_t *ssym, *stgt;    /* (S): the one-step program's inputs */
    float *smask;
    uint16_t *prev;           /* (S): each stream's last symbol */
    uint16_t *prev2;          /* (S): the one before */
    uint32_t *sym2_in, *ssym2; /* (T*S), (S): the symbol before the previous one (ids sym2) */
    mixer *mix;               /* NULL without the count mixer */
    uint32_t counted;         /* steps of this segment predict_segment already mixed */
    uint32_t t;               /* step within the segment */
    int forward_done;         /* this segment's forward is done (predict_segment, or the feed) */
} net;

nc_status net_cfg_read(net_cfg *k, const model_config *c)
{
    nc_status st = NC_OK;
    memset(k, 0, sizeof *k);
    const struct { enum model_param p; uint32_t *v; } u[] = {
        { MP_SYMBOLS, &k->symbols },   { MP_STREAMS, &k->streams },   { MP_SEGMENT, &k->segment },
        { MP_SEED, &k->seed },         { MP_LR_STEPS, &k->lr_steps }, { MP_LR_DECAY, &k->lr_decay },
        { MP_MIX_ORDER, &k->mix_order },
    };
    const struct { enum model_param p; float *v; } f[] = {
        { MP_LR, &k->lr }, { MP_LR_END, &k->lr_end }, { MP_BETA2, &k->beta2 },
        { MP_ADAM_EPS, &k->eps },
    };
    for (size_t i = 0; i < sizeof u / sizeof u[0] && st == NC_OK; i++)
        st = model_config_get(c, u[i].p, u[i].v);
    for (size_t i = 0; i < sizeof f / sizeof f[0] && st == NC_OK; i++)
        st = model_config_getf(c, f[i].p, f[i].v);
    if (st == NC_OK && k->mix_order) {
        st = model_config_get(c, MP_O2_LIMIT, &k->o2_limit);
        if (st == NC_OK)
            st = model_config_get(c, MP_O1_LIMIT, &k->o1_limit);
        if (st == NC_OK)
            st = model_config_getf(c, MP_MIX_RATE, &k->mix_rate);
    }
    return st;
}

void net_schedule(nc_lr_sched *s, const net_cfg *k)
{
    memset(s, 0, sizeof *s);
    s->npoints = k->lr_steps ? 2 : 1;
    s->decay = k->lr_decay;
    s->pt[0] = (nc_lr_point){ 0, k->lr };
    s->pt[1] = (nc_lr_point){ k->lr_steps, k->lr_end };
}

nc_status net_cfg_check(const net_cfg *k)
{
    if (k->symbols < 2 || k->symbols > 256 || k->streams < 1 || k->streams > 1024
        || k->segment < 1 || k->segment > 1024 || k->lr_decay > 1 || (k->lr_decay && !k->lr_steps)
        || k->mix_order == 1 || k->mix_order > O_MAX
        || (k->mix_order && (k->symbols != 256 || k->o2_limit < 2 || k->o2_limit > 250
                             || k->o1_limit < 2 || k->o1_limit > 60000
                             || !(k->mix_rate >= 0 && k->mix_rate <= 1))))
        return NC_ERR_LIMIT;
    if (!(k->lr > 0 && k->lr < 1) || !(k->lr_end > 0 && k->lr_end < 1)
        || !(k->beta2 >= 0 && k->beta2 < 1) || !(k->eps > 0 && k->eps < 1))
        return NC_ERR_LIMIT;
    nc_lr_sched sched;
    net_schedule(&sched, k);
    return nc_lr_sched_check(&sched) == NC_OK ? NC_OK : NC_ERR_LIMIT;
}

void net_preset(model_config *c, const net_cfg *k)
{
    model_config_set(c, MP_SYMBOLS, k->symbols);
    model_config_set(c, MP_STREAMS, k->streams);
    model_config_set(c, MP_SEED, k->seed);
    model_config_set(c, MP_SEGMENT, k->segment);
    model_config_setf(c, MP_LR, k->lr);
    model_config_setf(c, MP_LR_END, k->lr_end);
    model_config_set(c, MP_LR_STEPS, k->lr_steps);
    model_config_set(c, MP_LR_DECAY, k->lr_decay);
    model_config_setf(c, MP_BETA2, k->beta2);
    model_config_setf(c, MP_ADAM_EPS, k->eps);
    model_config_set(c, MP_MIX_ORDER, k->mix_order);
    if (k->mix_order) {
        model_config_set(c, MP_O2_LIMIT, k->o2_limit);
        model_config_set(c, MP_O1_LIMIT, k->o1_limit);
        model_config_setf(c, MP_MIX_RATE, k->mix_rate);
    }
}

void net_destroy(model *m)
{
    net *x = (net *)m;
    if (!x)
        return;
    nc_program_free(x->step);
    nc_feed_free(x->feed);
    nc_program_free(x->train);
    nc_graph_free(x->graph);
    nc_adam_free(x->adam);
    nc_pool_free(x->pool);
    free(x->sym_in);
    free(x->tgt);
    free(x->mask);
    free(x->state);
    free(x->sstate);
    free(x->ssym);
    free(x->stgt);
    free(x->smask);
    free(x->prev);
    free(x->prev2);
    free(x->sym2_in);
    free(x->ssym2);
    mixer_free(x->mix);
    free(x);
}

/* Bind the state inputs of program p (ids in) to buf. */
static nc_status bind_states(const net *x, nc_program *p, const net_ids *in, float *buf)
{
    nc_status st = NC_OK;
    for (int i = 0; i < in->nstate && st == NC_OK; i++)
        st = nc_program_bind(p, in->state_in[i], buf + x->soff[i]);
    return st;
}

/* Copy the state outputs of p (ids in) into buf. */
static void save_states(const net *x, float *buf, const nc_program *p, const net_ids *in)
{
    for (int i = 0; i < in->nstate; i++)
        memcpy(buf + x->soff[i], nc_program_value(p, in->state_out[i]),
               (x->soff[i + 1] - x->soff[i]) * sizeof *buf);
}

/* Bind the segment's inputs and states to the training program. */
static nc_status bind_train(net *x)
{
    nc_status st = nc_program_bind(x->train, x->tr.sym, x->sym_in);
    if (st == NC_OK && x->tr.sym2 >= 0)
        st = nc_program_bind(x->train, x->tr.sym2, x->sym2_in);
    if (st == NC_OK)
        st = nc_program_bind(x->train, x->tr.tgt, x->tgt);
    if (st == NC_OK)
        st = nc_program_bind(x->train, x->tr.mask, x->mask);
    if (st == NC_OK)
        st = bind_states(x, x->train, &x->tr, x->state);
    return st;
}

nc_status net_create(model **out, const model_ops *ops, const net_cfg *k, nc_graph *g,
                     const net_ids *ids, float clip, const model_env *env)
{
    *out = NULL;
    net *x = calloc(1, sizeof *x);
    if (!x) {
        nc_graph_free(g);
        return NC_ERR_NOMEM;
    }
    x->k = *k;
    x->graph = g;
    x->tr = *ids;
    x->base.ops = ops;
    x->base.n_symbols = k->symbols;
    x->base.n_streams = k->streams;
    x->base.segment = k->segment;
    nc_status st = ids->nstate <= NET_MAX_STATES ? NC_OK : NC_ERR_ARG;
    for (int i = 0; i < ids->nstate && st == NC_OK; i++) {
        size_t r, c;
        st = nc_graph_shape(g, ids->state_in[i], &r, &c);
        x->soff[i + 1] = x->soff[i] + r * c;
    }
    if (st == NC_OK && env->threads > 1 && !(x->pool = nc_pool_new(env->threads)))
        st = NC_ERR_NOMEM;
    if (st == NC_OK)
        st = nc_graph_compile(x->graph, NC_COMPILE_GRAD, &x->train);
    if (st != NC_OK) {
        net_destroy(&x->base);
        return st;
    }
    size_t rows = (size_t)k->segment * k->streams, S = k->streams, ns = x->soff[ids->nstate];
    nc_program_params(x->train, &x->nparam);
    net_schedule(&x->sched, k);
    nc_adam_config ac = { .beta1 = 0.0f, .beta2 = k->beta2, .eps = k->eps, .clip = clip };
    x->adam = nc_adam_new(x->nparam, &ac);
    x->sym_in = calloc(rows, sizeof *x->sym_in);
    x->tgt = calloc(rows, sizeof *x->tgt);
    x->mask = calloc(rows, sizeof *x->mask);
    x->state = calloc(ns + 1, sizeof *x->state);
    x->sstate = calloc(ns + 1, sizeof *x->sstate);
    x->ssym = calloc(S, sizeof *x->ssym);
    x->stgt = calloc(S, sizeof *x->stgt);
    x->smask = calloc(S, sizeof *x->smask);
    x->prev = calloc(S, sizeof *x->prev);
    x->prev2 = calloc(S, sizeof *x->prev2);
    x->sym2_in = calloc(rows, sizeof *x->sym2_in);
    x->ssym2 = calloc(S, sizeof *x->ssym2);
    if (k->mix_order)
        x->mix = mixer_new(S, (int)k->mix_order, k->o2_limit, k->o1_limit, k->mix_rate);
    st = NC_ERR_NOMEM;
    if (x->adam && x->sym_in && x->tgt && x->mask && x->state && x->sstate && x->ssym && x->stgt
        && x->smask && x->prev && x->prev2 && x->sym2_in && x->ssym2 && (x->mix || !k->mix_order))
        st = bind_train(x);
    if (st != NC_OK) {
        net_destroy(&x->base);
        return st;
    }
    *out = &x->base;
    return NC_OK;
}

/* The decoder's one-step program, derived from the training graph and sharing its parameters. */
static nc_status make_step(net *x)
{
    int *map = malloc((size_t)nc_graph_value_count(x->graph) * sizeof *map);
    nc_graph *one = NULL;
    if (!map)
        return NC_ERR_NOMEM;
    nc_status st = nc_feed_new(x->graph, x->train, &one, map, &x->feed);
    if (st == NC_OK) {
        x->st = x->tr;
        x->st.prob = map[x->tr.prob];
        for (int i = 0; i < x->tr.nstate; i++)
            x->st.state_out[i] = map[x->tr.state_out[i]];
        st = nc_graph_compile(one, 0, &x->step);
    }
    free(map);
    nc_graph_free(one);
    if (st == NC_OK)
        st = nc_program_share_params(x->step, x->train);
    if (st == NC_OK)
        st = nc_program_bind(x->step, x->st.sym, x->ssym);
    if (st == NC_OK && x->st.sym2 >= 0)
        st = nc_program_bind(x->step, x->st.sym2, x->ssym2);
    if (st == NC_OK)
        st = nc_program_bind(x->step, x->st.tgt, x->stgt);
    if (st == NC_OK)
        st = nc_program_bind(x->step, x->st.mask, x->smask);
    if (st == NC_OK)
        st = bind_states(x, x->step, &x->st, x->sstate);
    if (st == NC_OK)
        memcpy(x->sstate, x->state, x->soff[x->tr.nstate] * sizeof *x->state);
    return st;
}

nc_status net_predict(model *m, float *w, uint32_t n_active)
{
    (void)n_active;
    net *x = (net *)m;
    const net_cfg *k = &x->k;
    size_t S = k->streams;
    nc_status st = x->step ? NC_OK : make_step(x);
    if (st != NC_OK)
        return st;
    for (size_t s = 0; s < S; s++)
        x->ssym[s] = x->sym_in[x->t * S + s] = x->prev[s];
    for (size_t s = 0; s < S; s++)
        x->ssym2[s] = x->sym2_in[x->t * S + s] = x->prev2[s];
    if ((st = nc_program_forward(x->step, x->pool)) != NC_OK)
        return st;
    memcpy(w, nc_program_value(x->step, x->st.prob), S * k->symbols * sizeof *w);
    if (x->mix)
        mixer_step(x->mix, w);
    save_states(x, x->sstate, x->step, &x->st);
    /* the training forward of this segment, one step at a time */
    if ((st = nc_feed_step(x->feed, x->train, x->step, (int)x->t)) != NC_OK)
        return st;
    x->forward_done = x->t + 1 == k->segment;
    return NC_OK;
}

nc_status net_predict_segment(model *m, float *w, const uint16_t *sym, const uint32_t *act,
                              uint32_t steps)
{
    net *x = (net *)m;
    const net_cfg *k = &x->k;
    size_t S = k->streams, T = k->segment;
    if (x->t != 0 || steps > T)
        return NC_ERR_ARG;
    /* The rows update() and predict() would fill, all at once. */
    for (size_t t = 0; t < T; t++)
        for (size_t s = 0; s < S; s++) {
            size_t r = t * S + s;
            int on = t < steps && s < act[t];
            x->sym_in[r] = t == 0 ? x->prev[s] : t < steps && s < act[t - 1] ? sym[r - S] : 0;
            x->sym2_in[r] = t == 0 ? x->prev2[s]
                          : t == 1 ? (t < steps && s < act[0] ? x->prev[s] : 0)
                          : t < steps && s < act[t - 1] ? sym[r - 2 * S] : 0;
            x->tgt[r] = on ? sym[r] : 0;
            x->mask[r] = on ? 1.0f : 0.0f;
        }
    nc_status st = nc_program_forward(x->train, x->pool);
    if (st != NC_OK)
        return st;
    memcpy(w, nc_program_value(x->train, x->tr.prob), steps * S * k->symbols * sizeof *w);
    x->forward_done = 1;
    if (x->mix) { /* the mixer learns through the segment now; update() skips it */
        for (size_t t = 0; t < steps; t++) {
            mixer_step(x->mix, w + t * S * k->symbols);
            mixer_learn(x->mix, sym + t * S, act[t]);
        }
        x->counted = steps;
    }
    return NC_OK;
}

/* Train on the finished segment, then carry the states on. */
static nc_status train(net *x)
{
    nc_status st = x->forward_done ? NC_OK : nc_program_forward(x->train, x->pool);
    x->forward_done = 0;
    if (st == NC_OK)
        st = nc_program_backward(x->train, x->pool);
    if (st == NC_OK)
        st = nc_adam_step(x->adam, x->pool, nc_program_params(x->train, NULL),
                          nc_program_grads(x->train, NULL), x->nparam,
                          nc_lr_schedule(&x->sched, x->updates++));
    if (st != NC_OK)
        return st;
    save_states(x, x->state, x->train, &x->tr);
    if (x->step)
        memcpy(x->sstate, x->state, x->soff[x->tr.nstate] * sizeof *x->state);
    return NC_OK;
}

nc_status net_update(model *m, const uint16_t *sym, uint32_t n_active)
{
    net *x = (net *)m;
    size_t S = x->k.streams;
    for (size_t s = 0; s < S; s++) {
        size_t r = (size_t)x->t * S + s;
        int on = s < n_active;
        x->tgt[r] = on ? sym[s] : 0;
        x->mask[r] = on ? 1.0f : 0.0f;
        x->prev2[s] = on ? x->prev[s] : 0;
        x->prev[s] = on ? sym[s] : 0;
    }
    if (x->mix) {
        if (x->counted > 0)
            x->counted--;
        else
            mixer_learn(x->mix, sym, n_active);
    }
    if (++x->t < x->k.segment)
        return NC_OK;
    x->t = 0;
    return train(x);
}

uint64_t net_bytes(const net_cfg *k, uint64_t params, uint64_t workspace_floats)
{
    /* Four floats a parameter at the peak: the training program's parameters and gradients,
     * Adam's second moments, and the one-step program's parameters until it shares the
     * training program's; a fifth for the allocator's slack (measured peaks: 15-17 bytes a
     * parameter; test_limits checks the bound). 8 MiB for graphs, programs and buffers. */
    return (params * 5 + workspace_floats) * sizeof(float)
           + (k->mix_order ? mixer_bytes((int)k->mix_order) : 0) + ((uint64_t)8 << 20);
}

float *net_param(model *m, int v)
{
    return nc_program_param(((net *)m)->train, v);
}

nc_status net_graph_finish(nc_graph **out, nc_graph *g, net_ids *id, int x, size_t V, int bigram)
{
    size_t rows = 0, C = 0;
    nc_graph_shape(g, x, &rows, &C);
    /* A zero head predicts the uniform distribution until the first update: no initial bias
     * towards random symbols. */
    int Wout = nc_g_param(g, C, V, NC_INIT_CONST, 0.0f);
    int bout = nc_g_param(g, 1, V, NC_INIT_CONST, 0.0f);
    int logits = nc_g_add_bias(g, nc_g_matmul(g, x, Wout), bout);
    if (bigram) { /* order-1 statistics learned directly, while the network is still slow */
        int table = nc_g_param(g, V, V, NC_INIT_CONST, 0.0f);
        int b = nc_g_gather(g, table, id->sym);
        logits = nc_g_add(g, logits, b);
    }
    int logp = nc_g_log_softmax(g, logits);
    id->prob = nc_g_exp(g, logp);
    int ce = nc_g_cross_entropy(g, logp, id->tgt);
    id->loss = nc_g_sum_all(g, nc_g_mul(g, ce, id->mask));
    nc_g_output(g, id->prob);
    nc_g_loss(g, id->loss);
    for (int i = 0; i < id->nstate; i++)
        nc_g_state(g, id->state_in[i], id->state_out[i]);
    nc_status st = nc_graph_status(g);
    *out = st == NC_OK ? g : NULL;
    if (st != NC_OK)
        nc_graph_free(g);
    return st;
}
