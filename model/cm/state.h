/* Bit histories as states of a finite machine (one byte each).
 *
 * A state stands for a pair of counts (n0, n1) of the zeros and ones seen in a context, and,
 * while both counts are small and non-zero, the last bit too. Coding bit y increments n_y; if
 * the opposite count exceeds 2 it is discounted to n/2 + 1, so the history favours recent bits
 * (data is rarely stationary). Counts are bounded so that every state fits in a byte: the
 * larger count may reach 40 while the other is 0, 24 when the other is 1, and less as the
 * smaller grows (cm_state_limit). A count past its bound gives way: the other count drops
 * (more confidence in the run) or, if it is 0, the count stays at the bound.
 *
 * The table is generated at model creation by a breadth-first walk from the empty state (0):
 * the numbering is a pure function of the rules above. */
#ifndef NNZIP_MODEL_CM_STATE_H
#define NNZIP_MODEL_CM_STATE_H

#include <stdint.h>

typedef struct cm_states {
    uint8_t next[256][2]; /* next[s][y]: the state after bit y */
    uint8_t n0[256], n1[256];
    uint32_t count;       /* states in use */
} cm_states;

void cm_states_init(cm_states *t);

#endif
