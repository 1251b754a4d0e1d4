/* Which parts of the input are text, and which byte values the transform may use as codes. */
#include <stdlib.h>

#include "text_int.h"

/* A chunk is text when control bytes (other than tab, LF, CR) are under 1/128 of it, ASCII
 * letters at least 3/10 and bytes above 127 at most 1/8: prose, markup and source code pass;
 * tables of numbers, images and executables do not. */
static int chunk_is_text(const uint8_t *p, uint64_t len)
{
    uint64_t letters = 0, ctrl = 0, high = 0;
    for (uint64_t i = 0; i < len; i++) {
        unsigned c = p[i];
        letters += xt_letter(c);
        ctrl += (c < 32 && c != '\t' && c != '\n' && c != '\r') || c == 127;
        high += c >= 128;
    }
    return ctrl * 128 < len && letters * 10 >= len * 3 && high * 8 <= len;
}

nc_status xt_detect(xt_run **runs, uint64_t *n_runs, const uint8_t *in, uint64_t n)
{
    uint64_t chunks = (n + XT_CHUNK - 1) / XT_CHUNK, k = 0;
    xt_run *r = malloc((chunks ? chunks : 1) * sizeof *r);
    if (!r)
        return NC_ERR_NOMEM;
    for (uint64_t at = 0; at < n; at += XT_CHUNK) {
        uint64_t len = n - at < XT_CHUNK ? n - at : XT_CHUNK;
        int text = chunk_is_text(in + at, len);
        if (k > 0 && r[k - 1].text == text)
            r[k - 1].len += len;
        else
            r[k++] = (xt_run){ len, text };
    }
    *runs = r;
    *n_runs = k;
    return NC_OK;
}

uint32_t xt_pick_codes(uint8_t map[32], const uint8_t *in, const xt_run *runs, uint64_t n_runs)
{
    uint64_t count[256] = { 0 }, text = 0, at = 0;
    for (uint64_t i = 0; i < n_runs; at += runs[i].len, i++) {
        if (!runs[i].text)
            continue;
        for (uint64_t j = 0; j < runs[i].len; j++)
            count[in[at + j]]++;
        text += runs[i].len;
    }
    for (int b = 0; b < 32; b++)
        map[b] = 0;
    /* High bytes only: the context models take them for letters, so a code reads as a word.
     * Each use of a code byte in the text costs an escape, so take those used at most once in
     * 4096 bytes. */
    uint32_t n = 0;
    for (unsigned b = 128; b < 256; b++) {
        if (count[b] * 4096 <= text) {
            map[b >> 3] |= (uint8_t)(1u << (b & 7));
            n++;
        }
    }
    return n;
}
