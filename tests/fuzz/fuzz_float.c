/* Fuzz target for the float-array mode (coder/float, model/float): any input, read as options and
 * an array, must come back through fl_compress and codec_decompress -- bit for bit when lossless
 * or stored, else every value within the bound exactly and the specials (NaN, inf, -0) bit for
 * bit; and the input bytes themselves, read as a .nnz file, must make the decoder give an error
 * or a verified output -- never a crash, a hang, a leak or an out-of-bounds access.
 *
 * The input: byte 0 holds the options --
 *   bits 0-3  the bound: an entry of bounds[] below (0 and 1: lossless);
 *   bit 4     wrap the array in a .npy header (version 1.0, shape (n,), or 2-D with bit 6);
 *   bit 5     a tensor list: byte 1 gives 1 + b % 8 tensors, the next bytes their shares of the
 *             array and their rows (0, 1, 3, 64, 70000 or the whole tensor); byte 1 >= 0xF8
 *             also repeats the array to FILL_FLOATS values (long runs the match model predicts
 *             for almost nothing: the decoder's size bound must still take them);
 *   bit 6     with bit 4, shape (a, n / a) for the first a in 2 .. 16 that divides n;
 *   bit 7     compress twice and compare the bytes;
 * and the bytes after the options are the float32 array, zero-padded to whole floats.
 *
 * Built like fuzz_decode.c: a libFuzzer target with -DNNZIP_FUZZ=ON, else a replayer of the files
 * named on the command line (tests/fuzz/corpus-float under ctest). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "decode_once.h"
#include "float/fcodec.h"
#include "float/npy.h"
#include "float/quant.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FILL_FLOATS (1u << 17)

static const double bounds[16] = {
    0, 0, 0x1p-17, 0x1p-10, 0x1p-1, 1e-5, 3.0, 0x1p-140, 1e30, 0x1p-1074, 1e300, 0x1p-149,
    0.1, 0x1p20, 1e-30, 0x1p-60,
};

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Every value of dec (floats of them after head bytes of header) against in. 1 when right. */
static int values_ok(const uint8_t *in, const uint8_t *dec, size_t len, size_t head, double e)
{
    if (head && memcmp(in, dec, head) != 0)
        return 0;
    for (size_t i = head; i + 4 <= len; i += 4) {
        uint32_t a = get_u32(in + i), b = get_u32(dec + i);
        if (a == b)
            continue;
        int special = (a & 0x7F800000u) == 0x7F800000u || a == 0x80000000u;
        float x, y;
        memcpy(&x, &a, 4);
        memcpy(&y, &b, 4);
        if (e == 0 || special || (b & 0x7F800000u) == 0x7F800000u || !fq_within(x, y, e))
            return 0;
    }
    return 1;
}

/* The .npy file of the array: a version 1.0 header padded to 64 bytes, then the floats. */
static uint8_t *wrap_npy(size_t *len, size_t *head, const uint8_t *arr, size_t floats, int two_d)
{
    char dict[128];
    size_t a = 0;
    for (size_t d = 2; two_d && d <= 16 && !a; d++)
        if (floats % d == 0)
            a = d;
    if (a)
        snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, "
                 "'shape': (%zu, %zu), }", a, floats / a);
    else
        snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, "
                 "'shape': (%zu,), }", floats);
    size_t text = strlen(dict) + 1;
    text += 64 - (10 + text) % 64;
    *head = 10 + text;
    *len = *head + 4 * floats;
    uint8_t *p = malloc(*len);
    if (!p)
        abort();
    memcpy(p, "\x93NUMPY\x01\x00", 8);
    p[8] = (uint8_t)text;
    p[9] = (uint8_t)(text >> 8);
    memset(p + 10, ' ', text - 1);
    memcpy(p + 10, dict, strlen(dict));
    p[*head - 1] = '\n';
    if (floats)
        memcpy(p + *head, arr, 4 * floats);
    return p;
}

static void round_trip(const uint8_t *data, size_t size)
{
    static const codec_opts opts = { .env = { .threads = 1 } };
    if (size == 0)
        return;
    unsigned opt = data[0];
    double e = bounds[opt & 15];
    const uint8_t *p = data + 1;
    size_t left = size - 1;
    /* the tensor list's bytes, then the array */
    fl_tensor t[8];
    uint32_t nt = 0;
    uint8_t share[8] = { 0 }; /* a tensor's share of the array (low 5 bits) and row (high 3) */
    int fill = 0;
    if (opt & 32 && left >= 1) {
        nt = 1 + p[0] % 8;
        fill = p[0] >= 0xF8;
        p++;
        left--;
        size_t take = left < nt ? left : nt;
        memcpy(share, p, take);
        p += take;
        left -= take;
    }
    size_t floats = (left + 3) / 4, given_floats = floats;
    if (fill && floats)
        floats = FILL_FLOATS;
    uint8_t *arr = calloc(floats ? 4 * floats : 1, 1);
    if (!arr)
        abort();
    if (left)
        memcpy(arr, p, left);
    for (size_t i = given_floats; i < floats; i += given_floats) /* fill: the array again */
        memcpy(arr + 4 * i, arr, 4 * (floats - i < given_floats ? floats - i : given_floats));
    if (nt > floats)
        nt = (uint32_t)floats; /* every tensor holds at least one float */
    if (nt) {
        uint64_t w[8], sum = 0, given = 0;
        for (uint32_t i = 0; i < nt; i++)
            sum += w[i] = 1 + (share[i] & 31u);
        for (uint32_t i = 0; i < nt; i++) { /* each at least 1, adding up to floats */
            uint64_t c = i + 1 == nt ? floats - given : 1 + (floats - nt) * w[i] / sum;
            const uint64_t rows[6] = { 0, 1, 3, 64, 70000, c };
            t[i] = (fl_tensor){ c, rows[(share[i] >> 5) % 6] };
            given += c;
        }
    }
    size_t len = 4 * floats, head = 0;
    uint8_t *in = arr;
    if (opt & 16)
        in = wrap_npy(&len, &head, arr, floats, opt & 64);
    fl_opts fo = { .max_error = e, .tensors = nt ? t : NULL, .n_tensors = nt };
    uint8_t *f = NULL, *dec = NULL;
    size_t fl = 0;
    const char *why = NULL;
    nc_status st = fl_compress(&f, &fl, in, len, &fo, &opts, &why);
    /* A raw array that begins with the .npy magic is read as a .npy file (the float mode
     * tells the two apart by it), which the encoder may refuse; every other input built here
     * is one the encoder takes. */
    if (st == NC_ERR_ARG && !(opt & 16) && npy_is_npy(in, len)) {
        free(arr);
        return;
    }
    if (st != NC_OK)
        abort();
    if (opt & 128) {
        uint8_t *f2 = NULL;
        size_t fl2 = 0;
        if (fl_compress(&f2, &fl2, in, len, &fo, &opts, &why) != NC_OK || fl2 != fl
            || memcmp(f, f2, fl) != 0)
            abort(); /* not deterministic */
        free(f2);
    }
    uint64_t dl = 0;
    if (codec_decompress(&dec, &dl, f, fl, &opts) != NC_OK || dl != len)
        abort(); /* a file the decoder refuses */
    fmt_header h;
    model_config c;
    if (codec_inspect(&h, &c, f, fl) != NC_OK)
        abort();
    if (!values_ok(in, dec, len, head, h.model_id == MODEL_STORED ? 0 : e))
        abort(); /* a value beyond the bound, or a special or lossless value changed */
    free(dec);
    free(f);
    if (in != arr)
        free(in);
    free(arr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    round_trip(data, size);
    fuzz_decode_once(data, size); /* the input as a .nnz file */
    return 0;
}

#ifndef NNZIP_LIBFUZZER
#include "replay.h"

int main(int argc, char **argv)
{
    return fuzz_replay("fuzz_float", argc, argv);
}
#endif
