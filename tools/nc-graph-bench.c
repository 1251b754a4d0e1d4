/* nc-graph-bench: what the model bytecode costs on an LSTM training program, printed as markdown.
 *
 * The graph is NNCP's CPU LSTM profile (a stand-in until the LSTM preset exists): L layers of H
 * cells over S streams and a segment of T steps, time-major rows. Layer l at step t sees the
 * input symbol's embedding (alphabet 256, E wide), the new outputs of layers 0..l-1 and its own
 * previous output, RMSNorm-ed; gates f, i, g, o from one matrix product; the clamped cell
 * c = c·f + min(1 - f, i)·g; h = o·c. The head reads all layers' outputs: log-softmax,
 * cross-entropy, summed loss. Steps are tagged and the (h, c) states declared, so the same graph
 * also gives the per-timestep program the decoder runs (nc_graph_timestep).
 *
 * Figures, on 1 thread (pool NULL) unless --threads asks for a pool:
 * - instructions, parameters, the workspace as planned vs one slot per value
 *   (nc_program_workspace);
 * - ms per training run (forward + backward), best of several batches of runs;
 * - the time inside the instructions, taken with the trace hook (nc_program_set_trace): the sum
 *   over instructions of (clock after - clock before). Interpreter overhead = run time without the
 *   hook - that sum. The hook's own cost (two calls and two clock reads per instruction, measured
 *   in a loop of empty calls) is printed beside it: about half of it lands inside the timed
 *   intervals, so the kernel sum is slightly high and the overhead slightly low;
 * - the per-timestep program: ms per step (one step of S streams, the state copied back), per
 *   symbol, and the decode / encode cost ratio (T steps + one training run) / (one training run),
 *   and with the decoder feed (T steps + the backward half) / (one training run).
 * --preset LEVEL builds nnzip's lstm graph of that level (model/lstm_graph.c) instead.
 *
 * usage: nc-graph-bench [--preset LEVEL | --streams S] [--steps T] [--layers L] [--cells H] [--embed E]
 *                       [--runs N] [--reps R] [--threads N] [--wait-idle SECONDS]
 *   --threads: run every program on a pool of N threads (default 1: no pool).
 *   --wait-idle: first wait (up to SECONDS) for a 2-second window in which other processes keep
 *   less than 0.1 core busy (as nc-bench does). NNZIP_ISA is honoured. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_clock.h"
#include "lstm.h"
#include "nc/nc.h"

static nc_pool *pool; /* --threads; NULL = this thread only */

typedef struct bmodel {
    nc_graph *g;
    int sym, tgt, logp, loss;
    int mask;             /* the real model's loss weights (--preset), else -1 */
    int *h0, *c0, *h, *c; /* per layer: state inputs, state values after the last step */
    size_t S, T, L, H, E, V;
} bmodel;

/* One layer at one step: x (S, E + l*H) the embedding and the lower layers' new outputs. */
static void lstm_cell(nc_graph *g, const bmodel *m, int x, int l, int W, int b, int gain)
{
    size_t H = m->H;
    int in = nc_g_concat_cols(g, x, m->h[l]);
    int xn = nc_g_rmsnorm(g, in, gain, 1e-5f);
    int z = nc_g_add_bias(g, nc_g_matmul(g, xn, W), b);
    int f = nc_g_sigmoid(g, nc_g_slice_cols(g, z, 0, H));
    int i = nc_g_sigmoid(g, nc_g_slice_cols(g, z, H, H));
    int gg = nc_g_tanh(g, nc_g_slice_cols(g, z, 2 * H, H));
    int o = nc_g_sigmoid(g, nc_g_slice_cols(g, z, 3 * H, H));
    /* one builder call per statement where two operands are built (argument order) */
    int cf = nc_g_mul(g, m->c[l], f);
    int ig = nc_g_mul(g, nc_g_min(g, nc_g_one_minus(g, f), i), gg);
    m->c[l] = nc_g_add(g, cf, ig);
    m->h[l] = nc_g_mul(g, o, m->c[l]);
}

static int model_build(bmodel *m)
{
    size_t S = m->S, T = m->T, L = m->L, H = m->H, E = m->E, V = m->V;
    nc_graph *g = m->g = nc_graph_new(1);
    int *W = malloc(3 * L * sizeof *W), *outs = malloc(T * sizeof *outs);
    int *st = malloc(4 * L * sizeof *st), *cat = malloc((L + 1) * sizeof *cat);
    if (!g || !W || !outs || !st || !cat) {
        free(W), free(outs), free(st), free(cat);
        return -1;
    }
    m->h0 = st, m->c0 = st + L, m->h = st + 2 * L, m->c = st + 3 * L;
    int emb = nc_g_param(g, V, E, NC_INIT_UNIFORM, 1.0f);
    for (size_t l = 0; l < L; l++) {
        size_t in = E + (l + 1) * H;
        W[3 * l] = nc_g_param(g, in, 4 * H, NC_INIT_UNIFORM, 0.05f);
        W[3 * l + 1] = nc_g_param(g, 1, 4 * H, NC_INIT_CONST, 0.0f);
        W[3 * l + 2] = nc_g_param(g, 1, in, NC_INIT_CONST, 1.0f);
    }
    int Wout = nc_g_param(g, L * H, V, NC_INIT_UNIFORM, 0.05f);
    int bout = nc_g_param(g, 1, V, NC_INIT_CONST, 0.0f);
    m->sym = nc_g_index(g, T * S);
    m->tgt = nc_g_index(g, T * S);
    for (size_t l = 0; l < L; l++) {
        m->h0[l] = m->h[l] = nc_g_input(g, S, H);
        m->c0[l] = m->c[l] = nc_g_input(g, S, H);
    }
    int x = nc_g_gather(g, emb, m->sym);
    for (size_t t = 0; t < T; t++) {
        nc_g_step(g, (int)t);
        cat[0] = nc_g_slice_rows(g, x, t * S, S);
        for (size_t l = 0; l < L; l++) {
            int xl = nc_g_concat_cols_n(g, cat, l + 1);
            lstm_cell(g, m, xl, (int)l, W[3 * l], W[3 * l + 1], W[3 * l + 2]);
            cat[l + 1] = m->h[l];
        }
        outs[t] = nc_g_concat_cols_n(g, cat + 1, L);
    }
    nc_g_step(g, -1);
    int hs = nc_g_concat_rows_n(g, outs, T);
    int logits = nc_g_add_bias(g, nc_g_matmul(g, hs, Wout), bout);
    m->logp = nc_g_log_softmax(g, logits);
    m->loss = nc_g_sum_all(g, nc_g_cross_entropy(g, m->logp, m->tgt));
    nc_g_output(g, m->logp);
    nc_g_loss(g, m->loss);
    for (size_t l = 0; l < L; l++) {
        nc_g_state(g, m->h0[l], m->h[l]);
        nc_g_state(g, m->c0[l], m->c[l]);
    }
    free(W), free(outs), free(cat);
    return nc_graph_status(g) == NC_OK ? 0 : -1;
}

/* --preset: the graph of nnzip's lstm model at that level (model/lstm_graph.c), so the figures
 * are those of the shipped preset rather than of the stand-in above. */
static int preset_build(bmodel *m, int level)
{
    static int ids[4 * LSTM_MAX_LAYERS];
    model_config c = {0};
    lstm_cfg k;
    net_ids id;
    const model_ops *ops = model_find_name("lstm");
    if (!ops || ops->preset(&c, level) != NC_OK || lstm_cfg_read(&k, &c) != NC_OK ||
        lstm_graph_build(&m->g, &id, &k) != NC_OK)
        return -1;
    m->S = k.n.streams, m->T = k.n.segment, m->L = k.layers, m->H = k.hidden, m->E = k.embed;
    m->V = k.n.symbols;
    m->sym = id.sym, m->tgt = id.tgt, m->mask = id.mask, m->logp = id.prob, m->loss = id.loss;
    m->h0 = ids, m->c0 = ids + k.layers, m->h = ids + 2 * k.layers, m->c = ids + 3 * k.layers;
    for (size_t l = 0; l < k.layers; l++) {
        m->h0[l] = id.state_in[2 * l], m->c0[l] = id.state_in[2 * l + 1];
        m->h[l] = id.state_out[2 * l], m->c[l] = id.state_out[2 * l + 1];
    }
    return 0;
}

/* Trace hook: sums the time between each instruction's two calls. */
typedef struct timer {
    double t0, sum;
    long calls;
} timer;

static void hook_time(void *ctx, int instr, int phase)
{
    timer *tm = ctx;
    (void)instr;
    double t = bench_now();
    if (phase == 0) {
        tm->t0 = t;
    } else {
        tm->sum += t - tm->t0;
        tm->calls++;
    }
}

static void hook_count(void *ctx, int instr, int phase)
{
    (void)instr;
    if (phase == 0)
        ++*(long *)ctx;
}

/* Seconds per empty hook pair (before + after one instruction), best of 5 loops of 1 M. */
static double hook_cost(void)
{
    void (*volatile fn)(void *, int, int) = hook_time;
    timer tm = {0, 0, 0};
    double best = 1e9;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = bench_now();
        for (int i = 0; i < 1000000; i++) {
            fn(&tm, i, 0);
            fn(&tm, i, 1);
        }
        double d = (bench_now() - t0) / 1e6;
        if (d < best)
            best = d;
    }
    return best;
}

/* The per-timestep program and the buffers the decoder would use. */
typedef struct stepper {
    nc_program *p;
    int *out; /* per state (h0[0..L), c0[0..L)): its value id in the step program */
    float *state;
    const uint32_t *sym;
} stepper;

/* T steps, each: bind this step's symbols, run, copy the state outputs back. */
static int steps_run(stepper *s, const bmodel *m)
{
    size_t n = m->S * m->H;
    for (size_t t = 0; t < m->T; t++) {
        if (nc_program_bind(s->p, m->sym, s->sym + t * m->S) || nc_program_run(s->p, pool))
            return -1;
        for (size_t k = 0; k < 2 * m->L; k++)
            memcpy(s->state + k * n, nc_program_value(s->p, s->out[k]), n * sizeof(float));
    }
    return 0;
}

/* Best, over reps batches, of seconds per training run (runs per batch) or per step (T steps). */
static double time_train(nc_program *p, int runs, int reps)
{
    double best = 1e9;
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now();
        for (int k = 0; k < runs; k++)
            if (nc_program_run(p, pool))
                return -1;
        double d = (bench_now() - t0) / runs;
        if (d < best)
            best = d;
    }
    return best;
}

/* Best, over reps, of seconds per forward half alone (the backward run after each, untimed). */
static double time_forward(nc_program *p, int runs, int reps)
{
    double best = 1e9;
    for (int r = 0; r < reps; r++) {
        double sum = 0;
        for (int k = 0; k < runs; k++) {
            double t0 = bench_now();
            if (nc_program_forward(p, pool))
                return -1;
            sum += bench_now() - t0;
            if (nc_program_backward(p, pool))
                return -1;
        }
        if (sum / runs < best)
            best = sum / runs;
    }
    return best;
}

static double time_steps(stepper *s, const bmodel *m, int reps)
{
    double best = 1e9;
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now();
        if (steps_run(s, m))
            return -1;
        double d = (bench_now() - t0) / (double)m->T;
        if (d < best)
            best = d;
    }
    return best;
}

/* Best over reps of the summed instruction time per training run / per step, with the hook. */
static double time_kernels(nc_program *p, stepper *s, const bmodel *m, int runs, int reps)
{
    timer tm;
    double best = 1e9;
    nc_program_set_trace(p, hook_time, &tm);
    for (int r = 0; r < reps; r++) {
        tm = (timer){0, 0, 0};
        double per;
        if (s) {
            if (steps_run(s, m))
                return -1;
            per = tm.sum / (double)m->T;
        } else {
            for (int k = 0; k < runs; k++)
                if (nc_program_run(p, pool))
                    return -1;
            per = tm.sum / runs;
        }
        if (per < best)
            best = per;
    }
    nc_program_set_trace(p, NULL, NULL);
    return best;
}

static long count_instr(nc_program *p, int forward_only)
{
    long n = 0;
    nc_program_set_trace(p, hook_count, &n);
    nc_status st = forward_only ? nc_program_forward(p, pool) : nc_program_run(p, pool);
    nc_program_set_trace(p, NULL, NULL);
    return st ? -1 : n;
}

static size_t arg_size(const char *s)
{
    long v = atol(s);
    return v > 0 ? (size_t)v : 0;
}

int main(int argc, char **argv)
{
    bmodel m = {.S = 32, .T = 20, .L = 4, .H = 352, .E = 352, .V = 256, .mask = -1};
    int preset = 0;
    int runs = 3, reps = 7;
    double wait_idle = 0;
    int threads = 1;
    for (int i = 1; i < argc; i += 2) { /* options come in pairs: name, value */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            goto usage;
        if (!strcmp(a, "--streams"))
            m.S = arg_size(v);
        else if (!strcmp(a, "--steps"))
            m.T = arg_size(v);
        else if (!strcmp(a, "--layers"))
            m.L = arg_size(v);
        else if (!strcmp(a, "--cells"))
            m.H = arg_size(v);
        else if (!strcmp(a, "--embed"))
            m.E = arg_size(v);
        else if (!strcmp(a, "--preset"))
            preset = atoi(v);
        else if (!strcmp(a, "--runs"))
            runs = atoi(v);
        else if (!strcmp(a, "--reps"))
            reps = atoi(v);
        else if (!strcmp(a, "--threads"))
            threads = atoi(v);
        else if (!strcmp(a, "--wait-idle"))
            wait_idle = atof(v);
        else
            goto usage;
    }
    if (!m.S || !m.T || !m.L || !m.H || !m.E || runs < 1 || reps < 1 || m.T > 32768 ||
        threads < 1 || threads > NC_POOL_MAX_THREADS)
        goto usage;
    if (threads > 1 && !(pool = nc_pool_new(threads))) {
        fprintf(stderr, "nc-graph-bench: cannot start %d threads\n", threads);
        return 1;
    }

    if (preset ? preset_build(&m, preset) : model_build(&m)) {
        fprintf(stderr, "nc-graph-bench: building the graph failed (%s)\n",
                nc_status_str(m.g ? nc_graph_status(m.g) : NC_ERR_NOMEM));
        return 1;
    }
    nc_program *p = NULL, *ps = NULL;
    nc_graph *gs = NULL;
    int *map = malloc((size_t)nc_graph_value_count(m.g) * sizeof *map);
    nc_status st = map ? nc_graph_compile(m.g, NC_COMPILE_GRAD, &p) : NC_ERR_NOMEM;
    if (!st)
        st = nc_graph_timestep(m.g, &gs, map);
    if (!st)
        st = nc_graph_compile(gs, 0, &ps);
    if (st) {
        fprintf(stderr, "nc-graph-bench: compile failed (%s)\n", nc_status_str(st));
        return 1;
    }

    /* data: random symbols and targets, zero states; the step program shares the parameters */
    size_t R = m.T * m.S, SH = m.S * m.H, nparam, n1;
    uint32_t *sym = malloc(R * sizeof *sym), *tgt = malloc(R * sizeof *tgt);
    float *state = calloc(4 * m.L * SH, sizeof *state); /* training inputs, then the stepper's */
    int *outs = malloc(2 * m.L * sizeof *outs);
    if (!sym || !tgt || !state || !outs) {
        fprintf(stderr, "nc-graph-bench: out of memory\n");
        return 1;
    }
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t r = 0; r < R; r++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        sym[r] = (uint32_t)(x >> 56);
        tgt[r] = (uint32_t)(x >> 48) & 255;
    }
    stepper sp = {ps, outs, state + 2 * m.L * SH, sym};
    nc_program_bind(p, m.sym, sym);
    nc_program_bind(p, m.tgt, tgt);
    float *ones = malloc(R * sizeof *ones);
    if (!ones)
        return 1;
    for (size_t r = 0; r < R; r++) ones[r] = 1.0f;
    if (m.mask >= 0) {
        nc_program_bind(p, m.mask, ones);
        nc_program_bind(ps, m.mask, ones);
        nc_program_bind(ps, m.tgt, tgt);
    }
    nc_program_bind(ps, m.sym, sym); /* steps_run rebinds it per step */
    for (size_t l = 0; l < m.L; l++) {
        nc_program_bind(p, m.h0[l], state + l * SH);
        nc_program_bind(p, m.c0[l], state + (m.L + l) * SH);
        nc_program_bind(ps, m.h0[l], sp.state + l * SH);
        nc_program_bind(ps, m.c0[l], sp.state + (m.L + l) * SH);
        outs[l] = map[m.h[l]];
        outs[m.L + l] = map[m.c[l]];
    }
    const float *w = nc_program_params(p, &nparam);
    nc_program_params(ps, &n1);
    if (nc_program_set_params(ps, w, nparam)) {
        fprintf(stderr, "nc-graph-bench: parameter layouts differ (%zu vs %zu)\n", nparam, n1);
        return 1;
    }

    if (wait_idle > 0)
        fprintf(stderr, "nc-graph-bench: other load before start: %.2f cores\n", bench_wait_idle(wait_idle));

    long nins = count_instr(p, 0), nfwd = count_instr(p, 1), nstep = count_instr(ps, 0);
    nc_program_backward(p, pool); /* completes the forward-only count run */
    size_t planned, naive, splanned, snaive;
    nc_program_workspace(p, &planned, &naive);
    nc_program_workspace(ps, &splanned, &snaive);

    double hook = hook_cost();
    /* batches with and without the hook alternate, so a drift of the machine hits both; the
     * spread of the no-hook batches (worst - best) is the noise the overhead is read against */
    double t_run = 1e9, t_kern = 1e9, t_step = 1e9, t_skern = 1e9, w_run = 0, w_step = 0;
    for (int r = 0; r < reps; r++) {
        double a = time_train(p, runs, 1), b = time_kernels(p, NULL, &m, runs, 1);
        double c = time_steps(&sp, &m, 1), d = time_kernels(ps, &sp, &m, runs, 1);
        if (a < 0 || b < 0 || c < 0 || d < 0) {
            t_run = -1;
            break;
        }
        t_run = a < t_run ? a : t_run, w_run = a > w_run ? a : w_run;
        t_kern = b < t_kern ? b : t_kern;
        t_step = c < t_step ? c : t_step, w_step = c > w_step ? c : w_step;
        t_skern = d < t_skern ? d : t_skern;
    }
    if (nins < 0 || nstep < 0 || t_run < 0 || t_kern < 0 || t_step < 0 || t_skern < 0) {
        fprintf(stderr, "nc-graph-bench: a run failed\n");
        return 1;
    }
    double t_fwd = time_forward(p, runs, reps);
    if (t_fwd < 0) {
        fprintf(stderr, "nc-graph-bench: a run failed\n");
        return 1;
    }
    double ovh = t_run - t_kern, sovh = t_step - t_skern;

    printf("## nc-graph-bench: LSTM %zu layers x %zu cells, embedding %zu, alphabet %zu, "
           "S = %zu streams, T = %zu steps, ISA %s, %d thread%s\n\n", m.L, m.H, m.E, m.V, m.S,
           m.T, nc_isa_name(nc_isa_active()), threads, threads > 1 ? "s" : "");
    printf("| figure | training program (fwd + bwd, T·S rows) | per-timestep program (fwd, S rows)"
           " |\n");
    printf("|---|---|---|\n");
    printf("| instructions | %ld (%ld forward + %ld backward) | %ld |\n", nins, nfwd, nins - nfwd,
           nstep);
    printf("| parameters | %zu (%.2f MB) | same allocation |\n", nparam, nparam * 4e-6);
    printf("| workspace planned | %.2f MB (%zu bytes) | %.3f MB (%zu bytes) |\n", planned * 1e-6,
           planned, splanned * 1e-6, splanned);
    printf("| workspace naive (one slot per value) | %.2f MB (%zu bytes) | %.3f MB (%zu bytes) |\n",
           naive * 1e-6, naive, snaive * 1e-6, snaive);
    printf("| planned / naive | %.3f (%.1fx smaller) | %.3f (%.1fx smaller) |\n",
           (double)planned / (double)naive, (double)naive / (double)planned,
           (double)splanned / (double)snaive, (double)snaive / (double)splanned);
    printf("| ms per run / per step, no hook (best of %d) | %.3f | %.4f |\n", reps, t_run * 1e3,
           t_step * 1e3);
    printf("| ms forward half alone (training) vs T steps | %.3f | %.3f (x T = %zu) |\n",
           t_fwd * 1e3, (double)m.T * t_step * 1e3, m.T);
    printf("| ms inside instructions (hook timing) | %.3f | %.4f |\n", t_kern * 1e3,
           t_skern * 1e3);
    printf("| interpreter overhead = run - inside | %.3f ms = %.2f%% of kernel time | %.4f ms = "
           "%.2f%% of kernel time |\n", ovh * 1e3, 100 * ovh / t_kern, sovh * 1e3,
           100 * sovh / t_skern);
    printf("| noise: worst - best of the %d no-hook batches | %.3f ms = %.2f%% | %.4f ms = "
           "%.2f%% |\n",
           reps, (w_run - t_run) * 1e3, 100 * (w_run - t_run) / t_run, (w_step - t_step) * 1e3,
           100 * (w_step - t_step) / t_step);
    printf("| per-instruction overhead | %.0f ns | %.0f ns |\n", 1e9 * ovh / (double)nins,
           1e9 * sovh / (double)nstep);
    /* about half a hook pair (one clock read and one call) falls inside each timed interval */
    double cov = ovh + 0.5 * hook * (double)nins, csov = sovh + 0.5 * hook * (double)nstep;
    printf("| overhead with half the hook cost taken out of the inside time (estimate) | %.3f ms ="
           " %.2f%% | %.4f ms = %.2f%% |\n", cov * 1e3, 100 * cov / (t_kern - (cov - ovh)),
           csov * 1e3, 100 * csov / (t_skern - (csov - sovh)));
    printf("| hook cost (2 empty calls + 2 clock reads) x instructions | %.0f ns x %ld = %.3f ms | "
           "%.0f ns x %ld = %.4f ms |\n", hook * 1e9, nins, hook * (double)nins * 1e3, hook * 1e9,
           nstep, hook * (double)nstep * 1e3);
    printf("| µs per symbol | %.2f (training) | %.2f (decode step) |\n",
           1e6 * t_run / (double)R, 1e6 * t_step / (double)m.S);
    printf("\n- decode / encode cost per segment = (T steps + 1 training run) / (1 training run) ="
           " (%zu x %.3f + %.2f) / %.2f = **%.2f**\n", m.T, t_step * 1e3, t_run * 1e3,
           t_run * 1e3, ((double)m.T * t_step + t_run) / t_run);
    printf("- with the decoder feed (nc_feed: the steps fill the training forward, so only the "
           "backward half runs again) = (%zu x %.3f + %.2f - %.2f) / %.2f = **%.2f** (the feed's "
           "copies not included)\n", m.T, t_step * 1e3, t_run * 1e3, t_fwd * 1e3, t_run * 1e3,
           ((double)m.T * t_step + t_run - t_fwd) / t_run);

    nc_program_free(p);
    nc_program_free(ps);
    nc_graph_free(gs);
    nc_graph_free(m.g);
    nc_pool_free(pool);
    if (!preset)
        free(m.h0);
    free(ones), free(map), free(sym), free(tgt), free(state), free(outs);
    return 0;

usage:
    fprintf(stderr, "usage: nc-graph-bench [--preset LEVEL] [--streams S] [--steps T] [--layers L] [--cells H] "
                    "[--embed E] [--runs N] [--reps R] [--threads N] [--wait-idle SECONDS]\n");
    return 2;
}
