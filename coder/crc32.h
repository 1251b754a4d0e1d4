/* CRC-32 (IEEE 802.3, reflected, as in gzip/zip/PNG): the checksum .nnz stores of the original. */
#ifndef NNZIP_CODER_CRC32_H
#define NNZIP_CODER_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC over more bytes: crc32_update(0, ...) starts one; results chain. */
uint32_t crc32_update(uint32_t crc, const void *data, size_t len);

#endif
