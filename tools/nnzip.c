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
#include "fileio.h"
#include "float/fcodec.h"
#include "float/npy.h"
#include "float/quant.h"

#define NNZIP_VERSION "0.1.0"
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
    int floats;         /* --float32 (or --max-error, --lossless, --shapes): float-array mode */
    double max_error;   /* float-array mode: the bound, 0 = lossless */
    const char *shapes; /* --shapes FILE: the tensor list */
} options;

static const char *prog = "nnzip";
static int quiet; /* -q: no warnings (errors are still reported) */

/* One line on stderr: "nnzip: NAME: reason". */
static void fail(const char *name, const char *fmt, ...)
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
} progress;

static void progress_cb(void *ctx, uint64_t done, uint64_t total, uint64_t coded)
{
    progress *p = ctx;
    double t = now_seconds();
    if (p->shown && t - p->last < (p->tty ? 0.2 : 1.0) && done < total)
        return;
    p->last = t;
    double el = t - p->start, rate = el > 0 ? done / el : 0;
    double eta = rate > 0 ? (total - done) / rate : 0;
    double bpb = done ? 8.0 * coded / done : 0;
    fprintf(stderr, "%s%s: %5.1f%%  %7.1f kB/s  %.3f bpb  ETA %d:%02d%s", p->tty ? "\r" : "",
            p->name, total ? 100.0 * done / total : 100.0, rate / 1000, bpb, (int)(eta / 60),
            (int)eta % 60, p->tty ? " " : "\n");
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

/* The header and model config of a .nnz file: 0, or 1 after an error line. */
static int inspect(const char *name, const uint8_t *data, size_t len, fmt_header *h,
                   model_config *cfg)
{
    nc_status st = codec_inspect(h, cfg, data, len);
    if (st != NC_OK) {
        fail(name, "%s", nc_status_str(st));
        return 1;
    }
    return 0;
}

static void list_sizes(const fmt_header *h, size_t len)
{
    printf("  original %llu bytes, compressed %zu bytes, ratio %.3f, %.3f bits per byte, crc32 %08x\n",
           (unsigned long long)h->orig_size, len, h->orig_size ? (double)h->orig_size / len : 0.0,
           h->orig_size ? 8.0 * len / h->orig_size : 0.0, h->orig_crc);
}

static int list_float(const char *name, const uint8_t *data, size_t len, const fmt_header *h,
                      const model_config *cfg)
{
    fl_info fi;
    nc_status st = fl_describe(&fi, h, cfg, data + (len - h->payload_size), (size_t)h->payload_size);
    if (st != NC_OK) {
        fail(name, "%s", nc_status_str(st));
        return 1;
    }
    printf("%s\n  model float, %s, %.1f MiB of memory to decode\n", name,
           fi.kind == FL_KIND_NPY ? ".npy file" : "raw float32", mib(codec_model_memory(cfg)));
    if (fi.max_error == 0)
        printf("  lossless: every value bit for bit\n");
    else
        printf("  lossy: every value within %a (%.9g) of the original; NaN, inf, -0 exact\n",
               fi.max_error, fi.max_error);
    printf("  %llu floats in %u tensor%s, %.3f bits per float\n", (unsigned long long)fi.floats,
           fi.n_tensors, fi.n_tensors == 1 ? "" : "s",
           fi.floats ? 8.0 * (double)len / (double)fi.floats : 0.0);
    list_sizes(h, len);
    return 0;
}

/* Returns 0, or 1 after an error line. */
static int list_file(const char *name, const uint8_t *data, size_t len)
{
    fmt_header h;
    model_config cfg;
    if (inspect(name, data, len, &h, &cfg) != 0)
        return 1;
    if (h.model_id == MODEL_FLOAT)
        return list_float(name, data, len, &h, &cfg);
    const model_ops *ops = h.model_id == MODEL_STORED ? NULL : model_find_id(h.model_id);
    uint64_t params = 0, bytes = 0;
    if (ops)
        ops->size(&cfg, &params, &bytes);
    uint32_t net_id = 0;
    const model_ops *net = NULL;
    if (h.model_id == MODEL_CM && model_config_get(&cfg, MP_CM_NET, &net_id) == NC_OK)
        net = model_find_id(net_id);
    const char *net_name = net_id == MODEL_LSTM ? "lstm" : "transformer";
    printf("%s\n  model %s%s%s, level %d, %llu learned parameters, %.1f MiB of memory to decode\n",
           name, ops ? ops->name : "stored (data did not compress)", net ? "+" : "",
           net ? net_name : "", h.level, (unsigned long long)params, mib(codec_model_memory(&cfg)));
    if (net) { /* a hybrid: the size of each part */
        model_config nc = cfg;
        uint64_t np = 0, nb = 0;
        nc.id = (uint8_t)net_id;
        net->size(&nc, &np, &nb);
        printf("  parts: context mixing %llu parameters, %.1f MiB; network (%s) %llu parameters,"
               " %.1f MiB\n",
               (unsigned long long)(params - np), mib(bytes - nb), net_name,
               (unsigned long long)np, mib(nb));
    }
    uint64_t m = codec_modelled_size(&h, &cfg);
    if (model_config_has(&cfg, MP_TRANSFORM))
        printf("  transform: text (case flags, dictionary): the model codes %llu bytes, %.1f %% of"
               " the original\n",
               (unsigned long long)m, h.orig_size ? 100.0 * (double)m / (double)h.orig_size : 0.0);
    else
        printf("  transform: none\n");
    printf("  params:");
    for (unsigned i = 0; i < h.n_params; i++) {
        const char *pn = model_param_name(h.params[i].key);
        float f;
        memcpy(&f, &h.params[i].value, sizeof f);
        if (pn && model_param_is_float(h.params[i].key))
            printf(" %s=%g", pn, (double)f);
        else if (pn)
            printf(" %s=%u", pn, h.params[i].value);
        else
            printf(" key%u=%u", h.params[i].key, h.params[i].value);
    }
    printf("\n");
    list_sizes(&h, len);
    return 0;
}

/* Before decoding: the header is sound and its model fits the memory limit. 0, or 1 after an
 * error line that names the memory the file needs. */
static int check_decodable(const options *o, const char *name, const uint8_t *in, size_t len)
{
    fmt_header h;
    model_config cfg;
    if (inspect(name, in, len, &h, &cfg) != 0)
        return 1;
    uint64_t need = codec_model_memory(&cfg);
    if (o->mem_limit && need > o->mem_limit) {
        fail(name, "decoding needs %.1f MiB of memory, more than the limit of %.1f MiB "
                   "(--memlimit=%lluMiB allows it)",
             mib(need), mib(o->mem_limit), mib_up(need));
        return 1;
    }
    return 0;
}

/* Returns 0 ok, 1 error, 2 warning. */
static int apply_sets(model_config *cfg, const model_ops *ops, const options *o);

/* The float-array mode's compression: 0, or 1 after an error line. */
static int compress_floats(const options *o, const char *shown, const uint8_t *in, size_t in_len,
                           uint8_t **out, size_t *out_len, const codec_opts *co)
{
    fl_tensor *t = NULL;
    uint32_t nt = 0;
    const char *why = NULL;
    if (o->shapes) {
        uint8_t *json = NULL;
        size_t jl = 0;
        int fd = open(o->shapes, O_RDONLY); /* any readable file: a pipe too (<(...)) */
        if (fd < 0 || read_all(fd, &json, &jl, 1 << 16) != 0) {
            fail(o->shapes, "%s", strerror(errno));
            if (fd >= 0)
                close(fd);
            return 1;
        }
        close(fd);
        uint64_t floats = in_len / 4;
        npy_info ni;
        if (npy_is_npy(in, in_len) && npy_parse(&ni, in, in_len, &why) == NC_OK)
            floats = ni.count;
        nc_status s = fl_shapes_parse(&t, &nt, (const char *)json, jl, floats, &why);
        free(json);
        if (s != NC_OK) {
            fail(o->shapes, "%s", why ? why : nc_status_str(s));
            return 1;
        }
    }
    fl_opts fo = { .max_error = o->max_error, .tensors = t, .n_tensors = nt };
    nc_status s = fl_compress(out, out_len, in, in_len, &fo, co, &why);
    free(t);
    if (s != NC_OK) {
        fail(shown, "%s", why ? why : nc_status_str(s));
        return 1;
    }
    return 0;
}

static int process(const options *o, const char *in_name)
{
    int from_stdin = !in_name || strcmp(in_name, "-") == 0;
    const char *shown = from_stdin ? "(stdin)" : in_name;
    int to_stdout = o->to_stdout || (from_stdin && !o->output);
    int writes = o->mode == MODE_COMPRESS || o->mode == MODE_DECOMPRESS;
    int warn = 0, rc = 1, fd = -1;
    char *out_name = NULL;
    uint8_t *in = NULL, *out = NULL;
    size_t in_len = 0, out_len = 0;
    struct stat st, so;
    out_file of = { .fd = -1 };

    if (o->mode == MODE_COMPRESS && to_stdout && isatty(STDOUT_FILENO) && !o->force) {
        fail(NULL, "compressed data not written to a terminal (use -f to force, or redirect)");
        return 1;
    }
    if (writes && !to_stdout) {
        out_name = output_name(o, in_name, &warn);
        if (!out_name)
            return warn ? 2 : 1;
    }
    int r = open_input(from_stdin ? NULL : in_name, &fd, &st);
    if (r == -2) {
        if (!quiet)
            fail(shown, "not a regular file -- skipped");
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
    if (writes && !to_stdout && out_open(&of, out_name, o->force) != 0) {
        if (errno == EEXIST)
            fail(out_name, "already exists; use -f to overwrite");
        else
            fail(out_name, "%s", strerror(errno));
        goto done;
    }
    if (read_all(fd, &in, &in_len, S_ISREG(st.st_mode) ? (size_t)st.st_size : 1 << 16) != 0) {
        fail(shown, "%s", strerror(errno));
        goto done;
    }
    if (o->mode == MODE_LIST) {
        rc = list_file(shown, in, in_len);
        goto done;
    }
    if (o->mode != MODE_COMPRESS && check_decodable(o, shown, in, in_len) != 0)
        goto done;

    int show = o->verbosity > 0 && (o->progress == 1 || (o->progress == -1 && isatty(STDERR_FILENO)));
    progress pr = { .name = shown, .start = now_seconds(), .tty = isatty(STDERR_FILENO) };
    codec_opts co = { .env = { .threads = o->threads }, .progress = show ? progress_cb : NULL,
                      .progress_ctx = &pr, .mem_limit = o->mem_limit,
                      .no_transform = o->no_transform };
    nc_status s;
    uint64_t orig = 0;
    if (o->mode == MODE_COMPRESS && o->floats) {
        if (compress_floats(o, shown, in, in_len, &out, &out_len, &co) != 0)
            goto done;
        s = NC_OK;
        orig = in_len;
    } else if (o->mode == MODE_COMPRESS) {
        model_config cfg = { 0 };
        const model_ops *ops = model_find_name(o->model);
        ops->preset(&cfg, o->level);
        cfg.level = (uint8_t)o->level;
        if (apply_sets(&cfg, ops, o) != 0)
            goto done;
        uint64_t need = codec_model_memory(&cfg), dflt = codec_preset_memory_max();
        if (need > dflt && !quiet)
            fail(shown, "warning: decoding will need %.1f MiB, more than the default limit of "
                        "%.1f MiB: decode with --memlimit=%lluMiB",
                 mib(need), mib(dflt), mib_up(need));
        if (show)
            progress_cb(&pr, 0, in_len, 0); /* at once: a large model takes a while to start */
        s = codec_compress(&out, &out_len, in, in_len, &cfg, &co);
        orig = in_len;
    } else {
        uint64_t n = 0;
        if (show)
            progress_cb(&pr, 0, 1, 0);
        s = codec_decompress(&out, &n, in, in_len, &co);
        out_len = (size_t)n;
        orig = n;
    }
    progress_end(&pr);
    if (s != NC_OK) {
        fail(shown, "%s", nc_status_str(s));
        goto done;
    }
    if (o->mode != MODE_TEST) {
        int w = to_stdout ? write_stdout(out, out_len)
                          : out_commit(&of, out, out_len, from_stdin ? NULL : &st, o->remove_input);
        if (w != 0) {
            if (errno == EEXIST)
                fail(out_name, "already exists; use -f to overwrite");
            else
                fail(to_stdout ? "(stdout)" : out_name, "%s", strerror(errno));
            goto done;
        }
    }
    if (o->verbosity > 1) {
        double el = now_seconds() - pr.start;
        uint64_t packed = o->mode == MODE_COMPRESS ? out_len : in_len;
        fprintf(stderr, "%s: %llu -> %llu bytes, %.3f bpb, %.2f s, %.1f kB/s%s\n", shown,
                (unsigned long long)orig, (unsigned long long)packed, orig ? 8.0 * packed / orig : 0.0, el,
                el > 0 ? orig / el / 1000 : 0.0, o->mode == MODE_TEST ? " (test ok)" : "");
    }
    /* Only a file we wrote and flushed ourselves justifies removing the input: after -c we
     * cannot know the reader of our output kept it. main() warned about --rm with -c. */
    if (o->remove_input && !from_stdin && !to_stdout && o->mode != MODE_TEST && unlink(in_name) != 0) {
        fail(in_name, "could not remove: %s", strerror(errno));
        goto done;
    }
    rc = 0;
done:
    out_abort(&of);
    if (fd > STDIN_FILENO)
        close(fd);
    free(in);
    free(out);
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
    for (const char *const *n = model_names(); *n; n++)
        if (strcmp(*n, name) == 0)
            return 1;
    return 0;
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
    case 'M':
        if (parse_size(v, &o->mem_limit) != 0) {
            fail(NULL, "memory limit '%s': give bytes, or a number with KiB, MiB or GiB (or max)", v);
            return -1;
        }
        return 0;
    }
    return -1;
}

/* --set NAME=VALUE: override one hyper-parameter of the preset (stored in the header, so the
 * decoder needs nothing). Integers for integer parameters, decimals for float ones. */
static int apply_sets(model_config *cfg, const model_ops *ops, const options *o)
{
    for (int i = 0; i < o->n_sets; i++) {
        const char *a = o->sets[i], *eq = strchr(a, '=');
        unsigned k = 0;
        for (; eq && k < MP_COUNT; k++) {
            const char *n = model_param_name(k);
            if (n && strlen(n) == (size_t)(eq - a) && strncmp(a, n, (size_t)(eq - a)) == 0)
                break;
        }
        if (!eq || k == MP_COUNT || !model_config_has(cfg, k)) {
            fail(NULL, "--set %s: not a parameter of model %s (see -l on a file)", a, ops->name);
            return 1;
        }
        char *end;
        errno = 0;
        if (model_param_is_float(k)) {
            float f = strtof(eq + 1, &end);
            if (*end || end == eq + 1 || errno) {
                fail(NULL, "--set %s: not a number", a);
                return 1;
            }
            model_config_setf(cfg, (enum model_param)k, f);
        } else {
            unsigned long v = strtoul(eq + 1, &end, 10);
            if (*end || end == eq + 1 || errno || eq[1] == '-' || v > UINT32_MAX) {
                fail(NULL, "--set %s: not an unsigned integer", a);
                return 1;
            }
            model_config_set(cfg, (enum model_param)k, (uint32_t)v);
        }
    }
    nc_status st = ops->check(cfg);
    if (st != NC_OK) {
        fail(NULL, "these model parameters are out of range: %s", nc_status_str(st));
        return 1;
    }
    return 0;
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
        { "lossless", 'L' },     { "shapes", 'H' },
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
            if (attached && !strchr("omTSMEH", shorts[0])) {
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
            case 'V': printf("nnzip %s (.nnz format %u)\n", NNZIP_VERSION, FMT_VERSION); return -1;
            case 'o': case 'm': case 'T': case 'S': case 'M': case 'E': case 'H': {
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
        return r < 0 ? 0 : 1;
    }
    if (n_files == 0)
        files[n_files++] = "-";
    if (o.output && (n_files > 1 || o.to_stdout)) {
        fail(NULL, n_files > 1 ? "-o takes one input file" : "-o and -c exclude each other");
        free(files);
        return 1;
    }
    if (o.mode == MODE_COMPRESS && o.to_stdout && n_files > 1) {
        fail(NULL, "-c with several files would concatenate .nnz files, which cannot be decoded");
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
    return status;
}
