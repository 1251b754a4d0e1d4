/* fmt: the .nnz container header (docs/format.md is the byte-level specification).
 *
 * Everything the decoder needs is in the header -- model, level and every hyper-parameter as
 * (key, value) pairs -- so decoding takes no model options. The header carries its own CRC so a
 * damaged header is reported as such before any field is trusted for an allocation. */
#ifndef NNZIP_CODER_FORMAT_H
#define NNZIP_CODER_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define FMT_MAGIC_0 0x89u /* non-ASCII first byte: a text-mode transfer or a text file fails fast */
#define FMT_MAGIC "\x89NNZ"
#define FMT_VERSION 1u        /* a whole-buffer member: header, then one payload (the float mode) */
#define FMT_VERSION_BLOCKS 2u /* a member of blocks (docs/format.md "Members and blocks") */
#define FMT_MAX_PARAMS 64u
#define FMT_FIXED_SIZE 30u /* bytes before the parameter list */
#define FMT_HEADER_MAX (FMT_FIXED_SIZE + 6u * FMT_MAX_PARAMS + 4u)

typedef struct fmt_param {
    uint16_t key;
    uint32_t value;
} fmt_param;

typedef struct fmt_header {
    uint8_t version;
    uint8_t model_id;
    uint8_t level;
    uint8_t flags; /* reserved, 0 */
    uint64_t orig_size;
    uint32_t orig_crc;
    uint64_t payload_size;
    uint16_t n_params;
    fmt_param params[FMT_MAX_PARAMS]; /* keys strictly increasing */
} fmt_header;

size_t fmt_header_size(const fmt_header *h);
/* Serialise h into out (at least FMT_HEADER_MAX bytes); returns the bytes written. */
size_t fmt_header_write(uint8_t *out, const fmt_header *h);
/* Parse and check the header at the start of in (len bytes, the whole file if known).
 * On NC_OK, *header_len is its size. Errors: NC_ERR_FORMAT (not .nnz), NC_ERR_TRUNCATED,
 * NC_ERR_VERSION, NC_ERR_LIMIT, NC_ERR_CORRUPT (header CRC or inconsistent fields). Does not
 * check payload_size against len: see fmt_check_payload. */
nc_status fmt_header_read(fmt_header *h, size_t *header_len, const uint8_t *in, size_t len);
/* The size of the stored form of n bytes: a header without parameters, then the bytes. */
uint64_t fmt_stored_size(uint64_t n);
/* The payload after a header of header_len bytes must fill the rest of the file exactly. */
nc_status fmt_check_payload(const fmt_header *h, size_t header_len, size_t file_len);

#endif
