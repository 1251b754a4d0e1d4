/* example.c: compress and decompress a buffer with libnnzip, one-shot and streaming.
 * Build: cc example.c $(pkg-config --cflags --libs nnzip) */
#include <nnzip.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct buffer {
    unsigned char *p;
    size_t len, cap;
} buffer;

static int append(buffer *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = 2 * (b->len + n);
        unsigned char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
    return 0;
}

static int same(const unsigned char *p, size_t len, const buffer *want)
{
    return len == want->len && memcmp(p, want->p, len) == 0;
}

/* Everything s (an encoder or a decoder) makes of the n bytes at in, appended to *out. The
 * input goes in pieces, as it would come from a file or a socket. */
static nnz_status run_stream(nnz_stream *s, const unsigned char *in, size_t n, buffer *out)
{
    unsigned char chunk[4096];
    size_t done = 0;
    nnz_status st = NNZ_OK;
    int finished = 0;
    while (st == NNZ_OK && !nnz_stream_done(s)) {
        if (done < n) {
            size_t used;
            st = nnz_stream_push(s, in + done, n - done < 1000 ? n - done : 1000, &used);
            done += used;
        } else if (!finished) {
            st = nnz_stream_finish(s);
            finished = 1;
        }
        /* Pull whatever is ready: push takes nothing more while output waits. */
        while (st == NNZ_OK) {
            size_t got;
            st = nnz_stream_pull(s, chunk, sizeof chunk, &got);
            if (st != NNZ_OK || got == 0)
                break;
            if (append(out, chunk, got) != 0)
                st = NNZ_ERR_NOMEM;
        }
    }
    return st;
}

int main(void)
{
    /* 40 kB of text to compress. */
    buffer text = { 0 };
    for (int i = 0; text.len < 40000; i++) {
        char line[100];
        int k = snprintf(line, sizeof line, "line %d: the quick brown fox jumps over %d dogs\n", i,
                         i % 7);
        if (append(&text, line, (size_t)k) != 0)
            return 1;
    }

    nnz_options o;
    nnz_options_init(&o); /* every field at its default */
    o.level = 1;          /* the fastest preset (default 5) */

    /* One-shot: nnz_compress_bound bytes always suffice. */
    size_t cap = (size_t)nnz_compress_bound(text.len), packed_len = 0, back_len = 0;
    unsigned char *packed = malloc(cap);
    nnz_status st = packed ? nnz_compress(packed, cap, &packed_len, text.p, text.len, &o)
                           : NNZ_ERR_NOMEM;
    uint64_t size = 0;
    if (st == NNZ_OK)
        st = nnz_decoded_size(&size, packed, packed_len); /* from the headers, no decoding */
    unsigned char *back = st == NNZ_OK ? malloc(size ? size : 1) : NULL;
    if (st == NNZ_OK)
        st = back ? nnz_decompress(back, size, &back_len, packed, packed_len, NULL) : NNZ_ERR_NOMEM;
    if (st != NNZ_OK || !same(back, back_len, &text)) {
        fprintf(stderr, "one-shot: %s\n", st != NNZ_OK ? nnz_status_str(st) : "not the original");
        return 1;
    }
    printf("libnnzip %s, one-shot: %zu -> %zu bytes\n", nnz_version(), text.len, packed_len);

    /* Streaming: the same data in pieces, through an encoder, then a decoder. */
    buffer stream_packed = { 0 }, stream_back = { 0 };
    nnz_stream *enc = NULL, *dec = NULL;
    st = nnz_encoder_new(&enc, &o);
    if (st == NNZ_OK)
        st = run_stream(enc, text.p, text.len, &stream_packed);
    if (st == NNZ_OK)
        st = nnz_decoder_new(&dec, NULL);
    if (st == NNZ_OK)
        st = run_stream(dec, stream_packed.p, stream_packed.len, &stream_back);
    nnz_stream_free(enc);
    nnz_stream_free(dec);
    if (st != NNZ_OK || !same(stream_back.p, stream_back.len, &text)) {
        fprintf(stderr, "stream: %s\n", st != NNZ_OK ? nnz_status_str(st) : "not the original");
        return 1;
    }
    printf("stream: %zu -> %zu bytes; both decode to the original\n", text.len, stream_packed.len);

    free(packed);
    free(back);
    free(text.p);
    free(stream_packed.p);
    free(stream_back.p);
    return 0;
}
