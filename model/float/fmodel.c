/* The float-array predictor (see fmodel.h).
 *
 * Every decision mixes the stretched probabilities of a few adaptive maps (cm/statemap.h) with
 * a logistic mixer (cm/mixer.h) whose weight set is picked by where the decision is (tree node,
 * mantissa bit); the class tree's result is refined by an APM. A map's entries for one value
 * lie together: a context's hash picks a block, the tree node or bit position the entry inside
 * it, so the decisions of one value touch a few cache lines per map. */
#include "fmodel.h"

#include <stdlib.h>
#include <string.h>

#include "cm/apm.h"
#include "cm/hash.h"
#include "cm/mixer.h"
#include "cm/squash.h"
#include "cm/statemap.h"

#define ROW_MAX (1u << 16)   /* rows up to this long have a "value above" context */
#define HASH_BITS 18         /* entries of each hashed map */
#define K_MAPS 4             /* maps of the class tree */
#define M_MAPS 3             /* of the mantissa bits */
#define S_MAPS 3             /* of the sign */
#define N_MAPS (K_MAPS + M_MAPS + S_MAPS)
#define MAX_IN 8
#define P_MIN 32             /* coded probabilities stay in [P_MIN, 65536 - P_MIN] */
#define NONE 64u             /* class of a value that does not exist (no row above) */
#define M_SETS (FM_MIX_BITS * 64) /* mantissa mixer: bit position x class */
#define SM_LIMIT 1023        /* adaptation limit of the mantissa, sign and match maps */
#define SM_LIMIT_K 255       /* of the class tree's maps, which follow the tensors' changes */
#define FM_RATE 16           /* the class tree mixer's learning rate */
#define FM_MIX_BITS 1        /* mantissa bits below the leading one that are mixed (measured:
                              * mixing lower ones loses a little, and costs) */
/* The match model: values repeat (shared or copied tensors, constant rows); a run of three
 * values met before predicts that the value after them comes again. */
#define HIST_BITS 22         /* values of history the match model can reach */
#define MATCH_BITS 18        /* entries of its hash table of positions */
#define MATCH_CTX 64

struct fm {
    int lossless;
    unsigned depth;          /* of the class tree (6: 64 classes) */
    cm_logistic lg;
    cm_recip rc;
    cm_statemap sm[N_MAPS];
    uint32_t size[N_MAPS];
    cm_mixer mk, mm, ms;
    cm_apm apm;
    /* history */
    uint8_t ring[ROW_MAX];   /* class | sign << 7 of recent values, by position mod ROW_MAX */
    int16_t col_ema[ROW_MAX]; /* average class (x16) of each column of the tensor */
    uint64_t pos, row, tensor;
    unsigned a, b, sa, sb;   /* classes and signs of the two previous values */
    int32_t ema, ema_t;      /* averages of the classes (x16): short, and over the tensor */
    /* inputs of the decision being made */
    uint32_t kbase[K_MAPS];  /* the class tree's map blocks for the coming value */
    uint32_t idx[MAX_IN];
    int32_t x[MAX_IN];
    int64_t *hist;           /* (2^HIST_BITS) every value's key, by position */
    uint32_t *match_at;      /* (2^MATCH_BITS) position + 1 after each hashed run of three */
    uint64_t gpos, mptr;     /* values so far (all tensors); the predicted value's position */
    uint32_t mlen;           /* values matched, 0: no prediction */
    unsigned last_flip;      /* the last matched value's sign was flipped */
    cm_statemap xsm;         /* lossless: the exponents of the two open-ended classes */
    uint32_t xsm_p[2 * 128];
    uint16_t xsm_n[2 * 128];
    cm_statemap msm, fsm;    /* magnitude hit; sign flipped */
    uint32_t msm_p[MATCH_CTX], fsm_p[32];
    uint16_t msm_n[MATCH_CTX], fsm_n[32];
    void *region;
};

static void next_bases(fm *m);

static uint32_t map_sizes(uint32_t size[N_MAPS])
{
    uint32_t total = 0;
    const uint32_t h = 1u << HASH_BITS;
    /* class tree, hashed: (above, prev), (tensor, prev), (column avg, short avg),
     * (long avg, short avg). Measured on ../shared/floats: node x prev, (prev, prev2) and
     * node x short avg gained under 0.005 bits a value beside these, so they are left out. */
    const uint32_t k[K_MAPS] = { h, h, h, h };
    /* mantissa: class x bit x prefix; hashed (tensor, class, bit, prefix), (above, ...) */
    const uint32_t mm[M_MAPS] = { 256 * 64 * 8, h, h };
    /* sign: signs of the previous two x class; hashed (tensor, column); (above sign, class) */
    const uint32_t s[S_MAPS] = { 4 * 256, h, 3 * 256 };
    for (int i = 0; i < K_MAPS; i++)
        size[i] = k[i];
    for (int i = 0; i < M_MAPS; i++)
        size[K_MAPS + i] = mm[i];
    for (int i = 0; i < S_MAPS; i++)
        size[K_MAPS + M_MAPS + i] = s[i];
    for (int i = 0; i < N_MAPS; i++)
        total += size[i];
    return total;
}

static uint64_t region_bytes(uint64_t *weights, uint64_t *apm)
{
    uint32_t size[N_MAPS], nodes = 64;
    uint64_t entries = map_sizes(size);
    *weights = (uint64_t)(nodes * MAX_IN + M_SETS * MAX_IN + 256 * MAX_IN) * sizeof(int32_t);
    *apm = (uint64_t)nodes * 65 * 33 * sizeof(uint16_t);
    return entries * (sizeof(uint32_t) + sizeof(uint16_t)) + *weights + *apm
           + (sizeof(int64_t) << HIST_BITS) + (sizeof(uint32_t) << MATCH_BITS);
}

uint64_t fm_memory(int lossless)
{
    uint64_t w, a;
    (void)lossless; /* both modes use the same tables */
    return sizeof(fm) + region_bytes(&w, &a);
}

nc_status fm_new(fm **out, int lossless)
{
    *out = NULL;
    fm *m = calloc(1, sizeof *m);
    uint64_t wbytes, abytes, total = m ? region_bytes(&wbytes, &abytes) : 0;
    /* calloc: the history and match tables start all zero, their pages touched only as used */
    uint8_t *r = m ? calloc(1, (size_t)total) : NULL;
    if (!r) {
        free(m);
        return NC_ERR_NOMEM;
    }
    m->region = r;
    m->lossless = lossless;
    m->depth = 6;
    uint32_t nodes = 1u << m->depth;
    cm_logistic_init(&m->lg);
    cm_recip_init(&m->rc);
    map_sizes(m->size);
    uint32_t *p = (uint32_t *)r;
    uint32_t entries = 0;
    for (int i = 0; i < N_MAPS; i++)
        entries += m->size[i];
    uint16_t *n = (uint16_t *)(p + entries);
    for (int i = 0; i < N_MAPS; i++) {
        cm_statemap_init(&m->sm[i], p, n, m->size[i], i < K_MAPS ? SM_LIMIT_K : SM_LIMIT);
        p += m->size[i];
        n += m->size[i];
    }
    int32_t *w = (int32_t *)n; /* n is 4-byte aligned: entries is even */
    cm_mixer_init(&m->mk, w, K_MAPS + 1, nodes, FM_RATE, 65536 / 4);
    w += nodes * MAX_IN;
    cm_mixer_init(&m->mm, w, M_MAPS + 1, M_SETS, 6, 65536 / 2);
    w += M_SETS * MAX_IN;
    cm_mixer_init(&m->ms, w, S_MAPS + 1, 256, 6, 65536 / 2);
    w += 256 * MAX_IN;
    cm_apm_init(&m->apm, (uint16_t *)w, nodes * 65, 7, &m->lg);
    m->hist = (int64_t *)(r + (total - (sizeof(int64_t) << HIST_BITS) - (sizeof(uint32_t) << MATCH_BITS)));
    m->match_at = (uint32_t *)(m->hist + (1u << HIST_BITS));
    cm_statemap_init(&m->msm, m->msm_p, m->msm_n, MATCH_CTX, SM_LIMIT);
    cm_statemap_init(&m->fsm, m->fsm_p, m->fsm_n, 32, SM_LIMIT);
    cm_statemap_init(&m->xsm, m->xsm_p, m->xsm_n, 2 * 128, SM_LIMIT);
    next_bases(m);
    *out = m;
    return NC_OK;
}

void fm_free(fm *m)
{
    if (m)
        free(m->region);
    free(m);
}

void fm_tensor(fm *m, uint64_t row)
{
    m->tensor++;
    m->pos = 0;
    m->row = row <= ROW_MAX ? row : 0;
    m->ema_t = m->ema;
    for (uint64_t c = 0; c < m->row; c++)
        m->col_ema[c] = (int16_t)m->ema;
    next_bases(m);
}

/* A hashed map's block for context h, blocks of `block` entries (a power of two). */
static uint32_t block_of(const fm *m, int map, uint64_t h, uint32_t block)
{
    return (uint32_t)(cm_mix64(h) & (m->size[map] - 1)) & ~(block - 1);
}

/* cm_mixer_dot and cm_mixer_learn (cm/mixer.h) for this model's five or four inputs, inline
 * and scalar: the same integer arithmetic, so the same bits, without the call and vector set-up
 * that cost more than the sums at this width (measured: a fifth of decoding's time). */
static inline int32_t mix_dot(cm_mixer *mx, const int32_t *x, uint32_t set)
{
    const int32_t *w = mx->sel = mx->w + (uint64_t)set * mx->n;
    int32_t sum = 0;
    for (uint32_t i = 0; i < mx->n; i++)
        sum += (w[i] * x[i]) >> 8;
    sum >>= 8;
    return sum > CM_ST_MAX ? CM_ST_MAX : sum < -CM_ST_MAX ? -CM_ST_MAX : sum;
}

static inline void mix_learn(cm_mixer *mx, const int32_t *x, uint32_t p16, int y)
{
    const int32_t lim = 1 << 19;
    int32_t err = (((int32_t)y << 12) - (int32_t)(p16 >> 4)) * mx->rate;
    err = err > lim ? lim : err < -lim ? -lim : err;
    for (uint32_t i = 0; i < mx->n; i++) {
        int32_t v = mx->sel[i] + ((x[i] * err + 32768) >> 16);
        mx->sel[i] = v > lim ? lim : v < -lim ? -lim : v;
    }
}

/* One decision from the maps maps[0 .. n) at entries idx (already in m->idx), mixer mx with
 * weight set set; learns the bit and returns it. */
static int decide(fm *m, const int *maps, unsigned n, cm_mixer *mx, uint32_t set, cm_apm *apm,
                  uint32_t apm_cx, int bit, fm_io io, void *ctx)
{
    for (unsigned i = 0; i < n; i++)
        m->x[i] = cm_stretch(&m->lg, cm_statemap_p(&m->sm[maps[i]], m->idx[i]));
    m->x[n] = 256;
    uint32_t pm = cm_squash(&m->lg, mix_dot(mx, m->x, set)), p = pm;
    if (apm)
        p = (pm + cm_apm_p(apm, &m->lg, pm, apm_cx)) >> 1;
    p = p < P_MIN ? P_MIN : p > 65536 - P_MIN ? 65536 - P_MIN : p;
    bit = io(ctx, bit, p);
    for (unsigned i = 0; i < n; i++)
        cm_statemap_update(&m->sm[maps[i]], &m->rc, m->idx[i], bit);
    mix_learn(mx, m->x, pm, bit);
    if (apm)
        cm_apm_learn(apm, bit);
    return bit;
}

/* The class used in contexts (0 .. 63) of magnitude class k. */
static unsigned cls_of(const fm *m, unsigned k)
{
    if (!m->lossless)
        return k;
    return k == 0 ? 0 : k < 90 ? 1 : k >= 143 ? 63 : k - 88;
}

static unsigned above(const fm *m)
{
    return m->row && m->pos >= m->row ? m->ring[(m->pos - m->row) % ROW_MAX] : NONE | 0x80u;
}

static unsigned column(const fm *m)
{
    return m->row > 1 ? (unsigned)(m->pos % m->row) : 0;
}

/* The class tree's map blocks for the next value, from its contexts, and their first cache
 * lines fetched ahead: computed as soon as the value before is known. */
static void next_bases(fm *m)
{
    unsigned nodes = 1u << m->depth, up = above(m) & 0x7F;
    uint32_t es = (uint32_t)m->ema >> 2, et = (uint32_t)m->ema_t >> 4;
    uint32_t ce = m->row > 1 ? (uint32_t)m->col_ema[column(m)] >> 2 : 1023;
    uint32_t *b = m->kbase;
    b[0] = block_of(m, 0, 1ull << 40 | (uint64_t)up << 8 | m->a, nodes);
    b[1] = block_of(m, 1, 2ull << 40 | m->tensor << 8 | m->a, nodes);
    b[2] = block_of(m, 2, 3ull << 40 | (uint64_t)ce << 12 | es, nodes);
    b[3] = block_of(m, 3, 4ull << 40 | (uint64_t)et << 8 | es >> 2, nodes);
    for (int i = 0; i < K_MAPS; i++) {
        __builtin_prefetch(&m->sm[i].p[b[i]]);
        __builtin_prefetch(&m->sm[i].n[b[i]]);
    }
}

static unsigned code_class(fm *m, unsigned k, fm_io io, void *ctx)
{
    static const int maps[K_MAPS] = { 0, 1, 2, 3 };
    unsigned nodes = 1u << m->depth;
    const uint32_t *base = m->kbase;
    unsigned node = 1;
    for (unsigned d = 0; d < m->depth; d++) {
        int bit = (int)(k >> (m->depth - 1 - d) & 1);
        for (int i = 0; i < K_MAPS; i++)
            m->idx[i] = base[i] + node;
        bit = decide(m, maps, K_MAPS, &m->mk, node, &m->apm, m->a * nodes + node, bit, io, ctx);
        node = node * 2 + (unsigned)bit;
    }
    return node - nodes;
}

static int code_sign(fm *m, unsigned k, int s, fm_io io, void *ctx)
{
    static const int maps[S_MAPS] = { K_MAPS + M_MAPS, K_MAPS + M_MAPS + 1, K_MAPS + M_MAPS + 2 };
    unsigned up = above(m), c = cls_of(m, k);
    unsigned up_sign = (up & 0x7F) == NONE ? 2 : up >> 7;
    m->idx[0] = (m->sa * 2 + m->sb) * 256 + c;
    m->idx[1] = block_of(m, K_MAPS + M_MAPS + 1, 5ull << 40 | m->tensor << 20 | column(m), 1);
    m->idx[2] = up_sign * 256 + c;
    return decide(m, maps, S_MAPS, &m->ms, c * 4 + m->sa * 2 + m->sb, NULL, 0, s, io, ctx);
}

/* The nbits bits of v below its leading one (lossy) or of the mantissa (lossless), most
 * significant first. */
static uint64_t code_mantissa(fm *m, unsigned k, unsigned nbits, uint64_t v, fm_io io, void *ctx)
{
    static const int maps[M_MAPS] = { K_MAPS, K_MAPS + 1, K_MAPS + 2 };
    unsigned c = cls_of(m, k), up = above(m) & 0x7F;
    uint32_t bt = block_of(m, K_MAPS + 1, 6ull << 40 | m->tensor << 16 | k, 512),
             bu = block_of(m, K_MAPS + 2, 7ull << 40 | (uint64_t)up << 16 | k, 512);
    uint64_t out = 0;
    for (unsigned j = 0; j < nbits; j++) {
        unsigned jj = j < 63 ? j : 63, pfx = j < 3 ? (unsigned)(out | 1u << j) & 7 : 0;
        int bit = (int)(v >> (nbits - 1 - j) & 1);
        m->idx[0] = ((k & 255) * 64 + jj) * 8 + pfx;
        if (j >= FM_MIX_BITS) {
            /* the low bits are close to uniform: one map, no mixing, a third of the work */
            cm_statemap *sm = &m->sm[K_MAPS];
            uint32_t p = cm_statemap_p(sm, m->idx[0]);
            p = p < P_MIN ? P_MIN : p > 65536 - P_MIN ? 65536 - P_MIN : p;
            bit = io(ctx, bit, p);
            cm_statemap_update(sm, &m->rc, m->idx[0], bit);
            out = out << 1 | (uint64_t)bit;
            continue;
        }
        m->idx[1] = bt + (jj * 8 + pfx) % 512;
        m->idx[2] = bu + (jj * 8 + pfx) % 512;
        uint32_t set = j * 64 + c; /* j < FM_MIX_BITS here */
        bit = decide(m, maps, M_MAPS, &m->mm, set, NULL, 0, bit, io, ctx);
        out = out << 1 | (uint64_t)bit;
    }
    return out;
}

static void learn_value(fm *m, unsigned k, int s)
{
    unsigned c = cls_of(m, k);
    m->ring[m->pos % ROW_MAX] = (uint8_t)(c | (unsigned)s << 7);
    m->pos++;
    m->b = m->a;
    m->a = c;
    m->sb = m->sa;
    m->sa = (unsigned)s;
    if (m->row > 1) {
        int16_t *ce = &m->col_ema[(m->pos - 1) % m->row];
        *ce = (int16_t)(*ce + ((int32_t)(c << 4) - *ce) / 4);
    }
    m->ema += ((int32_t)(c << 4) - m->ema) / 8;
    m->ema_t += ((int32_t)(c << 4) - m->ema_t) / 64;
    next_bases(m);
}

#define HIST_MASK ((1u << HIST_BITS) - 1)
#define ESC_KEY (1ll << 62) /* lossy: an exception's key is this | its 32 bits */

static void code_q(fm *m, fm_io io, void *ctx, int *esc, int64_t *q, uint32_t *raw);
static void code_bits(fm *m, fm_io io, void *ctx, uint32_t *bits);

/* The magnitude part of a key (the sign taken off; an exception's key is all magnitude), and
 * its sign. Matches compare magnitudes: tables of sines and cosines, and the halves of
 * symmetric filters, repeat a run of values with some signs flipped. */
static int64_t key_mag(const fm *m, int64_t key)
{
    if (m->lossless)
        return key & 0x7FFFFFFF;
    return key >= ESC_KEY ? key : key < 0 ? -key : key;
}

static int key_sign(const fm *m, int64_t key)
{
    return m->lossless ? (int)(key >> 31 & 1) : key < 0;
}

static int64_t key_with_sign(const fm *m, int64_t mag, int s)
{
    if (m->lossless)
        return mag | (int64_t)s << 31;
    return s ? -mag : mag;
}

/* With a match: code whether the value's magnitude is the predicted one, then whether its
 * sign is flipped. 1 and *key when the magnitude is. */
static int match_code(fm *m, fm_io io, void *ctx, int64_t enc_key, int64_t *key)
{
    if (!m->mlen)
        return 0;
    int64_t pred = m->hist[m->mptr & HIST_MASK], mag = key_mag(m, pred);
    uint32_t cx = (m->mlen < 15 ? m->mlen : 15) * 4 + (mag == 0) * 2 + m->last_flip;
    uint32_t p = cm_statemap_p(&m->msm, cx);
    p = p < P_MIN ? P_MIN : p > 65536 - P_MIN ? 65536 - P_MIN : p;
    int hit = io(ctx, key_mag(m, enc_key) == mag, p);
    cm_statemap_update(&m->msm, &m->rc, cx, hit);
    if (!hit)
        return 0;
    int ps = key_sign(m, pred), s = ps;
    if (m->lossless || (mag != 0 && pred < ESC_KEY)) {
        uint32_t fx = m->last_flip * 16 + (m->mlen < 15 ? m->mlen : 15);
        uint32_t pf = cm_statemap_p(&m->fsm, fx);
        pf = pf < P_MIN ? P_MIN : pf > 65536 - P_MIN ? 65536 - P_MIN : pf;
        int flip = io(ctx, key_sign(m, enc_key) != ps, pf);
        cm_statemap_update(&m->fsm, &m->rc, fx, flip);
        m->last_flip = (unsigned)flip;
        s = ps ^ flip;
    }
    *key = key_with_sign(m, mag, s);
    return 1;
}

/* The run of three magnitudes that ends at position end - 1, hashed: the table's slot, and
 * the 8-bit check kept with the position. */
static uint32_t run_hash(const fm *m, uint64_t end, uint32_t *check)
{
    uint64_t h = cm_mix64((uint64_t)key_mag(m, m->hist[(end - 1) & HIST_MASK]) * 0x9E3779B97F4A7C15ull
                          ^ cm_mix64((uint64_t)key_mag(m, m->hist[(end - 2) & HIST_MASK])
                                     ^ cm_mix64((uint64_t)key_mag(m, m->hist[(end - 3) & HIST_MASK]))));
    *check = (uint32_t)(h & 0xFF);
    return (uint32_t)(h >> (64 - MATCH_BITS));
}

/* After each value: its key into the history, and the match followed or looked for. A run is
 * looked up one value after it ends, so its table entry (fetched ahead) is in the cache by
 * then; a match found so is checked on four values, the run and the value after it. Entries
 * hold a position mod 2^24 (the history reaches 2^22 back) and the run's 8-bit check. */
static void match_learn(fm *m, int64_t key)
{
    int64_t pred = m->mlen ? key_mag(m, m->hist[m->mptr & HIST_MASK]) : 0, mag = key_mag(m, key);
    m->hist[m->gpos & HIST_MASK] = key;
    m->gpos++;
    if (m->mlen && pred == mag) {
        m->mlen++;
        m->mptr++;
    } else {
        m->mlen = 0;
    }
    if (m->gpos < 4)
        return;
    uint64_t now = m->gpos - 1; /* the value just coded follows the run ending at now - 1 */
    uint32_t check, h = run_hash(m, now, &check), e = m->match_at[h];
    if (!m->mlen && e && e >> 24 == check) {
        uint64_t c = now - ((now - (e & 0xFFFFFF)) & 0xFFFFFF); /* the earlier run's follower */
        if (c >= 3 && c < now && now - c < HIST_MASK - 4
            && key_mag(m, m->hist[c & HIST_MASK]) == mag
            && key_mag(m, m->hist[(c - 1) & HIST_MASK]) == key_mag(m, m->hist[(now - 1) & HIST_MASK])
            && key_mag(m, m->hist[(c - 2) & HIST_MASK]) == key_mag(m, m->hist[(now - 2) & HIST_MASK])
            && key_mag(m, m->hist[(c - 3) & HIST_MASK]) == key_mag(m, m->hist[(now - 3) & HIST_MASK])) {
            m->mptr = c + 1;
            m->mlen = 1;
        }
    }
    m->match_at[h] = check << 24 | (uint32_t)(now & 0xFFFFFF);
    /* the run ending with this value, looked up after the next one */
    __builtin_prefetch(&m->match_at[run_hash(m, m->gpos, &check)]);
}

/* The class and sign of a key, for the contexts of the values after a matched one. */
static void learn_key(fm *m, int64_t key)
{
    if (m->lossless) {
        learn_value(m, (unsigned)(key >> 23 & 0xFF), (int)(key >> 31 & 1));
        return;
    }
    if (key >= ESC_KEY) {
        learn_value(m, 0, 0);
        return;
    }
    uint64_t mag = key < 0 ? (uint64_t)-key : (uint64_t)key;
    unsigned k = 0;
    while (k < 64 && mag >> k)
        k++;
    learn_value(m, k, key < 0);
}

void fm_code_q(fm *m, fm_io io, void *ctx, int *esc, int64_t *q, uint32_t *raw)
{
    int64_t key = *esc ? ESC_KEY | *raw : *q, got;
    if (match_code(m, io, ctx, key, &got)) {
        *esc = got >= ESC_KEY; /* |q| < 2^52: only an exception's key is that large */
        *raw = (uint32_t)got;
        *q = *esc ? 0 : got;
        learn_key(m, got);
        match_learn(m, got);
        return;
    }
    code_q(m, io, ctx, esc, q, raw);
    match_learn(m, *esc ? ESC_KEY | *raw : *q);
}

void fm_code_bits(fm *m, fm_io io, void *ctx, uint32_t *bits)
{
    int64_t got;
    if (match_code(m, io, ctx, *bits, &got)) {
        *bits = (uint32_t)got;
        learn_key(m, got);
        match_learn(m, got);
        return;
    }
    code_bits(m, io, ctx, bits);
    match_learn(m, *bits);
}

static void code_q(fm *m, fm_io io, void *ctx, int *esc, int64_t *q, uint32_t *raw)
{
    unsigned k = 0;
    uint64_t mag = 0;
    if (*esc) {
        k = FM_K_ESCAPE;
    } else if (*q) {
        mag = *q < 0 ? (uint64_t)-*q : (uint64_t)*q;
        for (k = 1; k < 64 && mag >> k; k++)
            ;
    }
    k = code_class(m, k, io, ctx);
    if (k == FM_K_ESCAPE) {
        uint32_t v = 0;
        for (int i = 31; i >= 0; i--)
            v = v << 1 | (uint32_t)io(ctx, (int)(*raw >> i & 1), 32768);
        *esc = 1;
        *raw = v;
        *q = 0;
        learn_value(m, 0, 0);
        return;
    }
    *esc = 0;
    if (k == 0) {
        *q = 0;
        learn_value(m, 0, 0);
        return;
    }
    if (k > 53)
        k = 53; /* a corrupt stream: still a value in range, and the checksum fails */
    int s = code_sign(m, k, *q < 0, io, ctx);
    uint64_t low = code_mantissa(m, k, k - 1, mag, io, ctx);
    uint64_t v = 1ull << (k - 1) | low;
    *q = s ? -(int64_t)v : (int64_t)v;
    learn_value(m, k, s);
}

/* Lossless: the exponent field as its class (cls_of), and within the two classes that hold
 * more than one exponent (1 ... 89, 143 ... 255: rare in weights) its offset in 7 bits. */
static unsigned code_exponent(fm *m, unsigned e, fm_io io, void *ctx)
{
    unsigned c = code_class(m, cls_of(m, e), io, ctx);
    if (c != 1 && c != 63)
        return c == 0 ? 0 : c + 88;
    unsigned first = c == 1 ? 1 : 143, last = c == 1 ? 89 : 255, off = e - first, node = 1;
    uint32_t base = c == 1 ? 0 : 128;
    for (int i = 6; i >= 0; i--) {
        uint32_t p = cm_statemap_p(&m->xsm, base + node);
        p = p < P_MIN ? P_MIN : p > 65536 - P_MIN ? 65536 - P_MIN : p;
        int bit = io(ctx, (int)(off >> i & 1), p);
        cm_statemap_update(&m->xsm, &m->rc, base + node, bit);
        node = node * 2 + (unsigned)bit;
    }
    e = first + (node - 128);
    return e <= last ? e : last; /* a corrupt stream: the checksum tells */
}

static void code_bits(fm *m, fm_io io, void *ctx, uint32_t *bits)
{
    uint32_t b = *bits;
    unsigned k = code_exponent(m, b >> 23 & 0xFF, io, ctx);
    int s = code_sign(m, k, (int)(b >> 31), io, ctx);
    uint32_t man = (uint32_t)code_mantissa(m, k, 23, b & 0x7FFFFF, io, ctx);
    *bits = (uint32_t)s << 31 | k << 23 | man;
    learn_value(m, k, s);
}
