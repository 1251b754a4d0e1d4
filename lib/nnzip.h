/* nnzip.h: the one public header of libnnzip, lossless compression whose predictors learn
 * online, identically, in the encoder and the decoder (README.md, docs/format.md).
 *
 * Two ways in, writing the same .nnz format that the nnzip command writes and reads:
 *   - one-shot: nnz_compress / nnz_decompress on whole buffers;
 *   - streaming: an nnz_stream that takes input as it comes (nnz_stream_push), gives output as
 *     it is ready (nnz_stream_pull) and is told the end of the input (nnz_stream_finish). Its
 *     memory is the model's plus about two blocks (nnz_options.block_size), whatever the length
 *     of the data, which need not be known.
 * A file may hold several members one after the other (as gzip, xz and zstd files may); it
 * decodes to the concatenation of theirs. Every member carries the checksums of its original,
 * which the decoder verifies before it gives out any byte: damaged input gives an error, never
 * wrong output.
 *
 * Everything the library exports starts with nnz_ (NNZ_ for macros). Functions are safe to
 * call from several threads on different objects. Nothing here prints, exits or reads the
 * environment, except NNZIP_ISA (a test switch that forces one kernel path; it never changes
 * the output), read once. */
#ifndef NNZIP_H
#define NNZIP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && !defined(NNZ_STATIC_HIDDEN)
#define NNZ_API __attribute__((visibility("default")))
#else
#define NNZ_API
#endif

#define NNZ_VERSION_MAJOR 0
#define NNZ_VERSION_MINOR 2
#define NNZ_VERSION_PATCH 0
#define NNZ_VERSION_STRING "0.2.0"

/* The library's version, "MAJOR.MINOR.PATCH" (of the library linked, which may be newer than
 * the header compiled against). */
NNZ_API const char *nnz_version(void);

/* Status of every call. Values are never renumbered. */
typedef enum nnz_status {
    NNZ_OK = 0,
    NNZ_ERR_NOMEM = 1,       /* an allocation failed */
    NNZ_ERR_ARG = 2,         /* an invalid argument or option, or a call out of order */
    NNZ_ERR_IO = 3,          /* (the command line's) read or write failed */
    NNZ_ERR_CORRUPT = 4,     /* compressed data is inconsistent */
    NNZ_ERR_TRUNCATED = 5,   /* compressed data ends early */
    NNZ_ERR_FORMAT = 6,      /* not .nnz data (bad magic) */
    NNZ_ERR_VERSION = 7,     /* a format version or model this build does not know */
    NNZ_ERR_LIMIT = 8,       /* beyond a limit: decoder memory (mem_limit), sizes */
    NNZ_ERR_CHECKSUM = 9,    /* decoded data does not match its checksum */
    NNZ_ERR_UNSUPPORTED = 10, /* not available on this machine */
    NNZ_ERR_SPACE = 11       /* nnz_compress/nnz_decompress: the output buffer is too small */
} nnz_status;

/* A one-line message for s ("corrupt compressed data"); never NULL. */
NNZ_API const char *nnz_status_str(nnz_status s);

/* Progress: bytes of input taken and of output given so far (compression: original and
 * compressed; decompression: compressed and original). Called from the calling thread, now and
 * then within long calls; it cannot stop them. */
typedef void (*nnz_progress_fn)(void *ctx, uint64_t in_bytes, uint64_t out_bytes);

/* Options. Always start from nnz_options_init, which sets every field to its default, so a
 * program keeps working when later versions add fields at the end. */
typedef struct nnz_options {
    uint32_t struct_size; /* set by nnz_options_init: the size the program was compiled with */
    /* Compression. */
    const char *model;    /* "hybrid" (default), "cm", "lstm", "transformer", "order2", "stored" */
    int level;            /* 1..9, default 5: the model's preset */
    /* Overrides of the preset's parameters, "name=value" each (names: nnzip -l on a file); they
     * are stored in the file, so decoding needs none of them. NULL/0: none. */
    const char *const *set;
    size_t n_set;
    int no_transform;     /* 1: model the bytes as they are (default 0: text is first rewritten
                           * where it helps) */
    uint64_t block_size;  /* bytes of input per block (docs/format.md "Members and blocks"): the
                           * model carries on across blocks, so this bounds memory, not ratio;
                           * 0 = the default, 4 MiB; one-shot calls code a buffer as one block */
    uint64_t member_size; /* > 0: end a member after this many input bytes and start the next
                           * with a fresh model (independently decodable pieces); 0 = one member */
    /* Float arrays: 1 = the input is float32 (raw little-endian, or a .npy file), coded by the
     * float model. Whole-buffer only: a stream keeps all of it until nnz_stream_finish. */
    int float32;
    double max_error;     /* float32: every value decoded within this of the original, exactly
                           * (0: bit for bit). NaN, inf and -0 are always kept */
    const char *shapes_json; /* float32, optional: the tensor list (JSON, as nnzip --shapes) */
    size_t shapes_len;
    /* Both directions. */
    int threads;          /* worker threads, >= 1 (default 1); never changes the output */
    uint64_t mem_limit;   /* decoding: refuse (NNZ_ERR_LIMIT) a member whose model needs more
                           * bytes; default: the most any preset needs; 0 = no limit */
    nnz_progress_fn progress; /* NULL: none */
    void *progress_ctx;
} nnz_options;

NNZ_API void nnz_options_init(nnz_options *o);

/* The most bytes nnz_compress can write for n bytes of input in one block and one member (the
 * defaults: block_size 0 or >= n, member_size 0), whatever the model and level. Smaller blocks
 * and members add their framing: with b = ceil(n / block_size) and m = ceil(n / member_size)
 * (1 without members), at most n + 431 m + 35 (b + m) bytes (per member a header of at most
 * 418 bytes and an end of 13; per block a head of at most 35, and a member's end may cut one
 * block in two). */
NNZ_API uint64_t nnz_compress_bound(uint64_t n);

/* Compress the n bytes at src into dst (cap bytes; nnz_compress_bound(n) suffices for the
 * default block and member sizes).
 * On NNZ_OK *dst_len is the size written; NNZ_ERR_SPACE if cap is too small. o may be NULL
 * (defaults). */
NNZ_API nnz_status nnz_compress(void *dst, size_t cap, size_t *dst_len, const void *src, size_t n,
                                const nnz_options *o);

/* The original size of the .nnz data at src (n bytes, every member), read from its headers
 * and framing without decoding; NNZ_ERR_TRUNCATED/CORRUPT/FORMAT if it is not whole. */
NNZ_API nnz_status nnz_decoded_size(uint64_t *size, const void *src, size_t n);

/* Decompress all members of the .nnz data at src into dst (cap bytes; nnz_decoded_size says
 * how many are needed). On NNZ_OK *dst_len is the original's size, verified. Any error leaves
 * dst's content unspecified. o may be NULL (only threads, mem_limit and progress are used). */
NNZ_API nnz_status nnz_decompress(void *dst, size_t cap, size_t *dst_len, const void *src,
                                  size_t n, const nnz_options *o);

/* ---- Streaming -------------------------------------------------------------------------- */

typedef struct nnz_stream nnz_stream;

/* A stream that compresses (nnz_encoder_new) or decompresses (nnz_decoder_new). The options
 * are copied (set strings and shapes_json too); o may be NULL. NNZ_ERR_ARG for bad options. */
NNZ_API nnz_status nnz_encoder_new(nnz_stream **s, const nnz_options *o);
NNZ_API nnz_status nnz_decoder_new(nnz_stream **s, const nnz_options *o);

/* Give the stream up to n bytes of input; *used says how many it took (all of them unless
 * output is waiting to be pulled: then pull, and push the rest). Coding happens inside push
 * (and finish), a block at a time, so a call may take a while. After an error the stream only
 * repeats it. */
NNZ_API nnz_status nnz_stream_push(nnz_stream *s, const void *in, size_t n, size_t *used);

/* Copy up to cap bytes of the output ready so far into out; *got says how many. */
NNZ_API nnz_status nnz_stream_pull(nnz_stream *s, void *out, size_t cap, size_t *got);

/* The input has ended. The encoder codes what is left and closes the member; the decoder checks
 * that the data ended at the end of a member (else NNZ_ERR_TRUNCATED). Then pull until
 * nnz_stream_done. No push after finish. */
NNZ_API nnz_status nnz_stream_finish(nnz_stream *s);

/* 1 when finish has been called, has completed, and all output has been pulled. */
NNZ_API int nnz_stream_done(const nnz_stream *s);

/* Decoding: the memory (bytes) the current member's model needs, once its header has been
 * read (0 before); with NNZ_ERR_LIMIT it says what mem_limit would admit it. */
NNZ_API uint64_t nnz_stream_memory(const nnz_stream *s);

/* Free the stream (NULL is fine). */
NNZ_API void nnz_stream_free(nnz_stream *s);

#ifdef __cplusplus
}
#endif

#endif
