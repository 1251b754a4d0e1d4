/* 64-bit hashing of contexts: a strong finaliser so that the low bits (the bucket) and the top
 * byte (the check) of a context's hash are independent. */
#ifndef NNZIP_MODEL_CM_HASH_H
#define NNZIP_MODEL_CM_HASH_H

#include <stdint.h>

static inline uint64_t cm_mix64(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x7FB5D329728EA185ull;
    x ^= x >> 27;
    x *= 0x81DADEF4BC2DD44Dull;
    x ^= x >> 33;
    return x;
}

/* The hash of value v in the context family tag (each context model has its own tag, so equal
 * values of different models land in different slots). */
static inline uint64_t cm_hash(uint64_t tag, uint64_t v)
{
    return cm_mix64(v * 0x9E3779B97F4A7C15ull + tag * 0xD6E8FEB86659FD93ull + tag);
}

#endif
