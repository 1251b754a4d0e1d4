/* Order-2 context counts blended down to order 1 and 0: the statistics of the order2 model,
 * also the count prior of the lstm model. Integer counts and binary32 arithmetic in a fixed
 * order (docs/format.md, "order2"): identical on every machine. */
#ifndef NNZIP_MODEL_O2COUNTS_H
#define NNZIP_MODEL_O2COUNTS_H

#include <stdint.h>

#include "nc/nc.h"

typedef struct o2counts {
    uint32_t limit2, limit1;
    uint8_t *c2;             /* (65536, 256): counts after each two-byte context */
    uint16_t *n2, *d2;       /* (65536): totals and distinct symbols per context */
    uint16_t c1[256][256];   /* after each one-byte context */
    uint32_t n1[256], d1[256];
    uint32_t c0[256], n0;
} o2counts;

/* A new zeroed table (untouched contexts cost no physical memory); NULL if out of memory. */
o2counts *o2_new(uint32_t limit2, uint32_t limit1);
void o2_free(o2counts *o);
/* Weights of the 256 byte values after the bytes h2, h1 (h1 the most recent). */
void o2_weights(const o2counts *o, unsigned h2, unsigned h1, float *w);
/* Count byte s after h2, h1. */
void o2_count(o2counts *o, unsigned h2, unsigned h1, unsigned s);
/* Bytes of the tables. */
uint64_t o2_bytes(void);

#endif
