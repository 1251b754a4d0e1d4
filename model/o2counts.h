/* Context counts: order 2 blended down to order 1 and 0 (the statistics of the order2 model),
 * and optionally hashed orders 3 .. 6 blended down to order 2 (the lstm's count mixer). Integer counts and binary32 arithmetic in a fixed
 * order (docs/format.md, "order2"): identical on every machine. */
#ifndef NNZIP_MODEL_O2COUNTS_H
#define NNZIP_MODEL_O2COUNTS_H

#include <stdint.h>

#include "nc/nc.h"

#define O_MAX 6              /* highest order */
#define O_BITS 18            /* log2 of the contexts of each order >= 3 */
#define O_CONTEXTS (1u << O_BITS)

typedef struct o2counts {
    uint32_t limit2, limit1;
    uint8_t *c2;             /* (65536, 256): counts after each two-byte context */
    uint16_t *n2, *d2;       /* (65536): totals and distinct symbols per context */
    uint16_t c1[256][256];   /* after each one-byte context */
    uint32_t n1[256], d1[256];
    uint32_t c0[256], n0;
    /* optional orders 3 .. max_order (o2_add_orders): hashed contexts */
    int max_order;           /* 2 without them */
    uint8_t *ck[O_MAX + 1];  /* [k]: (O_CONTEXTS, 256) counts of order k */
    uint16_t *nk[O_MAX + 1], *dk[O_MAX + 1];
} o2counts;

/* A new zeroed table (untouched contexts cost no physical memory); NULL if out of memory. */
o2counts *o2_new(uint32_t limit2, uint32_t limit1);
void o2_free(o2counts *o);
/* Weights of the 256 byte values after the bytes h2, h1 (h1 the most recent). */
void o2_weights(const o2counts *o, unsigned h2, unsigned h1, float *w);
/* Count byte s after h2, h1 (orders 2, 1, 0). */
void o2_count(o2counts *o, unsigned h2, unsigned h1, unsigned s);
/* Also keep hashed orders 3 .. max_order (<= O_MAX; 64 MiB of address space each, touched as
 * contexts appear); NC_ERR_NOMEM. */
nc_status o2_add_orders(o2counts *o, int max_order);
/* h: the last O_MAX bytes, h[0] the most recent. Weights blended down from the highest order:
 * w(s) = c_k(s) + e_k * p(s), p the normalised blend of order k-1; *n receives the total of the
 * highest-order context. */
void on_weights(const o2counts *o, const uint8_t *h, float *w, unsigned *n);
/* Count s at every order kept. */
void on_count(o2counts *o, const uint8_t *h, unsigned s);
/* Bytes of the tables. */
uint64_t o2_bytes(void);

#endif
