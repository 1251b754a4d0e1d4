/* bitcoder: a carry-less 32-bit binary arithmetic coder with 16-bit probabilities.
 *
 * The coder keeps an interval [x1, x2] of 32-bit values. A bit with probability p/2^16 of being
 * 1 splits it at xmid = x1 + floor((x2 - x1) * p / 2^16): a 1 keeps [x1, xmid], a 0 keeps
 * [xmid + 1, x2]. Whenever x1 and x2 agree in their top byte, that byte is final: it is written
 * and both ends shift left by 8 (x2 taking 0xFF in its low byte). No carry can ever reach a byte
 * already written, because a written byte is shared by every value still in the interval.
 *
 * Invariants: x1 <= x2 at all times; between bits x1 and x2 differ in their top byte, so
 * x2 - x1 >= 1 and, for 1 <= p <= 65535, x1 <= xmid < x2: both halves are non-empty and every bit
 * can be coded whatever the model says. The product is taken in 64 bits, so the split is exact.
 *
 * Decoder: x holds the 32 payload bits aligned with [x1, x2]; the bit is 1 iff x <= xmid. The
 * encoder ends by writing the 4 bytes of x1, so a valid payload is consumed exactly (4 bytes
 * read at the start plus one per shift, as the encoder wrote one per shift plus 4). */
#ifndef NNZIP_CODER_BITCODER_H
#define NNZIP_CODER_BITCODER_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* Probabilities are of a 1, in units of 2^-16, and must lie in [BIT_P_MIN, BIT_P_MAX]. */
#define BIT_P_BITS 16
#define BIT_P_MIN 1u
#define BIT_P_MAX 65535u

typedef struct bit_encoder {
    uint32_t x1, x2;
    uint8_t *buf; /* output, owned by the encoder, grown as needed */
    size_t len, cap;
    nc_status err; /* sticky: NC_ERR_NOMEM if the buffer could not grow */
} bit_encoder;

typedef struct bit_decoder {
    uint32_t x1, x2, x;
    const uint8_t *in;
    size_t len, pos;
    size_t overrun; /* bytes requested past the end: non-zero means truncated input */
} bit_decoder;

void bit_enc_init(bit_encoder *e);
/* Code bit (0 or 1) whose probability of being 1 is p / 2^16, p in [BIT_P_MIN, BIT_P_MAX]. */
void bit_enc_encode(bit_encoder *e, int bit, uint32_t p);
/* Write the final 4 bytes. Afterwards e->buf holds e->len bytes (caller owns it, free()). */
nc_status bit_enc_finish(bit_encoder *e);
void bit_enc_free(bit_encoder *e);

void bit_dec_init(bit_decoder *d, const uint8_t *in, size_t len);
int bit_dec_decode(bit_decoder *d, uint32_t p);
/* After the last bit: NC_OK if the payload was consumed exactly, else TRUNCATED or CORRUPT. */
nc_status bit_dec_finish(const bit_decoder *d);

/* The most bytes a payload of payload_size bytes can hold (docs/format.md, "Size bound"). */
uint64_t bit_max_bytes(uint64_t payload_size);

#endif
