/* lstm: the LSTM language model trained online (graph in lstm_graph.c).
 *
 * The input's streams advance in lockstep; every `segment` steps the model trains once on the
 * segment just coded (truncated back-propagation through time, the states carried over).
 * The encoder, knowing the symbols, evaluates a segment with one batched forward of the training
 * program (predict_segment) and later runs only its backward half; the decoder evaluates the
 * one-step program nc derives from the same graph, step by step, each run also filling the
 * training program's forward values (nc_feed), then runs the same backward half. Both give the
 * same probabilities bit for bit (nc_graph_timestep), and the training step is the same
 * computation on the same inputs on both sides. The coded weights mix these probabilities with
 * context counts (the count mixer, below).
 *
 * A segment's rows: row t*S + s is step t of stream s. Step t's input is the stream's previous
 * symbol (0 before the first, and for a stream that has ended), its target the symbol itself,
 * its loss weight 1 for an active stream and 0 otherwise. A segment cut short by the end of the
 * input is never trained on: nothing follows that could use it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lstm.h"
#include "models.h"
#include "o2counts.h"

#define MIX_BUCKETS 8
#define MIX_LO 0.001f
#define MIX_HI 0.999f

typedef struct lstm {
    model base;
    lstm_cfg k;
    nc_pool *pool;
    nc_graph *graph;
    nc_program *train, *step; /* step: built on the first predict (the decoder's path) */
    nc_feed *feed;            /* fills train's forward values from step's runs */
    lstm_ids tr, st;
    nc_adam *adam;
    nc_lr_sched sched;
    uint64_t updates;
    size_t nparam;
    uint32_t *sym_in, *tgt;   /* (T*S) */
    float *mask;              /* (T*S) */
    float *state, *sstate;    /* (2*L, S*H): h0, c0 of each layer; training / one-step inputs */
    uint32_t *ssym, *stgt;    /* (S): the one-step program's inputs */
    float *smask;
    uint16_t *prev;           /* (S): each stream's last symbol */
    /* the count mixer (mix_order > 0): shared counts, each stream's last bytes */
    o2counts *o2;
    uint8_t *hist;            /* (S, O_MAX): each stream's last bytes, most recent first */
    float *pl, *po;           /* (S, V): this step's LSTM and count probabilities */
    uint8_t *bucket;          /* (S): this step's mixing weight of each stream */
    float lam[MIX_BUCKETS];   /* weight of the counts, by how often the context was seen */
    uint32_t counted;         /* steps of this segment predict_segment already learned */
    uint32_t t;               /* step within the segment */
    int forward_done;         /* this segment's forward is done (predict_segment, or the feed) */
} lstm;

/* Levels trade speed for ratio through the network's size and the stream count; everything
 * else was measured best on enwik6 (docs/presets.md): segments of 32 steps, learning rate 1e-2
 * falling linearly to 2e-3 over about 1 MB of updates then as 1/sqrt, gate normalisation, a bigram
 * table, the count mixer up to order 5. Two streams learn better than four (more updates per
 * byte: 2.006 vs 2.020 bpb at 1x160; 1.948 vs 1.963 at 1x352) but their 2-row products use
 * the cores less well, so the two-layer levels use four. Hidden sizes avoid multiples of 128, whose 4H-wide weight rows alias
 * in the cache (matmul_template.h). */
static const struct { uint8_t layers, streams; uint16_t hidden; } presets[9] = {
    { 1, 2, 192 }, { 1, 2, 224 }, { 1, 2, 288 }, { 1, 2, 320 }, { 1, 2, 352 },
    { 1, 2, 416 }, { 2, 4, 288 }, { 2, 4, 320 }, { 2, 4, 352 },
};

static nc_status lstm_preset(model_config *c, int level)
{
    if (level < 1 || level > 9)
        return NC_ERR_ARG;
    c->id = MODEL_LSTM;
    model_config_set(c, MP_SYMBOLS, 256);
    model_config_set(c, MP_STREAMS, presets[level - 1].streams);
    model_config_set(c, MP_SEED, 1);
    model_config_set(c, MP_LAYERS, presets[level - 1].layers);
    model_config_set(c, MP_HIDDEN, presets[level - 1].hidden);
    model_config_set(c, MP_EMBED, 64);
    model_config_set(c, MP_SEGMENT, 32);
    model_config_setf(c, MP_LR, 1e-2f);
    model_config_setf(c, MP_LR_END, 2e-3f);
    /* about 1 MB of updates: 2^20 / (32 steps x streams) */
    model_config_set(c, MP_LR_STEPS, presets[level - 1].streams == 2 ? 15000 : 8000);
    model_config_set(c, MP_LR_DECAY, 1);
    model_config_setf(c, MP_BETA2, 0.9999f);
    model_config_setf(c, MP_ADAM_EPS, 1e-6f);
    model_config_setf(c, MP_INIT, 1.0f);
    model_config_set(c, MP_GATE_NORM, 1);
    model_config_set(c, MP_BIGRAM, 1);
    model_config_set(c, MP_MIX_ORDER, 5);
    model_config_set(c, MP_O2_LIMIT, 60);
    model_config_set(c, MP_O1_LIMIT, 1000);
    model_config_setf(c, MP_MIX_RATE, 0.002f);
    return NC_OK;
}

nc_status lstm_cfg_read(lstm_cfg *k, const model_config *c)
{
    nc_status st = NC_OK;
    memset(k, 0, sizeof *k);
    const struct { enum model_param p; uint32_t *v; } u[] = {
        { MP_SYMBOLS, &k->symbols }, { MP_STREAMS, &k->streams }, { MP_LAYERS, &k->layers },
        { MP_HIDDEN, &k->hidden },   { MP_EMBED, &k->embed },     { MP_SEGMENT, &k->segment },
        { MP_SEED, &k->seed },       { MP_GATE_NORM, &k->gate_norm }, { MP_BIGRAM, &k->bigram },
        { MP_LR_STEPS, &k->lr_steps }, { MP_LR_DECAY, &k->lr_decay }, { MP_MIX_ORDER, &k->mix_order },
    };
    const struct { enum model_param p; float *v; } f[] = {
        { MP_LR, &k->lr }, { MP_LR_END, &k->lr_end }, { MP_BETA2, &k->beta2 },
        { MP_ADAM_EPS, &k->eps }, { MP_INIT, &k->init },
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

/* Largest activation workspace a file may ask for, in floats per segment row and per layer:
 * generous for this graph (about 30 values of `hidden` per row and layer), and a cap on the
 * total that keeps a foreign header from requesting absurd memory. */
#define MAX_PARAMS ((uint64_t)1 << 28)
#define MAX_ROWS_X_WIDTH ((uint64_t)1 << 26)

void lstm_schedule(nc_lr_sched *s, const lstm_cfg *k)
{
    memset(s, 0, sizeof *s);
    s->npoints = k->lr_steps ? 2 : 1;
    s->decay = k->lr_decay;
    s->pt[0] = (nc_lr_point){ 0, k->lr };
    s->pt[1] = (nc_lr_point){ k->lr_steps, k->lr_end };
}

static nc_status lstm_check(const model_config *c)
{
    lstm_cfg k;
    nc_status st = lstm_cfg_read(&k, c);
    if (st != NC_OK)
        return st;
    if (k.symbols < 2 || k.symbols > 256 || k.streams < 1 || k.streams > 1024 || k.layers < 1
        || k.layers > LSTM_MAX_LAYERS || k.hidden < 1 || k.hidden > 4096 || k.embed < 1
        || k.embed > 1024 || k.segment < 1 || k.segment > 1024 || k.gate_norm > 1 || k.bigram > 1
        || k.lr_decay > 1 || (k.lr_decay && !k.lr_steps) || k.mix_order == 1 || k.mix_order > O_MAX
        || (k.mix_order && (k.symbols != 256 || k.o2_limit < 2 || k.o2_limit > 250 || k.o1_limit < 2
                        || k.o1_limit > 60000 || !(k.mix_rate >= 0 && k.mix_rate <= 1))))
        return NC_ERR_LIMIT;
    if (!(k.lr > 0 && k.lr < 1) || !(k.lr_end > 0 && k.lr_end < 1) || !(k.beta2 >= 0 && k.beta2 < 1) || !(k.eps > 0 && k.eps < 1)
        || !(k.init >= 0 && k.init <= 16))
        return NC_ERR_LIMIT;
    nc_lr_sched sched;
    lstm_schedule(&sched, &k);
    if (nc_lr_sched_check(&sched) != NC_OK)
        return NC_ERR_LIMIT;
    uint64_t rows = (uint64_t)k.segment * k.streams;
    uint64_t width = (uint64_t)k.layers * k.hidden * 32 + k.symbols * 4 + k.embed;
    if (lstm_param_count(&k) > MAX_PARAMS || rows * width > MAX_ROWS_X_WIDTH)
        return NC_ERR_LIMIT;
    return NC_OK;
}

static void lstm_destroy(model *m)
{
    lstm *x = (lstm *)m;
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
    o2_free(x->o2);
    free(x->hist);
    free(x->pl);
    free(x->po);
    free(x->bucket);
    free(x);
}

static size_t state_floats(const lstm_cfg *k)
{
    return (size_t)k->streams * k->hidden;
}

/* Bind the state inputs of program p (ids in) to buf. */
static nc_status bind_states(nc_program *p, const lstm_ids *in, float *buf, const lstm_cfg *k)
{
    nc_status st = NC_OK;
    size_t n = state_floats(k);
    for (uint32_t l = 0; l < k->layers && st == NC_OK; l++) {
        st = nc_program_bind(p, in->h0[l], buf + (2 * l) * n);
        if (st == NC_OK)
            st = nc_program_bind(p, in->c0[l], buf + (2 * l + 1) * n);
    }
    return st;
}

/* Copy the state outputs of p (ids in) into buf. */
static void save_states(float *buf, const nc_program *p, const lstm_ids *in, const lstm_cfg *k)
{
    size_t n = state_floats(k);
    for (uint32_t l = 0; l < k->layers; l++) {
        memcpy(buf + (2 * l) * n, nc_program_value(p, in->h[l]), n * sizeof *buf);
        memcpy(buf + (2 * l + 1) * n, nc_program_value(p, in->c[l]), n * sizeof *buf);
    }
}

static nc_status lstm_create(model **out, const model_config *c, const model_env *env)
{
    *out = NULL;
    lstm *x = calloc(1, sizeof *x);
    if (!x)
        return NC_ERR_NOMEM;
    nc_status st = lstm_cfg_read(&x->k, c);
    const lstm_cfg *k = &x->k;
    x->base.ops = &lstm_ops;
    x->base.n_symbols = k->symbols;
    x->base.n_streams = k->streams;
    x->base.segment = k->segment;
    if (st == NC_OK && env->threads > 1 && !(x->pool = nc_pool_new(env->threads)))
        st = NC_ERR_NOMEM;
    if (st == NC_OK)
        st = lstm_graph_build(&x->graph, &x->tr, k);
    if (st == NC_OK)
        st = nc_graph_compile(x->graph, NC_COMPILE_GRAD, &x->train);
    if (st != NC_OK) {
        lstm_destroy(&x->base);
        return st;
    }
    size_t rows = (size_t)k->segment * k->streams, S = k->streams;
    nc_program_params(x->train, &x->nparam);
    lstm_schedule(&x->sched, k);
    nc_adam_config ac = { .beta1 = 0.0f, .beta2 = k->beta2, .eps = k->eps, .clip = 0.0f };
    x->adam = nc_adam_new(x->nparam, &ac);
    x->sym_in = calloc(rows, sizeof *x->sym_in);
    x->tgt = calloc(rows, sizeof *x->tgt);
    x->mask = calloc(rows, sizeof *x->mask);
    x->state = calloc(2 * k->layers * state_floats(k), sizeof *x->state);
    x->sstate = calloc(2 * k->layers * state_floats(k), sizeof *x->sstate);
    x->ssym = calloc(S, sizeof *x->ssym);
    x->stgt = calloc(S, sizeof *x->stgt);
    x->smask = calloc(S, sizeof *x->smask);
    x->prev = calloc(S, sizeof *x->prev);
    if (!x->adam || !x->sym_in || !x->tgt || !x->mask || !x->state || !x->sstate || !x->ssym
        || !x->stgt || !x->smask || !x->prev) {
        lstm_destroy(&x->base);
        return NC_ERR_NOMEM;
    }
    if (k->mix_order) {
        x->o2 = o2_new(k->o2_limit, k->o1_limit);
        x->hist = calloc(S, O_MAX);
        if (x->o2 && o2_add_orders(x->o2, (int)k->mix_order) != NC_OK)
            o2_free(x->o2), x->o2 = NULL;
        x->pl = calloc(S * k->symbols, sizeof *x->pl);
        x->po = calloc(S * k->symbols, sizeof *x->po);
        x->bucket = calloc(S, 1);
        for (int b = 0; b < MIX_BUCKETS; b++) x->lam[b] = 0.5f;
        if (!x->o2 || !x->hist || !x->pl || !x->po || !x->bucket) {
            lstm_destroy(&x->base);
            return NC_ERR_NOMEM;
        }
    }
    st = nc_program_bind(x->train, x->tr.sym, x->sym_in);
    if (st == NC_OK)
        st = nc_program_bind(x->train, x->tr.tgt, x->tgt);
    if (st == NC_OK)
        st = nc_program_bind(x->train, x->tr.mask, x->mask);
    if (st == NC_OK)
        st = bind_states(x->train, &x->tr, x->state, k);
    if (st != NC_OK) {
        lstm_destroy(&x->base);
        return st;
    }
    *out = &x->base;
    return NC_OK;
}

/* The decoder's one-step program, derived from the training graph and sharing its parameters. */
static nc_status make_step(lstm *x)
{
    const lstm_cfg *k = &x->k;
    int *map = malloc((size_t)nc_graph_value_count(x->graph) * sizeof *map);
    nc_graph *one = NULL;
    if (!map)
        return NC_ERR_NOMEM;
    nc_status st = nc_feed_new(x->graph, x->train, &one, map, &x->feed);
    if (st == NC_OK) {
        x->st = x->tr;
        x->st.prob = map[x->tr.prob];
        for (uint32_t l = 0; l < k->layers; l++) {
            x->st.h[l] = map[x->tr.h[l]];
            x->st.c[l] = map[x->tr.c[l]];
        }
        st = nc_graph_compile(one, 0, &x->step);
    }
    free(map);
    nc_graph_free(one);
    if (st == NC_OK)
        st = nc_program_share_params(x->step, x->train);
    if (st == NC_OK)
        st = nc_program_bind(x->step, x->st.sym, x->ssym);
    if (st == NC_OK)
        st = nc_program_bind(x->step, x->st.tgt, x->stgt);
    if (st == NC_OK)
        st = nc_program_bind(x->step, x->st.mask, x->smask);
    if (st == NC_OK)
        st = bind_states(x->step, &x->st, x->sstate, k);
    if (st == NC_OK)
        memcpy(x->sstate, x->state, 2 * k->layers * state_floats(k) * sizeof *x->state);
    return st;
}

/* The count mixer. The LSTM learns slowly at first; context counts learn from the first byte.
 * Each stream's coded weights are (1 - lam) * p_lstm + lam * p_counts, p_counts the blend of
 * orders mix_order .. 0 (o2counts.c), lam one of 8 weights chosen by how often the stream's
 * highest-order context was seen (floor(log2(n + 1))), each moved after every symbol along the
 * gradient of its code length and kept in [MIX_LO, MIX_HI]. Only binary32 operations in a fixed
 * order (docs/format.md): both sides compute the same weights. */
static void mix_step(lstm *x, float *w)
{
    size_t V = x->k.symbols;
    memcpy(x->pl, w, x->k.streams * V * sizeof *w);
    for (size_t s = 0; s < x->k.streams; s++) {
        float *po = x->po + s * V, *ws = w + s * V;
        unsigned n;
        on_weights(x->o2, x->hist + O_MAX * s, po, &n);
        float sum = 0.0f;
        for (size_t j = 0; j < V; j++) sum += po[j];
        float inv = 1.0f / sum;
        for (size_t j = 0; j < V; j++) po[j] *= inv;
        unsigned b = 0;
        n += 1u;
        while (n >>= 1) b++;
        x->bucket[s] = (uint8_t)(b < MIX_BUCKETS ? b : MIX_BUCKETS - 1);
        float lam = x->lam[x->bucket[s]], keep = 1.0f - lam;
        for (size_t j = 0; j < V; j++) ws[j] = keep * ws[j] + lam * po[j];
    }
}

/* Learn one step's symbols of the active streams: mixing weights, then the counts. */
static void mix_learn(lstm *x, const uint16_t *sym, size_t n_active)
{
    size_t V = x->k.symbols;
    for (size_t s = 0; s < n_active; s++) {
        float pl = x->pl[s * V + sym[s]], po = x->po[s * V + sym[s]];
        float *lam = &x->lam[x->bucket[s]];
        float pm = (1.0f - *lam) * pl + *lam * po;
        float l = *lam + x->k.mix_rate * ((po - pl) / pm);
        *lam = l < MIX_LO ? MIX_LO : l > MIX_HI ? MIX_HI : l;
        uint8_t *h = x->hist + O_MAX * s;
        on_count(x->o2, h, sym[s]);
        memmove(h + 1, h, O_MAX - 1);
        h[0] = (uint8_t)sym[s];
    }
}

static nc_status lstm_predict(model *m, float *w, uint32_t n_active)
{
    (void)n_active;
    lstm *x = (lstm *)m;
    const lstm_cfg *k = &x->k;
    size_t S = k->streams;
    nc_status st = x->step ? NC_OK : make_step(x);
    if (st != NC_OK)
        return st;
    for (size_t s = 0; s < S; s++)
        x->ssym[s] = x->sym_in[x->t * S + s] = x->prev[s];
    if ((st = nc_program_forward(x->step, x->pool)) != NC_OK)
        return st;
    memcpy(w, nc_program_value(x->step, x->st.prob), S * k->symbols * sizeof *w);
    if (k->mix_order)
        mix_step(x, w);
    save_states(x->sstate, x->step, &x->st, k);
    /* the training forward of this segment, one step at a time */
    if ((st = nc_feed_step(x->feed, x->train, x->step, (int)x->t)) != NC_OK)
        return st;
    x->forward_done = x->t + 1 == k->segment;
    return NC_OK;
}

static nc_status lstm_predict_segment(model *m, float *w, const uint16_t *sym, const uint32_t *act,
                                      uint32_t steps)
{
    lstm *x = (lstm *)m;
    const lstm_cfg *k = &x->k;
    size_t S = k->streams, T = k->segment;
    if (x->t != 0 || steps > T)
        return NC_ERR_ARG;
    /* The rows update() and predict() would fill, all at once. */
    for (size_t t = 0; t < T; t++)
        for (size_t s = 0; s < S; s++) {
            size_t r = t * S + s;
            int on = t < steps && s < act[t];
            x->sym_in[r] = t == 0 ? x->prev[s] : t < steps && s < act[t - 1] ? sym[r - S] : 0;
            x->tgt[r] = on ? sym[r] : 0;
            x->mask[r] = on ? 1.0f : 0.0f;
        }
    nc_status st = nc_program_forward(x->train, x->pool);
    if (st != NC_OK)
        return st;
    memcpy(w, nc_program_value(x->train, x->tr.prob), steps * S * k->symbols * sizeof *w);
    x->forward_done = 1;
    if (k->mix_order) { /* the mixer learns through the segment now; update() skips it */
        for (size_t t = 0; t < steps; t++) {
            mix_step(x, w + t * S * k->symbols);
            mix_learn(x, sym + t * S, act[t]);
        }
        x->counted = steps;
    }
    return NC_OK;
}

/* Train on the finished segment, then carry the states on. */
static nc_status train(lstm *x)
{
    const lstm_cfg *k = &x->k;
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
    save_states(x->state, x->train, &x->tr, k);
    if (x->step)
        memcpy(x->sstate, x->state, 2 * k->layers * state_floats(k) * sizeof *x->state);
    return NC_OK;
}

static nc_status lstm_update(model *m, const uint16_t *sym, uint32_t n_active)
{
    lstm *x = (lstm *)m;
    size_t S = x->k.streams;
    for (size_t s = 0; s < S; s++) {
        size_t r = (size_t)x->t * S + s;
        int on = s < n_active;
        x->tgt[r] = on ? sym[s] : 0;
        x->mask[r] = on ? 1.0f : 0.0f;
        x->prev[s] = on ? sym[s] : 0;
    }
    if (x->k.mix_order) {
        if (x->counted > 0)
            x->counted--;
        else
            mix_learn(x, sym, n_active);
    }
    if (++x->t < x->k.segment)
        return NC_OK;
    x->t = 0;
    return train(x);
}

static void lstm_size(const model_config *c, uint64_t *params, uint64_t *bytes)
{
    lstm_cfg k;
    *params = *bytes = 0;
    if (lstm_cfg_read(&k, c) != NC_OK)
        return;
    *params = lstm_param_count(&k);
    /* parameters, gradients and Adam's second moments; the workspace comes on top */
    *bytes = *params * 3 * sizeof(float) + (k.mix_order ? o2_bytes() : 0)
             + (k.mix_order > 2 ? (uint64_t)O_CONTEXTS * 260 * (k.mix_order - 2) : 0);
}

const model_ops lstm_ops = {
    .name = "lstm",
    .id = MODEL_LSTM,
    .preset = lstm_preset,
    .check = lstm_check,
    .create = lstm_create,
    .destroy = lstm_destroy,
    .predict = lstm_predict,
    .predict_segment = lstm_predict_segment,
    .update = lstm_update,
    .size = lstm_size,
};
