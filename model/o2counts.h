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
    /* optional order 3 (o2_new_order3): hashed three-byte contexts */
    uint8_t *c3;             /* (O3_CONTEXTS, 256) */
    uint16_t *n3, *d3;
    /* optional order 4 (o2_add_order4, after order 3): hashed four-byte contexts */
    uint8_t *c4;
    uint16_t *n4, *d4;
} o2counts;

#define O3_BITS 18
#define O3_CONTEXTS (1u << O3_BITS)

/* The table of a three-byte context (h3, h2, h1), hashed. */
static inline unsigned o3_context(unsigned h3, unsigned h2, unsigned h1)
{
    return (unsigned)(((uint32_t)(h3 << 16 | h2 << 8 | h1) * 2654435761u) >> (32 - O3_BITS));
}

/* A new zeroed table (untouched contexts cost no physical memory); NULL if out of memory. */
o2counts *o2_new(uint32_t limit2, uint32_t limit1);
void o2_free(o2counts *o);
/* Also keep order-3 counts (64 MiB of address space, touched as contexts appear); NC_ERR_NOMEM. */
nc_status o2_add_order3(o2counts *o);
/* Weights after h3, h2, h1 blended down from order 3: w(s) = c3(s) + e3 * p2(s), p2 the
 * normalised order-2 blend; n3 (if not NULL) receives the context's total. Needs order 3. */
void o3_weights(const o2counts *o, unsigned h3, unsigned h2, unsigned h1, float *w, unsigned *n3);
/* The table of a four-byte context, hashed. */
static inline unsigned o4_context(unsigned h4, unsigned h3, unsigned h2, unsigned h1)
{
    return (unsigned)(((uint32_t)(h4 << 24 | h3 << 16 | h2 << 8 | h1) * 2246822519u) >> (32 - O3_BITS));
}
nc_status o2_add_order4(o2counts *o);
/* Weights blended down from order 4 (needs orders 3 and 4); n4 as n3 above. */
void o4_weights(const o2counts *o, const uint8_t *h, float *w, unsigned *n4);
/* Count s at every order kept, h = {h1, h2, h3, h4} (h1 the most recent). */
void o4_count(o2counts *o, const uint8_t *h, unsigned s);
/* Count s after h3, h2, h1 at every order kept. */
void o3_count(o2counts *o, unsigned h3, unsigned h2, unsigned h1, unsigned s);
/* Weights of the 256 byte values after the bytes h2, h1 (h1 the most recent). */
void o2_weights(const o2counts *o, unsigned h2, unsigned h1, float *w);
/* Count byte s after h2, h1. */
void o2_count(o2counts *o, unsigned h2, unsigned h1, unsigned s);
/* Bytes of the tables. */
uint64_t o2_bytes(void);

#endif
