/* rc: a carry-propagating 32-bit range coder with byte output.
 *
 * Symbols are coded from integer frequency tables whose total is 2^RC_TOTAL_BITS. The coder
 * works on a 32-bit range kept in [2^24, 2^32) by shifting out bytes; carries into bytes already
 * produced are resolved with the cache + pending-0xFF technique of LZMA, so no byte is ever
 * rewritten and the output can go straight to a buffer.
 *
 * Invariants (encoder): low < 2^32 + 2^32 (one carry bit at most), range >= 2^24 between calls.
 * Invariant (decoder, valid streams): code < range. A corrupt stream may break it; the decoder
 * then produces garbage symbols but never reads out of bounds, and the checksum catches it.
 *
 * Exactness: the last symbol of a table (cum + freq == total) takes the remainder of the range
 * left by the truncated division range >> RC_TOTAL_BITS, so no code space is wasted there. */
#ifndef NNZIP_CODER_RC_H
#define NNZIP_CODER_RC_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define RC_TOTAL_BITS 16
#define RC_TOTAL (1u << RC_TOTAL_BITS)

typedef struct rc_encoder {
    uint64_t low;
    uint32_t range;
    uint8_t cache;
    uint64_t pending; /* bytes waiting for a possible carry: cache, then pending-1 times 0xFF */
    int started;      /* the first byte shifted out is always 0 and is not written */
    uint8_t *buf;     /* output, owned by the encoder, grown as needed */
    size_t len, cap;
    nc_status err;    /* sticky: NC_ERR_NOMEM if the buffer could not grow */
} rc_encoder;

typedef struct rc_decoder {
    uint32_t range, code;
    const uint8_t *in;
    size_t len, pos;
    size_t overrun; /* bytes requested past the end: non-zero means truncated input */
} rc_decoder;

void rc_enc_init(rc_encoder *e);
/* Code the symbol occupying [cum, cum + freq) of a table with total RC_TOTAL. freq > 0. */
void rc_enc_encode(rc_encoder *e, uint32_t cum, uint32_t freq);
/* Write the final bytes. Afterwards e->buf holds e->len bytes (caller owns it, free()). */
nc_status rc_enc_finish(rc_encoder *e);
void rc_enc_free(rc_encoder *e);

void rc_dec_init(rc_decoder *d, const uint8_t *in, size_t len);
/* The target value in [0, RC_TOTAL) of the next symbol: the caller finds the symbol whose
 * [cum, cum + freq) holds it, then calls rc_dec_update with that symbol's cum and freq. */
uint32_t rc_dec_target(const rc_decoder *d);
void rc_dec_update(rc_decoder *d, uint32_t cum, uint32_t freq);
/* After the last symbol: NC_OK if the stream was consumed exactly, else TRUNCATED/CORRUPT. */
nc_status rc_dec_finish(const rc_decoder *d);

#endif
