/* text transform: a reversible rewrite of text that every model then codes (docs/format.md,
 * "Text transform", is the byte-level specification).
 *
 * Words are case-folded (a flag byte marks a capitalised or upper-case word) and frequent words
 * become one- or two-byte codes from a dictionary built from the input itself; the bytes the
 * transform uses as codes are ones the text (almost) never holds, and escaped when it does.
 * The input is cut into runs of text and of other data (detected per 64 KiB chunk); only text
 * runs are rewritten. The result starts with a section that lists the runs, the code bytes and
 * the dictionary, so the model codes the dictionary too and the decoder needs nothing else. */
#ifndef NNZIP_CODER_TRANSFORM_TEXT_H
#define NNZIP_CODER_TRANSFORM_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define XT_CHUNK 65536u    /* detection granularity */
#define XT_WORD_MAX 24u    /* longest dictionary word */
#define XT_SECOND 0x80u    /* second bytes of two-byte codes are XT_SECOND ... 0xFF */
#define XT_PER_LEAD 128u   /* words per lead byte */

/* What a transformed stream holds: for `nnzip -l` and the benchmarks. */
typedef struct xt_info {
    uint64_t runs, text_bytes;      /* runs, and original bytes in text runs */
    uint32_t codes, leads;          /* code bytes in all, of which lead bytes of two-byte codes */
    uint32_t words1, words2;        /* dictionary words with one- and two-byte codes */
    uint64_t section_bytes;         /* bytes of the section before the rewritten data */
} xt_info;

/* Forward transform of in (n bytes). On NC_OK either *out (caller frees) holds the transformed
 * stream of *out_len bytes, or *out is NULL: no part of the input is text the transform helps,
 * and the input is to be coded as it is. network: the model that will code the stream has a
 * network, which repays a larger dictionary than context models alone. info (may be NULL)
 * describes the result. */
nc_status xt_encode(uint8_t **out, uint64_t *out_len, const uint8_t *in, uint64_t n,
                    int network, xt_info *info);

/* Inverse: rebuild the n original bytes from the transformed stream (len bytes) into *out
 * (caller frees), allocated only after the section's run list is found to add up to n.
 * Anything inconsistent (a run list that does not add up to n, a damaged dictionary, a code
 * with no word, output that would overrun) is NC_ERR_CORRUPT; it never reads or writes out of
 * bounds. */
nc_status xt_decode(uint8_t **out, uint64_t n, const uint8_t *in, uint64_t len);

/* A member's blocks share one dictionary: the first block the transform rewrites builds it
 * and stores it in its section (as xt_encode); each later block's stream holds its run list
 * only and codes its words with that dictionary (*same set). The decoder keeps the dictionary
 * of the last block that stored one. *d starts NULL; free it with xt_dict_free. */
typedef struct xt_dict xt_dict;
nc_status xt_encode_block(xt_dict **d, uint8_t **out, uint64_t *out_len, int *same,
                          const uint8_t *in, uint64_t n, int network);
nc_status xt_decode_block(xt_dict **d, int same, uint8_t **dst, uint64_t n, const uint8_t *in,
                          uint64_t len);
void xt_dict_free(xt_dict *d); /* NULL is fine */

/* Parse the section only (for nnzip -l); NC_ERR_CORRUPT when it is damaged. */
nc_status xt_describe(xt_info *info, const uint8_t *in, uint64_t len);

/* The most original bytes a transformed stream of len bytes can rebuild: a decoder's bound
 * before it allocates for a claimed original size. */
uint64_t xt_max_expansion(uint64_t len);

#endif
