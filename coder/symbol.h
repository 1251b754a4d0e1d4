/* symbol: code one symbol of an alphabet of 2..65536 from float weights.
 *
 * Models give non-negative float weights (probabilities, or anything proportional to them).
 * rc_quantize turns them into an integer table with total RC_TOTAL in which every symbol has a
 * frequency of at least 1, so every symbol stays codable whatever the model says. The mapping
 * uses only IEEE single-precision operations in a fixed order plus integer arithmetic, so the
 * encoder and the decoder build the same table bit for bit (docs/format.md gives the exact
 * algorithm).
 *
 * Alphabets larger than RC_DIRECT_MAX symbols are coded in two stages -- the group of 256
 * symbols, then the symbol inside it -- so a frequency floor of 1 in 65536 never swamps the
 * model's probabilities. */
#ifndef NNZIP_CODER_SYMBOL_H
#define NNZIP_CODER_SYMBOL_H

#include <stdint.h>

#include "rc.h"

#define RC_DIRECT_MAX 4096u
#define RC_GROUP 256u
#define RC_MAX_SYMBOLS 65536u

/* freq (n) from w (n), 1 <= n <= RC_DIRECT_MAX: every freq >= 1 and the sum is RC_TOTAL.
 * Weights that are negative or NaN count as 0; if none is positive and finite in sum, the
 * table is uniform. Returns the most probable symbol (the first of the largest frequencies).
 *
 * In code space the most probable symbol is placed last, after the others in index order: the
 * range coder gives the last symbol the remainder of its truncated division, and that gain is
 * worth most where the probability is highest (it cuts the overhead on very predictable data
 * by an order of magnitude). */
uint32_t rc_quantize(uint32_t *freq, const float *w, uint32_t n);

/* Working space for one symbol; callers keep one per coder so coding never allocates. */
typedef struct rc_scratch {
    uint32_t freq[RC_DIRECT_MAX];
    float group_w[RC_GROUP];
} rc_scratch;

/* Code sym (< n) with weights w (n), 2 <= n <= RC_MAX_SYMBOLS. */
void rc_encode_symbol(rc_encoder *e, const float *w, uint32_t n, uint32_t sym, rc_scratch *s);
uint32_t rc_decode_symbol(rc_decoder *d, const float *w, uint32_t n, rc_scratch *s);

#endif
