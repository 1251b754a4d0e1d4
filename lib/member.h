/* member: the framing of a member of blocks (.nnz format version 2; docs/format.md, "Members
 * and blocks"). After the header come blocks, each one a block head and its payload, then an
 * end that gives the member's original size and checksum:
 *
 *   block := varint raw_len (>= 1), kind, [varint modelled_len: kinds 2-4], varint payload_len,
 *            u32 crc32 of the block's original, payload
 *   end   := varint 0, u64 original size, u32 crc32 of the member's original
 *
 * One model codes a member from its first block to its last (it carries on across blocks; only
 * the coder is flushed at each block's end), so blocks bound memory without costing ratio. */
#ifndef NNZIP_LIB_MEMBER_H
#define NNZIP_LIB_MEMBER_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define BLK_STORED 0u   /* the payload is the original (the model still learns it) */
#define BLK_MODELLED 1u /* the model's coding of the original */
#define BLK_TEXT 2u     /* the model's coding of the text transform of the original */
#define BLK_STORED_TEXT 3u /* stored, the model having learned the transform of the original */
#define BLK_TEXT_SAME 4u  /* as BLK_TEXT, with the dictionary of an earlier block of the member */
#define BLK_HEAD_MAX 35u  /* varint 10 + kind 1 + varint 10 + varint 10 + crc 4 */
#define BLK_END_SIZE 13u  /* varint 0 + u64 + u32 */
#define BLK_SIZE_MAX (1u << 30) /* the largest block a member may declare */

typedef struct blk_head {
    uint64_t raw_len;      /* 0: the member's end */
    uint8_t kind;
    uint64_t modelled_len; /* kinds 2-4: bytes of the transformed stream the model codes */
    uint64_t payload_len;
    uint32_t crc;
} blk_head;

/* Serialise b (raw_len >= 1) into out (BLK_HEAD_MAX bytes); returns the bytes written. */
size_t blk_head_write(uint8_t *out, const blk_head *b);
/* The end: 13 bytes. */
size_t blk_end_write(uint8_t *out, uint64_t total, uint32_t crc);

/* Parse what starts at in (len bytes available) in a member whose blocks hold at most
 * block_max bytes: a block head (*used bytes; raw_len >= 1) or the end (raw_len 0; *used
 * counts its 13 bytes, *total and *crc are set). NC_ERR_TRUNCATED when len is too short to
 * tell; NC_ERR_CORRUPT for values no writer makes (a block larger than block_max, a payload
 * that is not smaller than what it codes, an unknown kind). */
nc_status blk_read(blk_head *b, size_t *used, uint64_t *total, uint32_t *crc, const uint8_t *in,
                   size_t len, uint64_t block_max);

#endif
