/* nnzip: the command-line compressor, with gzip/xz/zstd conventions (see README.md). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "config.h"
#include "member.h"
#include "fileio.h"
#include "float/fcodec.h"
#include "float/npy.h"
#include "float/quant.h"
#include "nnzip.h"
#include "stream_int.h"

#define NNZIP_VERSION NNZ_VERSION_STRING
#define SUFFIX ".nnz"
#define DEFAULT_LEVEL 5
#define MAX_SETS 32
#define DEFAULT_MODEL "hybrid"

enum mode { MODE_COMPRESS, MODE_DECOMPRESS, MODE_TEST, MODE_LIST };

typedef struct options {
    enum mode mode;
    int to_stdout, force, remove_input, verbosity; /* verbosity: 0 quiet, 1 normal, 2 verbose */
    int level, threads, progress;                  /* progress: -1 auto, 0 off, 1 on */
    int no_transform;                              /* --no-transform: model the bytes as they are */
    const char *output, *model;
    const char *sets[MAX_SETS]; /* --set NAME=VALUE overrides of the preset, in order */
    int n_sets;
    uint64_t mem_limit; /* decoding: refuse files whose model needs more bytes; 0 = none */
    uint64_t block_size, member_size; /* --block-size, --member-size (0: the defaults) */
    int floats;         /* --float32 (or --max-error, --lossless, --shapes): float-array mode */
    double max_error;   /* float-array mode: the bound, 0 = lossless */
    const char *shapes; /* --shapes FILE: the tensor list */
} options;

static const char *prog = "nnzip";
static int quiet; /* -q: no warnings (errors are still reported) */

/* One line on stderr: "nnzip: NAME: reason". The format attribute lets the compiler check
 * every caller's arguments (and -Wformat-nonliteral accept the vfprintf below). */
__attribute__((format(printf, 2, 3))) static void fail(const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    if (name)
        fprintf(stderr, "%s: ", name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: %s [OPTION]... [FILE]...\n"
            "Compress or decompress FILEs with a neural-network predictor (default: compress\n"
            "FILE to FILE" SUFFIX ", keeping FILE). With no FILE, or when FILE is -, read standard input.\n"
            "\n"
            "  -z, --compress      compress (the default)\n"
            "  -d, --decompress    decompress FILE" SUFFIX " to FILE\n"
            "  -t, --test          check the integrity of compressed files\n"
            "  -l, --list          show header information of compressed files\n"
            "  -c, --stdout        write to standard output\n"
            "  -o, --output=OUT    write to OUT (one input file only)\n"
            "  -f, --force         overwrite existing output; write compressed data to a terminal\n"
            "  -k, --keep          keep the input file (the default)\n"
            "      --rm            remove the input file after a successful write\n"
            "  -1 ... -9           compression level: preset of the model (default %d)\n"
            "      --fast, --best  level 1, level 9\n"
            "  -m, --model=NAME    predictor:",
            prog, DEFAULT_LEVEL);
    for (const char *const *n = model_names(); *n; n++)
        fprintf(f, " %s", *n);
    fprintf(f, " (default %s)\n"
               "      --no-transform  model the input as it is (by default text is first rewritten:\n"
               "                      case flags and a dictionary of its frequent words)\n"
               "      --float32       the input is an array of float32 (raw little-endian, or a\n"
               "                      .npy file): coded by the float model, bit-exact unless\n"
               "      --max-error=E   every value is decoded within E of the original, exactly\n"
               "                      (E decimal, or 2^K; NaN, inf and -0 are kept as they are)\n"
               "      --lossless      float32 bit for bit (the default of --float32)\n"
               "      --shapes=FILE   tensor boundaries: JSON {\"tensors\": [{\"shape\": [...],\n"
               "                      \"offset\": ..., \"count\": ...}, ...]} (implies --float32)\n"
               "      --block-size=SIZE  bytes of input coded at a time (default 4 MiB): bounds the\n"
               "                      memory of both sides; the model carries on across blocks\n"
               "      --member-size=SIZE  start a new, independently decodable member every SIZE\n"
               "                      bytes of input (for parallel work; costs ratio)\n"
               "      --set=NAME=VAL  override one parameter of the preset (names: see -l on a\n"
               "                      .nnz file; stored in the header; repeatable)\n"
               "  -T, --threads=N     worker threads, 1..256, 0 = one per core (never changes the\n"
               "                      output)\n"
               "  -M, --memlimit=SIZE decoding: refuse files that need more memory (SIZE in bytes,\n"
               "                      or with KiB, MiB, GiB; 0 or max = no limit; default: the\n"
               "                      most any level needs, %llu MiB; --memory=SIZE is the same)\n"
               "      --progress      show progress even when stderr is not a terminal\n"
               "      --no-progress   never show progress\n"
               "  -q, --quiet         no warnings or progress\n"
               "  -v, --verbose       print sizes, bits per byte and speed per file\n"
               "  -h, --help          this help\n"
               "  -V, --version       version\n"
               "\nEnvironment: NNZIP_ISA=ref|avx2|avx512 forces one kernel path (for testing; the\n"
               "output is the same on every path).\n"
               "Exit status: 0 success, 1 error, 2 warning (a file was skipped).\n",
            DEFAULT_MODEL, (unsigned long long)((codec_preset_memory_max() + 1048575) >> 20));
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- progress line ---------------------------------------------------------------------- */

typedef struct progress {
    const char *name;
    double start, last;
    int shown, tty; /* tty: rewrite one line in place; else plain lines, no escape codes */
    int compress;
    uint64_t total; /* the input's size when known (a regular file), else 0 */
} progress;

static void progress_cb(void *ctx, uint64_t in_bytes, uint64_t out_bytes)
{
    progress *p = ctx;
    double t = now_seconds();
    if (p->shown && t - p->last < (p->tty ? 0.2 : 1.0))
        return;
    p->last = t;
    double el = t - p->start, rate = el > 0 ? in_bytes / el : 0;
    uint64_t orig = p->compress ? in_bytes : out_bytes, packed = p->compress ? out_bytes : in_bytes;
    double bpb = orig ? 8.0 * packed / orig : 0;
    fprintf(stderr, "%s%s: ", p->tty ? "\r" : "", p->name);
    if (p->total) {
        double eta = rate > 0 && p->total > in_bytes ? (p->total - in_bytes) / rate : 0;
        fprintf(stderr, "%5.1f%%  ", 100.0 * in_bytes / p->total);
        fprintf(stderr, "%7.1f kB/s  %.3f bpb  ETA %d:%02d%s", rate / 1000, bpb, (int)(eta / 60),
                (int)eta % 60, p->tty ? " " : "\n");
    } else {
        fprintf(stderr, "%.1f MB  %7.1f kB/s  %.3f bpb%s", in_bytes / 1e6, rate / 1000, bpb,
                p->tty ? " " : "\n");
    }
    p->shown = 1;
}

static void progress_end(progress *p)
{
    if (p->shown && p->tty)
        fprintf(stderr, "\r\033[K");
}

/* ---- one file ------------------------------------------------------------------------------- */

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n > m && strcmp(s + n - m, suf) == 0;
}

/* Output name for an input, or NULL with a message: returns a malloc'd string. */
static char *output_name(const options *o, const char *in, int *warn)
{
    if (o->output)
        return strdup(o->output);
    size_t n = strlen(in);
    if (o->mode == MODE_COMPRESS) {
        if (has_suffix(in, SUFFIX)) {
            if (!quiet)
                fail(in, "already has " SUFFIX " suffix -- skipped");
            *warn = 1;
            return NULL;
        }
        char *out = malloc(n + sizeof SUFFIX);
        if (out)
            memcpy(out, in, n), memcpy(out + n, SUFFIX, sizeof SUFFIX);
        return out;
    }
    if (!has_suffix(in, SUFFIX)) {
        if (!quiet)
            fail(in, "unknown suffix -- skipped (use -c or -o to name the output)");
        *warn = 1;
        return NULL;
    }
    return strndup(in, n - strlen(SUFFIX));
}

static double mib(uint64_t bytes)
{
    return bytes / 1048576.0;
}

/* MiB rounded up, for a --memlimit value that admits the file. */
static unsigned long long mib_up(uint64_t bytes)
{
    return (unsigned long long)((bytes + 1048575) / 1048576);
}

/* crc: the member's CRC-32, or NULL for the totals of several members (their CRCs do not add
 * up to the whole's, and -l decodes nothing to compute it) */
static void list_sizes(uint64_t orig, uint64_t packed, const uint32_t *crc)
{
    printf("  original %llu bytes, compressed %llu bytes, ratio %.3f, %.3f bits per byte",
           (unsigned long long)orig, (unsigned long long)packed,
           orig && packed ? (double)orig / (double)packed : 0.0,
           orig ? 8.0 * (double)packed / (double)orig : 0.0);
    if (crc)
        printf(", crc32 %08x", *crc);
    printf("\n");
}

static void list_float(const member_info *mi)
{
    const fmt_header *h = &mi->h;
    fl_info fi;
    nc_status st = fl_describe(&fi, h, &mi->cfg, mi->v1 + (mi->v1_len - h->payload_size),
                               (size_t)h->payload_size);
    if (st != NC_OK) {
        printf("  model float: %s\n", codec_status_str(st));
        return;
    }
    printf("  model float, %s, %.1f MiB of memory to decode\n",
           fi.kind == FL_KIND_NPY ? ".npy file" : "raw float32", mib(codec_model_memory(&mi->cfg)));
    if (fi.max_error == 0)
        printf("  lossless: every value bit for bit\n");
    else
        printf("  lossy: every value within %a (%.9g) of the original; NaN, inf, -0 exact\n",
               fi.max_error, fi.max_error);
    printf("  %llu floats in %u tensor%s, %.3f bits per float\n", (unsigned long long)fi.floats,
           fi.n_tensors, fi.n_tensors == 1 ? "" : "s",
           fi.floats ? 8.0 * (double)mi->packed / (double)fi.floats : 0.0);
}

typedef struct lister {
    const char *name;
    uint64_t members, orig, packed;
} lister;

/* nnzip -l: one paragraph per member, as the scanner finds it. */
static void list_member(void *ctx, const member_info *mi)
{
    lister *l = ctx;
    const fmt_header *h = &mi->h;
    const model_config *cfg = &mi->cfg;
    if (l->members++ == 0)
        printf("%s\n", l->name);
    l->orig += mi->orig;
    l->packed += mi->packed;
    printf(" member %llu\n", (unsigned long long)l->members);
    if (h->model_id == MODEL_FLOAT) {
        list_float(mi);
        list_sizes(mi->orig, mi->packed, &mi->crc);
        return;
    }
    const model_ops *ops = h->model_id == MODEL_STORED ? NULL : model_find_id(h->model_id);
    uint64_t params = 0, bytes = 0;
    if (ops)
        ops->size(cfg, &params, &bytes);
    uint32_t net_id = 0;
    const model_ops *net = NULL;
    if (h->model_id == MODEL_CM && model_config_get(cfg, MP_CM_NET, &net_id) == NC_OK)
        net = model_find_id(net_id);
    const char *net_name = net_id == MODEL_LSTM ? "lstm" : "transformer";
    printf("  model %s%s%s, level %d, %llu learned parameters, %.1f MiB of memory to decode\n",
           ops ? ops->name : "stored", net ? "+" : "", net ? net_name : "", h->level,
           (unsigned long long)params, mib(codec_model_memory(cfg)));
    if (net) { /* a hybrid: the size of each part */
        model_config ncfg = *cfg;
        uint64_t np = 0, nb = 0;
        ncfg.id = (uint8_t)net_id;
        net->size(&ncfg, &np, &nb);
        printf("  parts: context mixing %llu parameters, %.1f MiB; network (%s) %llu parameters,"
               " %.1f MiB\n",
               (unsigned long long)(params - np), mib(bytes - nb), net_name,
               (unsigned long long)np, mib(nb));
    }
    if (h->version == FMT_VERSION) { /* a whole-buffer member (written before blocks) */
        uint64_t m = codec_modelled_size(h, cfg);
        printf("  one payload (format 1)\n  transform: %s", model_config_has(cfg, MP_TRANSFORM)
                                                            ? "text (case flags, dictionary)" : "none");
        if (model_config_has(cfg, MP_TRANSFORM))
            printf(": the model codes %llu bytes, %.1f %% of the original", (unsigned long long)m,
                   h->orig_size ? 100.0 * (double)m / (double)h->orig_size : 0.0);
        printf("\n");
    } else {
        printf("  %llu block%s of up to %llu bytes, %llu stored; the model codes %llu bytes, %.1f %%"
               " of the original\n",
               (unsigned long long)mi->blocks, mi->blocks == 1 ? "" : "s",
               (unsigned long long)mi->block, (unsigned long long)mi->stored_blocks,
               (unsigned long long)mi->modelled,
               mi->orig ? 100.0 * (double)mi->modelled / (double)mi->orig : 0.0);
        if (mi->text_blocks)
            printf("  transform: text (case flags, dictionary) in %llu of %llu blocks\n",
                   (unsigned long long)mi->text_blocks, (unsigned long long)mi->blocks);
        else
            printf("  transform: none\n");
    }
    printf("  params:");
    for (unsigned i = 0; i < h->n_params; i++) {
        const char *pn = model_param_name(h->params[i].key);
        float f;
        memcpy(&f, &h->params[i].value, sizeof f);
        if (pn && model_param_is_float(h->params[i].key))
            printf(" %s=%g", pn, (double)f);
        else if (pn)
            printf(" %s=%u", pn, h->params[i].value);
        else
            printf(" key%u=%u", h->params[i].key, h->params[i].value);
    }
    printf("\n");
    list_sizes(mi->orig, mi->packed, &mi->crc);
}

/* The tensor list of --shapes, read whole (a pipe too): 0, or 1 after an error line. */
static int read_shapes(const options *o, uint8_t **json, size_t *len)
{
    *json = NULL;
    *len = 0;
    if (!o->shapes)
        return 0;
    int fd = open(o->shapes, O_RDONLY); /* any readable file: a pipe too (<(...)) */
    if (fd < 0 || read_all(fd, json, len, 1 << 16) != 0) {
        fail(o->shapes, "%s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return 1;
    }
    close(fd);
    return 0;
}

/* Where a stream's output goes: standard output, a temporary file, or nowhere (-t, -l). */
typedef struct sink {
    int to_stdout, discard;
    out_file *of;
    uint64_t in_bytes, bytes; /* read, and written */
} sink;

static int sink_write(sink *k, const uint8_t *p, size_t n)
{
    k->bytes += n;
    if (k->discard || n == 0)
        return 0;
    return k->to_stdout ? write_stdout(p, n) : out_write(k->of, p, n);
}

/* The input's bytes through stream s into k, a chunk at a time: memory stays the stream's.
 * Returns NC_OK, NC_ERR_IO (errno set; *io_out says whether the output failed), or the
 * stream's error. */
#define CHUNK (1u << 20)
static nc_status pump(nnz_stream *s, int fd, sink *k, uint8_t *chunk, int *io_out)
{
    *io_out = 0;
    nc_status st = NC_OK;
    int eof = 0;
    while (st == NC_OK && !nnz_stream_done(s)) {
        size_t n = 0;
        if (!eof) {
            ssize_t r;
            do
                r = read(fd, chunk, CHUNK);
            while (r < 0 && errno == EINTR);
            if (r < 0)
                return NC_ERR_IO;
            n = (size_t)r;
            eof = r == 0;
            k->in_bytes += n;
        }
        size_t off = 0;
        do {
            size_t used = 0, got;
            if (n) {
                st = (nc_status)nnz_stream_push(s, chunk + off, n - off, &used);
                off += used;
            } else if (eof) {
                st = (nc_status)nnz_stream_finish(s);
            }
            /* pull into the part of chunk already pushed (or a second buffer when none) */
            static uint8_t outbuf[CHUNK];
            while (st == NC_OK
                   && (st = (nc_status)nnz_stream_pull(s, outbuf, sizeof outbuf, &got)) == NC_OK
                   && got) {
                if (sink_write(k, outbuf, got) != 0) {
                    *io_out = 1;
                    return NC_ERR_IO;
                }
            }
        } while (st == NC_OK && off < n);
        if (eof && st == NC_OK && !nnz_stream_done(s)) {
            size_t got;
            static uint8_t tail[CHUNK];
            st = (nc_status)nnz_stream_pull(s, tail, sizeof tail, &got);
            if (st == NC_OK && got && sink_write(k, tail, got) != 0) {
                *io_out = 1;
                return NC_ERR_IO;
            }
            if (st == NC_OK && !got && !nnz_stream_done(s))
                st = NC_ERR_ARG; /* a stream that neither ends nor gives output: our bug */
        }
    }
    return st;
}

static int process(const options *o, const char *in_name)
{
    int from_stdin = !in_name || strcmp(in_name, "-") == 0;
    const char *shown = from_stdin ? "(stdin)" : in_name;
    int to_stdout = o->to_stdout || (from_stdin && !o->output);
    int writes = o->mode == MODE_COMPRESS || o->mode == MODE_DECOMPRESS;
    int warn = 0, rc = 1, fd = -1;
    char *out_name = NULL;
    uint8_t *chunk = NULL, *json = NULL;
    size_t json_len = 0;
    struct stat st, so;
    out_file of = { .fd = -1 };
    nnz_stream *s = NULL;

    if (o->mode == MODE_COMPRESS && to_stdout && isatty(STDOUT_FILENO) && !o->force) {
        fail(NULL, "compressed data not written to a terminal (use -f to force, or redirect)");
        return 1;
    }
    if (writes && !to_stdout) {
        out_name = output_name(o, in_name, &warn);
        if (!out_name)
            return warn ? 2 : 1;
    }
    /* A pipe (a FIFO, <(cmd)) is read as it comes when the output is named (-c, -o) or not
     * written (-t, -l): a name derived from a pipe's would be a surprise. */
    int named_out = to_stdout || o->output || !writes;
    int r = open_input(from_stdin ? NULL : in_name, &fd, &st, named_out);
    if (r == -2) {
        if (!quiet)
            fail(shown, "not a regular file -- skipped%s",
                 named_out ? "" : " (a pipe can be read with -c or -o)");
        free(out_name);
        return 2;
    }
    if (r != 0) {
        fail(shown, "%s", strerror(errno));
        goto done;
    }
    /* The output must never be the input (-o to itself, through ./, a link, or stdout
     * redirected into it): refuse before reading or writing anything. */
    if (writes && S_ISREG(st.st_mode)
        && (to_stdout ? fstat(STDOUT_FILENO, &so) == 0 && so.st_dev == st.st_dev
                            && so.st_ino == st.st_ino
                      : is_same_file(out_name, &st))) {
        fail(shown, "the output %s is the input itself: refusing to overwrite it",
             to_stdout ? "(stdout)" : out_name);
        goto done;
    }
    /* Every reason the output cannot be written is found now, not after the modelling. */
    if (writes && !to_stdout && (r = out_open(&of, out_name, o->force)) != 0) {
        if (r == -2)
            fail(out_name,
                 "not a regular file: refusing to replace it (use -c to write into it)");
        else if (errno == EEXIST)
            fail(out_name, "already exists; use -f to overwrite");
        else
            fail(out_name, "%s", strerror(errno));
        goto done;
    }
    if (!(chunk = malloc(CHUNK))) {
        fail(shown, "%s", strerror(ENOMEM));
        goto done;
    }
    lister li = { .name = shown };
    int show = o->verbosity > 0 && (o->progress == 1 || (o->progress == -1 && isatty(STDERR_FILENO)));
    progress pr = { .name = shown, .start = now_seconds(), .tty = isatty(STDERR_FILENO),
                    .total = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0,
                    .compress = o->mode == MODE_COMPRESS };
    nnz_options no;
    nnz_options_init(&no);
    no.threads = o->threads;
    no.mem_limit = o->mem_limit;
    no.no_transform = o->no_transform;
    no.block_size = o->block_size;
    no.member_size = o->member_size;
    no.progress = show ? progress_cb : NULL;
    no.progress_ctx = &pr;
    nc_status e;
    if (o->mode == MODE_LIST) {
        e = stream_scanner_new(&s, list_member, &li);
    } else if (o->mode == MODE_COMPRESS && o->floats) {
        if (read_shapes(o, &json, &json_len) != 0)
            goto done;
        no.float32 = 1;
        no.max_error = o->max_error;
        no.shapes_json = (const char *)json;
        no.shapes_len = json_len;
        e = (nc_status)nnz_encoder_new(&s, &no);
    } else if (o->mode == MODE_COMPRESS) {
        model_config cfg;
        char why[200];
        if (codec_config_build(&cfg, o->model, o->level, o->sets, (size_t)o->n_sets, why,
                               sizeof why) != NC_OK) {
            fail(NULL, "%s", why);
            goto done;
        }
        uint64_t need = codec_model_memory(&cfg), dflt = codec_preset_memory_max();
        if (need > dflt && !quiet)
            fail(shown, "warning: decoding will need %.1f MiB, more than the default limit of "
                        "%.1f MiB: decode with --memlimit=%lluMiB",
                 mib(need), mib(dflt), mib_up(need));
        e = stream_encoder_cfg(&s, &cfg, &no);
    } else {
        e = (nc_status)nnz_decoder_new(&s, &no);
    }
    if (e != NC_OK) {
        fail(shown, "%s", codec_status_str(e));
        goto done;
    }
    if (show)
        progress_cb(&pr, 0, 0); /* at once: a large model takes a while to start */
    sink k = { .to_stdout = to_stdout, .discard = !writes, .of = &of };
    int io_out;
    e = pump(s, fd, &k, chunk, &io_out);
    progress_end(&pr);
    if (e == NC_ERR_IO) {
        fail(io_out ? (to_stdout ? "(stdout)" : out_name) : shown, "%s", strerror(errno));
        goto done;
    }
    if (e == NC_ERR_LIMIT && o->mode != MODE_COMPRESS && nnz_stream_memory(s) > o->mem_limit
        && o->mem_limit) {
        fail(shown, "decoding needs %.1f MiB of memory, more than the limit of %.1f MiB "
                    "(--memlimit=%lluMiB allows it)",
             mib(nnz_stream_memory(s)), mib(o->mem_limit), mib_up(nnz_stream_memory(s)));
        goto done;
    }
    if (e != NC_OK) {
        if (o->mode == MODE_COMPRESS && o->floats && e == NC_ERR_ARG)
            fail(stream_why_shapes(s) ? o->shapes : shown, "%s",
                 stream_why(s) ? stream_why(s) : codec_status_str(e));
        else
            fail(shown, "%s", codec_status_str(e));
        goto done;
    }
    if (o->mode == MODE_LIST) {
        if (li.members > 1) {
            printf(" %llu members in all\n", (unsigned long long)li.members);
            list_sizes(li.orig, li.packed, NULL);
        }
        rc = 0;
        goto done;
    }
    if (writes && !to_stdout && out_commit(&of, NULL, 0, from_stdin || !S_ISREG(st.st_mode) ? NULL : &st,
                                           o->remove_input) != 0) {
        if (errno == EEXIST)
            fail(out_name, "already exists; use -f to overwrite");
        else
            fail(out_name, "%s", strerror(errno));
        goto done;
    }
    if (o->verbosity > 1) {
        double el = now_seconds() - pr.start;
        uint64_t in_bytes = k.in_bytes, out_bytes = k.bytes;
        uint64_t orig = o->mode == MODE_COMPRESS ? in_bytes : out_bytes;
        uint64_t packed = o->mode == MODE_COMPRESS ? out_bytes : in_bytes;
        fprintf(stderr, "%s: %llu -> %llu bytes, %.3f bpb, %.2f s, %.1f kB/s%s\n", shown,
                (unsigned long long)orig, (unsigned long long)packed,
                orig ? 8.0 * packed / orig : 0.0, el, el > 0 ? orig / el / 1000 : 0.0,
                o->mode == MODE_TEST ? " (test ok)" : "");
    }
    /* Only a file we wrote and flushed ourselves justifies removing the input: after -c we
     * cannot know the reader of our output kept it. main() warned about --rm with -c. */
    if (o->remove_input && !from_stdin && !to_stdout && S_ISREG(st.st_mode)
        && o->mode != MODE_TEST && unlink(in_name) != 0) {
        fail(in_name, "could not remove: %s", strerror(errno));
        goto done;
    }
    rc = 0;
done:
    nnz_stream_free(s);
    out_abort(&of);
    if (fd > STDIN_FILENO)
        close(fd);
    free(chunk);
    free(json);
    free(out_name);
    return rc;
}

/* ---- arguments ------------------------------------------------------------------------------ */

static int parse_int(const char *s, int lo, int hi, int *v)
{
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (errno || end == s || *end || x < lo || x > hi)
        return -1;
    *v = (int)x;
    return 0;
}

/* "123", "64MiB", "1.5GiB" ("K"/"M"/"G", "KB"/"MB"/"GB" and lower case too mean powers of
 * 1024, as in xz), "max" or "0" (no limit: 0). */
static int parse_size(const char *s, uint64_t *v)
{
    if (strcmp(s, "max") == 0) {
        *v = 0;
        return 0;
    }
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (errno || end == s || !(x >= 0) || s[0] == '-')
        return -1;
    static const struct { const char *suffix; double scale; } units[] = {
        { "", 1 }, { "k", 1024 }, { "K", 1024 }, { "KB", 1024 }, { "KiB", 1024 },
        { "m", 1048576 }, { "M", 1048576 }, { "MB", 1048576 }, { "MiB", 1048576 },
        { "g", 1073741824 }, { "G", 1073741824 }, { "GB", 1073741824 }, { "GiB", 1073741824 },
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].suffix) == 0) {
            double b = x * units[i].scale;
            if (b >= 18446744073709551615.0)
                return -1;
            *v = (uint64_t)b;
            return 0;
        }
    }
    return -1;
}

/* Value of an option that takes one: attached ("-T2", "--threads=2") or the next argument. */
/* Whether name is a model users may pick (the older ones only decode their files). */
static int user_model(const char *name)
{
    return codec_model_known(name);
}

static const char *take_value(const char *attached, int *i, int argc, char **argv, const char *opt)
{
    if (attached && *attached)
        return attached;
    if (*i + 1 < argc)
        return argv[++*i];
    fail(NULL, "option %s needs a value", opt);
    return NULL;
}

static int set_value_option(options *o, char opt, const char *v)
{
    switch (opt) {
    case 'o':
        o->output = v;
        return 0;
    case 'm':
        if (!user_model(v)) {
            fail(NULL, "unknown model '%s' (see --help)", v);
            return -1;
        }
        o->model = v;
        return 0;
    case 'S':
        if (o->n_sets == MAX_SETS) {
            fail(NULL, "at most %d --set options", MAX_SETS);
            return -1;
        }
        o->sets[o->n_sets++] = v;
        return 0;
    case 'T':
        if (parse_int(v, 0, 256, &o->threads) != 0) {
            fail(NULL, "threads must be 0..256 (0: one per core), not '%s'", v);
            return -1;
        }
        if (o->threads == 0) {
            long n = sysconf(_SC_NPROCESSORS_ONLN);
            o->threads = n < 1 ? 1 : n > 256 ? 256 : (int)n;
        }
        return 0;
    case 'E':
        if (fq_parse_bound(&o->max_error, v) != 0 || (o->max_error != 0 && !fq_bound_ok(o->max_error))) {
            fail(NULL, "--max-error '%s': give a number >= 0 (decimal, or 2^K such as 2^-17)", v);
            return -1;
        }
        o->floats = 1;
        return 0;
    case 'H':
        o->shapes = v;
        o->floats = 1;
        return 0;
    case 'B':
    case 'G': {
        uint64_t *dst = opt == 'B' ? &o->block_size : &o->member_size;
        if (parse_size(v, dst) != 0 || *dst == 0 || (opt == 'B' && *dst > BLK_SIZE_MAX)) {
            fail(NULL, "--%s '%s': give bytes, or a number with KiB, MiB or GiB%s",
                 opt == 'B' ? "block-size" : "member-size", v, opt == 'B' ? " (at most 1 GiB)" : "");
            return -1;
        }
        return 0;
    }
    case 'M':
        if (parse_size(v, &o->mem_limit) != 0) {
            fail(NULL, "memory limit '%s': give bytes, or a number with KiB, MiB or GiB (or max)", v);
            return -1;
        }
        return 0;
    }
    return -1;
}

/* Returns 0 to go on, 1 on error, -1 to exit 0 (help/version). */
static int parse_args(options *o, int argc, char **argv, char ***files, int *n_files)
{
    static const struct { const char *name; char opt; } longs[] = {
        { "compress", 'z' }, { "decompress", 'd' }, { "uncompress", 'd' }, { "test", 't' },
        { "list", 'l' },     { "stdout", 'c' },     { "to-stdout", 'c' },  { "force", 'f' },
        { "keep", 'k' },     { "quiet", 'q' },      { "verbose", 'v' },    { "help", 'h' },
        { "version", 'V' },  { "output", 'o' },     { "model", 'm' },      { "threads", 'T' },
        { "rm", 'R' },       { "progress", 'P' },   { "no-progress", 'N' }, { "set", 'S' },
        { "fast", '1' },     { "best", '9' },       { "memlimit", 'M' },   { "memory", 'M' },
        { "no-transform", 'X' }, { "float32", 'F' },    { "max-error", 'E' },
        { "lossless", 'L' },     { "shapes", 'H' },     { "block-size", 'B' },
        { "member-size", 'G' },
    };
    int only_files = 0;
    *n_files = 0;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (only_files || a[0] != '-' || a[1] == 0) {
            (*files)[(*n_files)++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_files = 1;
            continue;
        }
        char shorts[2] = { 0, 0 };
        const char *flags = a + 1, *attached = NULL;
        if (a[1] == '-') { /* long option, maybe --name=value */
            char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            size_t k = 0;
            for (; k < sizeof longs / sizeof longs[0]; k++)
                if (strlen(longs[k].name) == len && strncmp(a + 2, longs[k].name, len) == 0)
                    break;
            if (k == sizeof longs / sizeof longs[0]) {
                fail(NULL, "unknown option '%s' (see --help)", a);
                return 1;
            }
            shorts[0] = longs[k].opt;
            flags = shorts;
            attached = eq ? eq + 1 : NULL;
            if (attached && !strchr("omTSMEHBG", shorts[0])) {
                fail(NULL, "option '--%s' takes no value", longs[k].name);
                return 1;
            }
        }
        for (const char *f = flags; *f; f++) {
            switch (*f) {
            case 'z': o->mode = MODE_COMPRESS; break;
            case 'd': o->mode = MODE_DECOMPRESS; break;
            case 't': o->mode = MODE_TEST; break;
            case 'l': o->mode = MODE_LIST; break;
            case 'c': o->to_stdout = 1; break;
            case 'f': o->force = 1; break;
            case 'k': o->remove_input = 0; break;
            case 'R': o->remove_input = 1; break;
            case 'q': o->verbosity = 0; break;
            case 'v': o->verbosity = 2; break;
            case 'P': o->progress = 1; break;
            case 'N': o->progress = 0; break;
            case 'X': o->no_transform = 1; break;
            case 'F': o->floats = 1; break;
            case 'L': o->floats = 1; o->max_error = 0; break;
            case 'h': usage(stdout); return -1;
            case 'V': printf("nnzip %s (.nnz format %u; decodes formats %u and %u)\n", NNZIP_VERSION, FMT_VERSION_BLOCKS, FMT_VERSION, FMT_VERSION_BLOCKS); return -1;
            case 'o': case 'm': case 'T': case 'S': case 'M': case 'E': case 'H': case 'B':
            case 'G': {
                const char *v = take_value(attached ? attached : f + 1, &i, argc, argv, a);
                if (!v || set_value_option(o, *f, v) != 0)
                    return 1;
                f += strlen(f) - 1; /* the rest of this argument was the value */
                break;
            }
            default:
                if (*f >= '0' && *f <= '9') { /* a level: one digit 1..9, never -19 read as -9 */
                    size_t n = strspn(f, "0123456789");
                    if (n != 1 || *f == '0') {
                        fail(NULL, "unknown level '-%.*s' (levels are -1 ... -9, --fast, --best)",
                             (int)n, f);
                        return 1;
                    }
                    o->level = *f - '0';
                    break;
                }
                fail(NULL, "unknown option '-%c' (see --help)", *f);
                return 1;
            }
        }
    }
    return 0;
}

/* What went to standard output through stdio (-l, --help, --version) is written at the end: a
 * full disk there must be an error too, not a silent exit 0. 1 if it all went out. */
static int stdout_flushed(void)
{
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout))
        return 1;
    fail("(stdout)", "%s", errno ? strerror(errno) : "write error");
    return 0;
}

int main(int argc, char **argv)
{
    options o = { .mode = MODE_COMPRESS, .verbosity = 1, .level = DEFAULT_LEVEL, .threads = 1,
                  .progress = -1, .model = DEFAULT_MODEL, .mem_limit = codec_preset_memory_max() };
    char **files = calloc((size_t)argc + 1, sizeof *files);
    int n_files = 0;
    if (!files)
        return 1;
    int r = parse_args(&o, argc, argv, &files, &n_files);
    if (r != 0) {
        free(files);
        return r < 0 && stdout_flushed() ? 0 : 1;
    }
    if (n_files == 0)
        files[n_files++] = "-";
    if (o.output && (n_files > 1 || o.to_stdout)) {
        fail(NULL, n_files > 1 ? "-o takes one input file" : "-o and -c exclude each other");
        free(files);
        return 1;
    }
    /* The test switch that forces one kernel path for the whole process (docs/determinism.md). */
    nc_status isa = nc_isa_from_env();
    if (isa != NC_OK) {
        fail(NULL, "NNZIP_ISA=%s: %s", getenv("NNZIP_ISA"),
             isa == NC_ERR_ARG ? "unknown (use ref, avx2 or avx512)" : "not supported on this machine");
        free(files);
        return 1;
    }
    quiet = o.verbosity == 0;
    if (o.remove_input && o.to_stdout && !quiet)
        fail(NULL, "--rm ignored with -c: the input is kept");
    fileio_install_signal_cleanup();
    int status = 0;
    for (int i = 0; i < n_files; i++) {
        int s = process(&o, files[i]);
        if (s == 1 || (s == 2 && status == 0))
            status = s;
    }
    free(files);
    if (!stdout_flushed())
        status = 1;
    return status;
}
