/* fmodel: the float-array mode's predictor (coder/float/fcodec.c drives it).
 *
 * Each value is coded as binary decisions, mixed from adaptive maps in contexts that fit
 * network weights: its magnitude class K (lossy: the bit length of the grid integer |q|, 0 for
 * q = 0, FM_K_ESCAPE for an exception; lossless: the float's exponent field) through a binary
 * tree, then the sign, then the bits below the leading one (lossy) or the 23 mantissa bits
 * (lossless). Contexts: the classes of the two previous values and of the value one row up
 * (the row being the tensor's last dimension), short- and long-term averages of the classes,
 * the tensor, and the column (a channel in most layouts). Everything is integer arithmetic,
 * so encoder and decoder agree on every machine.
 *
 * The model does not know the coder: it calls io for each decision, which codes the bit given
 * (encoder) or decodes one (decoder), and returns it. */
#ifndef NNZIP_MODEL_FLOAT_FMODEL_H
#define NNZIP_MODEL_FLOAT_FMODEL_H

#include <stdint.h>

#include "nc/nc.h"

#define FM_K_ESCAPE 63u /* lossy: an exception, its 32 bits follow */

/* Code bit (0/1; ignored by a decoder) with probability p16 / 2^16 of a 1; returns the bit. */
typedef int (*fm_io)(void *ctx, int bit, uint32_t p16);

typedef struct fm fm;

nc_status fm_new(fm **out, int lossless);
void fm_free(fm *m); /* NULL is fine */
/* Bytes fm_new allocates. */
uint64_t fm_memory(int lossless);

/* The next values are a new tensor whose rows hold row values (0: not known). */
void fm_tensor(fm *m, uint64_t row);

/* Lossy: code one value, an integer q (|q| < 2^52) or, with *esc set, the 32 bits *raw.
 * Decoding, the three are outputs. */
void fm_code_q(fm *m, fm_io io, void *ctx, int *esc, int64_t *q, uint32_t *raw);
/* Lossless: code the 32 bits of one float. */
void fm_code_bits(fm *m, fm_io io, void *ctx, uint32_t *bits);

#endif
