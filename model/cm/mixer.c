/* Logistic mixer with context-selected weight sets (see mixer.h).
 *
 * The two loops are exact integer arithmetic, so any evaluation order and vector width gives the
 * same bits: they are compiled once portably (_ref) and, on x86-64 with GCC or Clang, once more
 * for AVX2 (_avx2: 8 lanes with native 32-bit multiply, min and max), chosen when nc's active
 * ISA is AVX2 or better (NNZIP_ISA=ref forces the portable one; tests compare the two). */
#include "mixer.h"

#include "nc/nc.h"

#define W_MAX (1 << 19)
#define ERR_MAX (1 << 19)

_Static_assert((-3 >> 1) == -2, "the mixers need an arithmetic right shift of negative values");

/* sum_i (w_i x_i >> 8), then >> 8: |w x| <= 2^19 * 2^11 fits in 32 bits, and so does a sum of up
 * to 2^9 of them after the shift. */
static inline int32_t dot_body(const int32_t *restrict w, const int32_t *restrict x, uint32_t n)
{
    int32_t sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += (w[i] * x[i]) >> 8;
    return sum >> 8;
}

/* w_i += (x_i err + 2^15) >> 16, clamped: |x err| <= 2^11 * 2^19 fits in 32 bits. */
static inline void learn_body(int32_t *restrict w, const int32_t *restrict x, uint32_t n, int32_t err)
{
    for (uint32_t i = 0; i < n; i++) {
        int32_t v = w[i] + ((x[i] * err + 32768) >> 16);
        w[i] = v > W_MAX ? W_MAX : v < -W_MAX ? -W_MAX : v;
    }
}

static int32_t dot_ref(const int32_t *w, const int32_t *x, uint32_t n)
{
    return dot_body(w, x, n);
}

static void learn_ref(int32_t *w, const int32_t *x, uint32_t n, int32_t err)
{
    learn_body(w, x, n, err);
}

#if defined(__x86_64__) && defined(__GNUC__)
#define CM_HAVE_AVX2 1
__attribute__((target("avx2"))) static int32_t dot_avx2(const int32_t *w, const int32_t *x, uint32_t n)
{
    return dot_body(w, x, n);
}

__attribute__((target("avx2"))) static void learn_avx2(int32_t *w, const int32_t *x, uint32_t n,
                                                        int32_t err)
{
    learn_body(w, x, n, err);
}
#endif

void cm_mixer_init(cm_mixer *m, int32_t *w, uint32_t n, uint32_t sets, int32_t rate, int32_t init)
{
    m->w = w;
    m->n = n;
    m->sets = sets;
    m->rate = rate;
    m->sel = w;
    m->simd = 0;
#ifdef CM_HAVE_AVX2
    m->simd = nc_isa_active() != NC_ISA_REF;
#endif
    for (uint64_t i = 0; i < (uint64_t)n * sets; i++)
        w[i] = init;
}

int32_t cm_mixer_dot(cm_mixer *m, const int32_t *x, uint32_t s)
{
    const int32_t *w = m->sel = m->w + (uint64_t)s * m->n;
#ifdef CM_HAVE_AVX2
    int32_t sum = m->simd ? dot_avx2(w, x, m->n) : dot_ref(w, x, m->n);
#else
    int32_t sum = dot_ref(w, x, m->n);
#endif
    return sum > CM_ST_MAX ? CM_ST_MAX : sum < -CM_ST_MAX ? -CM_ST_MAX : sum;
}

void cm_mixer_learn(cm_mixer *m, const int32_t *x, uint32_t p16, int y)
{
    int32_t err = (((int32_t)y << 12) - (int32_t)(p16 >> 4)) * m->rate;
    err = err > ERR_MAX ? ERR_MAX : err < -ERR_MAX ? -ERR_MAX : err;
#ifdef CM_HAVE_AVX2
    if (m->simd) {
        learn_avx2(m->sel, x, m->n, err);
        return;
    }
#endif
    learn_ref(m->sel, x, m->n, err);
}
