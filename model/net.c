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
 * use it.
 *
 * With `lag` (key lag = 1) a segment's training takes effect one segment later: segment k + 1 is
 * predicted with the weights trained up to segment k - 1, so the training on segment k (backward
 * and Adam) can run on a second thread while segment k + 1 is predicted and coded. Two training
 * programs alternate by segment, each with its own inputs, activations and copy of the weights
 * (the ones its forward used, which its backward must see); Adam keeps the master weights and
 * copies them into the program it trained, whose next forward (segment k + 2) is the one that
 * uses them. Each step reads only what the steps before it finished, in the same order with one
 * thread or two, so the bits are the same. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mixer.h"
#include "net.h"

/* Lag mode: one training program's state, and the thread that trains while the next segment is
 * predicted. */
typedef struct lagbuf {
    nc_program *prog;
    uint32_t *sym_in, *tgt, *sym2_in;
    float *mask, *state;
} lagbuf;

typedef struct trainer {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int running;      /* the thread exists */
    int job, busy, stop;
    int prog;         /* the program of the job */
    nc_status st;     /* of the last job */
} trainer;

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
    /* lag mode: train, sym_in, tgt, sym2_in, mask and state point into lb[cur] */
    lagbuf lb[2];
    int cur, synced;          /* synced: lb[1] and master hold lb[0]'s initial weights */
    float *master;
    trainer tr_th;
    nc_pool *train_pool;      /* the trainer's products (threads - 1 of them, if 2 or more) */
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
    if (st == NC_OK && model_config_has(c, MP_NET_LAG)) /* absent in files before it */
        st = model_config_get(c, MP_NET_LAG, &k->lag);
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
        || k->lag > 1
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
    if (k->lag)
        model_config_set(c, MP_NET_LAG, k->lag);
    if (k->mix_order) {
        model_config_set(c, MP_O2_LIMIT, k->o2_limit);
        model_config_set(c, MP_O1_LIMIT, k->o1_limit);
        model_config_setf(c, MP_MIX_RATE, k->mix_rate);
    }
}

static void lagbuf_free(lagbuf *b)
{
    nc_program_free(b->prog);
    free(b->sym_in);
    free(b->tgt);
    free(b->sym2_in);
    free(b->mask);
    free(b->state);
}

static void trainer_stop(trainer *t)
{
    if (!t->running)
        return;
    pthread_mutex_lock(&t->mu);
    t->stop = 1;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->th, NULL);
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    t->running = 0;
}

void net_destroy(model *m)
{
    net *x = (net *)m;
    if (!x)
        return;
    trainer_stop(&x->tr_th);
    nc_program_free(x->step);
    nc_feed_free(x->feed);
    if (!x->lb[0].prog) /* else (lag mode) these point into lb[] */
        x->lb[0] = (lagbuf){ x->train, x->sym_in, x->tgt, x->sym2_in, x->mask, x->state };
    lagbuf_free(&x->lb[0]);
    lagbuf_free(&x->lb[1]);
    nc_graph_free(x->graph);
    nc_adam_free(x->adam);
    nc_pool_free(x->pool);
    nc_pool_free(x->train_pool);
    free(x->master);
    free(x->sstate);
    free(x->ssym);
    free(x->stgt);
    free(x->smask);
    free(x->prev);
    free(x->prev2);
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

/* Bind a segment's inputs and states to its training program. */
static nc_status bind_train(net *x, lagbuf *b)
{
    nc_status st = nc_program_bind(b->prog, x->tr.sym, b->sym_in);
    if (st == NC_OK && x->tr.sym2 >= 0)
        st = nc_program_bind(b->prog, x->tr.sym2, b->sym2_in);
    if (st == NC_OK)
        st = nc_program_bind(b->prog, x->tr.tgt, b->tgt);
    if (st == NC_OK)
        st = nc_program_bind(b->prog, x->tr.mask, b->mask);
    if (st == NC_OK)
        st = bind_states(x, b->prog, &x->tr, b->state);
    return st;
}

/* Lag mode: make lb[i] the current segment's program and buffers. */
static void lag_point(net *x, int i)
{
    lagbuf *b = &x->lb[i];
    x->cur = i;
    x->train = b->prog;
    x->sym_in = b->sym_in;
    x->tgt = b->tgt;
    x->sym2_in = b->sym2_in;
    x->mask = b->mask;
    x->state = b->state;
}

/* Lag mode, the training on lb[i]'s segment: its backward (with the weights its forward used),
 * Adam on the master weights, and those into lb[i] for its next forward. */
static nc_status lag_job(net *x, int i)
{
    lagbuf *b = &x->lb[i];
    nc_status st = nc_program_backward(b->prog, x->train_pool);
    if (st == NC_OK)
        st = nc_adam_step(x->adam, x->train_pool, x->master, nc_program_grads(b->prog, NULL),
                          x->nparam, nc_lr_schedule(&x->sched, x->updates++));
    if (st == NC_OK)
        memcpy(nc_program_params(b->prog, NULL), x->master, x->nparam * sizeof *x->master);
    return st;
}

static void *trainer_main(void *arg)
{
    net *x = arg;
    trainer *t = &x->tr_th;
    pthread_mutex_lock(&t->mu);
    for (;;) {
        while (!t->job && !t->stop)
            pthread_cond_wait(&t->cv, &t->mu);
        if (!t->job)
            break;
        t->job = 0;
        t->busy = 1;
        int i = t->prog;
        pthread_mutex_unlock(&t->mu);
        nc_status st = lag_job(x, i);
        pthread_mutex_lock(&t->mu);
        t->st = st;
        t->busy = 0;
        pthread_cond_broadcast(&t->cv);
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

/* The training started last has finished (its weights may be used): its status. */
static nc_status trainer_wait(net *x)
{
    trainer *t = &x->tr_th;
    if (!t->running)
        return NC_OK;
    pthread_mutex_lock(&t->mu);
    while (t->job || t->busy)
        pthread_cond_wait(&t->cv, &t->mu);
    nc_status st = t->st;
    t->st = NC_OK;
    pthread_mutex_unlock(&t->mu);
    return st;
}

/* Train on lb[i]: on the trainer thread if there is one, else now. */
static nc_status trainer_start(net *x, int i)
{
    trainer *t = &x->tr_th;
    if (!t->running)
        return lag_job(x, i);
    pthread_mutex_lock(&t->mu);
    t->prog = i;
    t->job = 1;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    return NC_OK;
}

/* Lag mode, before the first forward: both programs and the master from lb[0]'s weights (which
 * a model may have set after net_create, net_param). */
static nc_status lag_sync(net *x)
{
    if (!x->k.lag || x->synced)
        return NC_OK;
    x->synced = 1;
    memcpy(x->master, nc_program_params(x->lb[0].prog, NULL), x->nparam * sizeof *x->master);
    return nc_program_set_params(x->lb[1].prog, x->master, x->nparam);
}

/* Lag mode, set up the second program and the trainer. */
static nc_status lag_create(net *x, const model_env *env)
{
    size_t rows = (size_t)x->k.segment * x->k.streams, ns = x->soff[x->tr.nstate];
    lagbuf *b = &x->lb[1];
    x->lb[0] = (lagbuf){ x->train, x->sym_in, x->tgt, x->sym2_in, x->mask, x->state };
    nc_status st = nc_graph_compile(x->graph, NC_COMPILE_GRAD, &b->prog);
    if (st != NC_OK)
        return st;
    b->sym_in = calloc(rows, sizeof *b->sym_in);
    b->tgt = calloc(rows, sizeof *b->tgt);
    b->sym2_in = calloc(rows, sizeof *b->sym2_in);
    b->mask = calloc(rows, sizeof *b->mask);
    b->state = calloc(ns + 1, sizeof *b->state);
    x->master = malloc(x->nparam * sizeof *x->master + 1);
    if (!b->sym_in || !b->tgt || !b->sym2_in || !b->mask || !b->state || !x->master)
        return NC_ERR_NOMEM;
    if ((st = bind_train(x, b)) != NC_OK)
        return st;
    if (env->threads >= 3 && !(x->train_pool = nc_pool_new(env->threads - 1)))
        return NC_ERR_NOMEM;
    if (env->threads >= 2) {
        trainer *t = &x->tr_th;
        if (pthread_mutex_init(&t->mu, NULL) != 0)
            return NC_ERR_NOMEM;
        if (pthread_cond_init(&t->cv, NULL) != 0) {
            pthread_mutex_destroy(&t->mu);
            return NC_ERR_NOMEM;
        }
        if (pthread_create(&t->th, NULL, trainer_main, x) != 0) {
            pthread_cond_destroy(&t->cv);
            pthread_mutex_destroy(&t->mu);
            return NC_ERR_NOMEM;
        }
        t->running = 1;
    }
    return NC_OK;
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
    /* lag mode: the segment's forward on this thread, the training beside it (lag_create) */
    if (st == NC_OK && !k->lag && env->threads > 1 && !(x->pool = nc_pool_new(env->threads)))
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
        && x->smask && x->prev && x->prev2 && x->sym2_in && x->ssym2 && (x->mix || !k->mix_order)) {
        lagbuf b0 = { x->train, x->sym_in, x->tgt, x->sym2_in, x->mask, x->state };
        st = bind_train(x, &b0);
    }
    if (st == NC_OK && k->lag)
        st = lag_create(x, env);
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
    nc_status st = lag_sync(x);
    if (st == NC_OK && !x->step)
        st = make_step(x);
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
    nc_status st = lag_sync(x);
    if (st != NC_OK)
        return st;
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
    if ((st = nc_program_forward(x->train, x->pool)) != NC_OK)
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

/* Lag mode, at the end of a segment: once the training started a segment ago has finished, the
 * other program (with its weights) takes the next segment, starting from this one's states, and
 * this one trains. */
static nc_status lag_boundary(net *x)
{
    int done = x->cur, next = 1 - done;
    nc_status st = x->forward_done ? NC_OK : nc_program_forward(x->train, NULL);
    x->forward_done = 0;
    if (st == NC_OK)
        st = trainer_wait(x);
    if (st != NC_OK)
        return st;
    save_states(x, x->lb[next].state, x->train, &x->tr); /* before the backward reuses them */
    lag_point(x, next);
    if (x->step) {
        memcpy(x->sstate, x->state, x->soff[x->tr.nstate] * sizeof *x->state);
        if ((st = nc_program_share_params(x->step, x->train)) != NC_OK)
            return st;
    }
    return trainer_start(x, done);
}

/* Train on the finished segment, then carry the states on. */
static nc_status train(net *x)
{
    if (x->k.lag)
        return lag_boundary(x);
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
    /* Lag mode: a second training program (parameters, gradients, workspace) and the master
     * weights: eight floats a parameter with the slack. */
    uint64_t per = k->lag ? 8 : 5, ws = k->lag ? 2 * workspace_floats : workspace_floats;
    return (params * per + ws) * sizeof(float)
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
