/* netin: a network's predicted distribution of the next byte as inputs of the cm mixers.
 *
 * The network (lstm or transformer, one stream, no count mixer) predicts a distribution over the
 * 256 values of each byte before its first bit is coded and learns the byte once it is known,
 * training on whole segments as it does alone (net.c). For the byte's binary tree the
 * distribution is summed into every subtree (node 1 the whole byte, node c0 the bytes that start
 * with the bits of the partial byte c0): P(next bit = 1 | c0) = S(2 c0 + 1) / S(c0). The mixers
 * get its logit, log S(2 c0 + 1) - log S(2 c0), in stretch units: the subtree sums are added in
 * one fixed order and their logs taken with nc_vlog, so both sides compute the same bits.
 *
 * The encoder knows the bytes to come, so it evaluates a whole segment with the network's
 * batched forward (predict_segment), the very distributions the decoder gets step by step. */
#ifndef NNZIP_MODEL_CM_NETIN_H
#define NNZIP_MODEL_CM_NETIN_H

#include <stdint.h>

#include "model.h"

typedef struct cm_netin {
    model *net;
    uint32_t segment;
    float *w;             /* (segment, 256): distributions of this segment's bytes */
    uint16_t *ahead;      /* (segment): the encoder's bytes of this segment */
    uint32_t t, have;     /* step within the segment; rows of w computed */
    float lg[512];        /* [x]: log S(x) of the current byte, x = 2 ... 511 */
} cm_netin;

/* The network of config c (key cm_net: model id of lstm or transformer); n->net NULL if c has
 * none. */
nc_status cm_netin_open(cm_netin *n, const model_config *c, const model_env *env);
void cm_netin_close(cm_netin *n);
/* Whether config c asks for a network, and its check (NC_OK if none). */
nc_status cm_netin_check(const model_config *c);
/* Parameters and bytes of the network of c (0 if none). */
void cm_netin_size(const model_config *c, uint64_t *params, uint64_t *bytes);

/* Before a byte's first bit: the network's distribution of it. ahead/n_ahead: the encoder's
 * bytes from this one on; the decoder passes NULL, 0. */
nc_status cm_netin_byte(cm_netin *n, const uint8_t *ahead, uint64_t n_ahead);
/* lg[x] = log S(x) for x = 2 ... 511 of the distribution p (256): the subtree sums, added
 * bottom-up in one order. */
void cm_netin_tree(float lg[512], const float *p);
/* The logit of the next bit being 1 after the partial byte c0 (leading 1), in stretch units
 * clamped to +-2047. */
static inline int32_t cm_netin_stretch(const cm_netin *n, uint32_t c0)
{
    float d = (n->lg[2 * c0 + 1] - n->lg[2 * c0]) * 256.0f;
    if (d != d) /* both subtrees' sums underflowed to 0: no opinion */
        return 0;
    return d >= 2047.0f ? 2047 : d <= -2047.0f ? -2047 : (int32_t)d;
}
/* After the byte's last bit: the network learns it. */
nc_status cm_netin_learn(cm_netin *n, uint8_t c);

#endif
