/* The text transform's parts shared by its files: the code table, the dictionary, the section
 * (runs, codes, words) and its varints. Not an interface outside coder/transform. */
#ifndef NNZIP_CODER_TRANSFORM_TEXT_INT_H
#define NNZIP_CODER_TRANSFORM_TEXT_INT_H

#include "text.h"

/* What a byte of a text run means (by value, from the code bitmap). */
enum xt_role { XR_LITERAL = 0, XR_ESCAPE, XR_CAP, XR_UPPER, XR_WORD1, XR_LEAD };

typedef struct xt_word {
    uint8_t len;
    char s[XT_WORD_MAX];
} xt_word;

typedef struct xt_run {
    uint64_t len;
    int text;
} xt_run;

typedef struct xt_table {
    uint8_t role[256];
    uint8_t index[256];      /* which one-byte code or which lead byte */
    uint8_t word1_byte[256]; /* the byte of one-byte code i */
    uint8_t lead_byte[256];  /* the byte of lead i */
    uint32_t codes, leads, words1, words2;
    xt_word *words;          /* words1 one-byte words, then words2 two-byte words */
} xt_table;

typedef struct xt_section {
    xt_run *runs;
    uint64_t n_runs;
    int any_text;
    xt_table t;
} xt_section;

/* Lay out roles from a code bitmap (bit b of map[b / 8]): in increasing byte value the escape,
 * the capital flag, the upper-case flag, the one-byte word codes, then the leads. */
nc_status xt_table_layout(xt_table *t, const uint8_t map[32], uint32_t leads);

/* Write the section (docs/format.md) into out, which holds at least xt_section_bound bytes;
 * returns the bytes written. */
uint64_t xt_section_bound(const xt_section *s);
uint64_t xt_section_write(uint8_t *out, const xt_section *s);
/* Parse a section, checking it against an original of n bytes; *used is its size. On NC_OK
 * the caller frees s with xt_section_free. */
nc_status xt_section_read(xt_section *s, uint64_t *used, const uint8_t *in, uint64_t len,
                          uint64_t n);
void xt_section_free(xt_section *s);
/* The same; table 0: a block that uses its member's dictionary has runs only (no code map, no
 * words) even where runs are text. */
nc_status xt_section_read_as(xt_section *s, uint64_t *used, const uint8_t *in, uint64_t len,
                             uint64_t n, int table);

/* xt_encode with the least text it rewrites (xt_encode: XT_MIN_TEXT). 0 (tests) rewrites
 * any text it detects, whether or not that pays. */
nc_status xt_encode_with(uint8_t **out, uint64_t *out_len, const uint8_t *in, uint64_t n,
                         xt_info *info, uint64_t min_text, uint32_t min_count);

/* Encoder side. Chunk classification: a run list covering in (adjacent chunks of one kind
 * merged); *n_runs of them in *runs (caller frees). */
nc_status xt_detect(xt_run **runs, uint64_t *n_runs, const uint8_t *in, uint64_t n);
/* Code bytes for the text runs: the rarely used high bytes (bitmap out). Returns their count. */
uint32_t xt_pick_codes(uint8_t map[32], const uint8_t *in, const xt_run *runs, uint64_t n_runs);
/* Fill t's dictionary (words, words1, words2, leads) from the words of the text runs, given
 * codes code bytes, two-byte codes for words met at least min_count times; t->words is
 * allocated (caller frees). */
nc_status xt_build_dict(xt_table *t, uint32_t codes, const uint8_t *in, const xt_run *runs,
                        uint64_t n_runs, uint32_t min_count);

/* xt_build_dict's min_count for a model with a network and for context models alone: measured
 * (docs/benchmarks.md, "The text transform"), a hybrid gains most from a dictionary of words met
 * 12 times, cm alone from 100. */
#define XT_MIN_COUNT_NET 12u
#define XT_MIN_COUNT_CM 100u

/* ASCII letter classes, the only letters the transform folds. */
static inline int xt_lower(unsigned c) { return c >= 'a' && c <= 'z'; }
static inline int xt_upper(unsigned c) { return c >= 'A' && c <= 'Z'; }
static inline int xt_letter(unsigned c) { return xt_lower(c) || xt_upper(c); }

/* The case of a run of ASCII letters, as the transform folds it. */
enum xt_case { XC_LOWER, XC_CAP, XC_UPPER, XC_MIXED };

/* The letter run that starts at p[i] (a letter) in p[0 ... len): returns its end and its case
 * in *c (one capital alone is XC_CAP; XC_UPPER needs two letters or more). When it folds (not
 * XC_MIXED) and has at most XT_WORD_MAX letters, lower receives them in lower case. The
 * dictionary counts and the encoder looks up words through this one function, so the two
 * agree on what a word is. */
static inline uint64_t xt_scan_word(const uint8_t *p, uint64_t len, uint64_t i, enum xt_case *c,
                                    char lower[XT_WORD_MAX])
{
    uint64_t j = i, up = 0;
    while (j < len && xt_letter(p[j]))
        up += xt_upper(p[j++]);
    uint64_t n = j - i;
    *c = up == 0 ? XC_LOWER : up == 1 && xt_upper(p[i]) ? XC_CAP : up == n ? XC_UPPER : XC_MIXED;
    if (*c != XC_MIXED && n <= XT_WORD_MAX)
        for (uint64_t k = 0; k < n; k++)
            lower[k] = (char)(p[i + k] | 32);
    return j;
}

/* The hash of a word's letters, for the encoder's tables (the dictionary never depends on it). */
static inline uint64_t xt_word_hash(const char *s, unsigned len)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ len;
    for (unsigned i = 0; i < len; i++)
        h = (h ^ (uint8_t)s[i]) * 0x100000001B3ull;
    return h ^ h >> 29;
}

#endif
