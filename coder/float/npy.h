/* npy: the header of a NumPy .npy file, for the float-array mode.
 *
 * A .npy file is the magic "\x93NUMPY", a major and a minor version byte (1.0, 2.0 or 3.0), the
 * length of the header text (u16 LE in 1.0, u32 LE in 2.0 and 3.0), the header text -- a Python
 * dict literal such as {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with
 * spaces and ended by '\n' -- and then the raw array. numpy pads the header so the data starts
 * at a multiple of 64; any padding is accepted here.
 *
 * Only little-endian float32 arrays in C order are taken (the float-array mode codes exactly
 * those); the decoder stores the original header bytes verbatim, so there is no writer. The
 * parser reads the dict as a small subset of Python literal syntax: the keys descr,
 * fortran_order and shape, each exactly once, in any order, quoted with ' or "; whitespace
 * between tokens; trailing commas; shape a tuple of non-negative integers (with numpy's 'L'
 * suffix of Python 2 files in versions 1.0 and 2.0). Strings with backslash escapes or prefixes
 * are not decoded, so a header that spells a key or '<f4' that way is rejected; numpy never
 * writes one. It never reads outside the len bytes it is given, whatever they hold. */
#ifndef NNZIP_CODER_FLOAT_NPY_H
#define NNZIP_CODER_FLOAT_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6u
#define NPY_MAX_DIMS 32
#define NPY_HEADER_MAX (1u << 20) /* header_len above this is refused (NC_ERR_LIMIT) */

typedef struct npy_info {
    uint64_t header_len;           /* bytes before the data (magic .. '\n') */
    uint64_t count;                /* elements: the product of the shape (1 for shape ()) */
    uint32_t ndim;
    uint64_t shape[NPY_MAX_DIMS];  /* shape[0..ndim); the rest 0 */
} npy_info;

/* Whether in starts with the .npy magic (at least 6 bytes). */
int npy_is_npy(const uint8_t *in, size_t len);

/* Parse the header of a .npy file held whole in in (len bytes). NC_OK only for descr '<f4'
 * (little-endian float32), fortran_order False, a shape of at most NPY_MAX_DIMS non-negative
 * integers whose product fits 64 bits, and len == header_len + 4 * count exactly; then *info
 * describes the file. Otherwise *info is untouched and the status says what kind of problem:
 *   NC_ERR_FORMAT     not a .npy file (bad magic), a malformed header (syntax, a missing,
 *                     unknown or repeated key, a value of the wrong type, a negative or
 *                     overflowing dimension), or bytes after the data;
 *   NC_ERR_VERSION    a format version other than 1.0, 2.0 and 3.0;
 *   NC_ERR_LIMIT      a header longer than NPY_HEADER_MAX bytes;
 *   NC_ERR_TRUNCATED  the file ends inside the header or the data;
 *   NC_ERR_ARG        a well-formed .npy file this mode does not take: another dtype, Fortran
 *                     order, or more than NPY_MAX_DIMS dimensions.
 * why (may be NULL) gets NULL on NC_OK, else a one-line English reason naming what is wrong,
 * e.g. "dtype is '<f8'; only '<f4' (little-endian float32) is supported". The reason lives in a
 * thread-local buffer, valid until this thread's next npy_parse or fl_shapes_parse call. */
nc_status npy_parse(npy_info *info, const uint8_t *in, size_t len, const char **why);

#endif
