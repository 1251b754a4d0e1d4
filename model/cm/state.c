/* The bit-history state machine (see state.h). */
#include "state.h"

#include <assert.h>
#include <string.h>

#define CM_N_MAX 40 /* the largest count */

/* The largest the bigger count may be when the smaller is m. */
static unsigned limit(unsigned m)
{
    static const uint8_t lim[] = { CM_N_MAX, 24, 14, 9, 7, 6 };
    return m < sizeof lim ? lim[m] : 0;
}

static int allowed(unsigned a, unsigned b)
{
    unsigned lo = a < b ? a : b, hi = a < b ? b : a;
    return lo < 6 && hi <= limit(lo);
}

/* The last bit is kept only while both counts are non-zero and their sum is small. */
static int keeps_last(unsigned n0, unsigned n1)
{
    return n0 > 0 && n1 > 0 && n0 + n1 <= 7;
}

static unsigned key(unsigned n0, unsigned n1, unsigned last)
{
    return (n0 * 64 + n1) * 2 + (keeps_last(n0, n1) ? last : 0);
}

void cm_states_init(cm_states *t)
{
    int16_t index[64 * 64 * 2];
    memset(t, 0, sizeof *t);
    for (unsigned i = 0; i < sizeof index / sizeof index[0]; i++)
        index[i] = -1;
    index[key(0, 0, 0)] = 0;
    t->count = 1;
    for (unsigned s = 0; s < t->count; s++) { /* breadth first: the queue is the table itself */
        for (unsigned y = 0; y < 2; y++) {
            unsigned a = y ? t->n1[s] : t->n0[s], b = y ? t->n0[s] : t->n1[s]; /* a grows */
            a++;
            if (b > 2)
                b = b / 2 + 1;
            while (!allowed(a, b)) {
                if (b == 0)
                    a--; /* a run at its bound */
                else
                    b--; /* the other count gives way */
            }
            unsigned n0 = y ? b : a, n1 = y ? a : b;
            unsigned k = key(n0, n1, y);
            if (index[k] < 0) {
                assert(t->count < 256);
                index[k] = (int16_t)t->count;
                t->n0[t->count] = (uint8_t)n0;
                t->n1[t->count] = (uint8_t)n1;
                t->count++;
            }
            t->next[s][y] = (uint8_t)index[k];
        }
    }
}
