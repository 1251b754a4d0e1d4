/* npy: parse the header of a NumPy .npy file (npy.h says what is accepted).
 *
 * The header text is read as a subset of Python literal syntax by a cursor over
 * [text start, final '\n'). Every read checks the cursor against that end first, so no byte
 * outside the header is ever looked at, and every number is accumulated with an overflow check.
 * Problems are found in the order a reader would name them: the prefix (magic, version, length),
 * then the dict's syntax and keys (NC_ERR_FORMAT), then what is well-formed but not taken
 * (NC_ERR_ARG), and last the data size. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "npy.h"
#include "why.h"

#define PY_MAX_DEPTH 16 /* nesting of values we only skip (a structured descr) */


/* A printable copy of n bytes for a message: at most 24 of them, other than printable ASCII
 * shown as '?', and "..." when cut. */
static void printable(char *dst, size_t cap, const uint8_t *s, size_t n)
{
    size_t k = 0, keep = n <= 24 ? n : 24;
    for (size_t i = 0; i < keep && k + 1 < cap; i++)
        dst[k++] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
    for (int i = 0; n > keep && i < 3 && k + 1 < cap; i++)
        dst[k++] = '.';
    dst[k] = '\0';
}

typedef struct py_rd {
    const uint8_t *s; /* the whole file: positions are file offsets, for messages */
    size_t pos, end;  /* next byte; the final '\n' of the header, which the dict must not reach */
    int py2_long;     /* versions 1.0 and 2.0: numpy drops an 'L' after an integer (Python 2) */
    const char **why;
} py_rd;

static int peek(const py_rd *r)
{
    return r->pos < r->end ? r->s[r->pos] : -1;
}

/* Python's whitespace between tokens; inside brackets a newline is whitespace too. */
static void skip_ws(py_rd *r)
{
    while (r->pos < r->end) {
        uint8_t c = r->s[r->pos];
        if (c != ' ' && c != '\t' && c != '\f' && c != '\r' && c != '\n')
            break;
        r->pos++;
    }
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* A byte that continues a Python name or number (non-ASCII: a Unicode identifier). */
static int is_word(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' ||
           c >= 0x80;
}

static nc_status syntax(py_rd *r)
{
    return fl_fail(r->why, NC_ERR_FORMAT, "header: syntax error at byte %zu", r->pos);
}

/* A quoted string at the cursor: its contents are [*b, *e); *escaped if they hold a backslash
 * (not decoded). */
static nc_status read_string(py_rd *r, size_t *b, size_t *e, int *escaped)
{
    uint8_t q = r->s[r->pos];
    size_t start = r->pos;
    *escaped = 0;
    r->pos++;
    *b = r->pos;
    while (r->pos < r->end && r->s[r->pos] != q) {
        uint8_t c = r->s[r->pos];
        if (c == '\n' || c == '\r') /* a one-line string cannot hold a line break */
            return syntax(r);
        if (c == '\\') {
            *escaped = 1;
            r->pos++;
            if (r->pos >= r->end)
                break;
        }
        r->pos++;
    }
    if (r->pos >= r->end) {
        r->pos = start;
        return fl_fail(r->why, NC_ERR_FORMAT, "header: string at byte %zu is not closed", start);
    }
    *e = r->pos;
    r->pos++;
    return NC_OK;
}

/* Whether [b, e) is the name w (True, False, None) and ends there. */
static int name_is(const py_rd *r, size_t b, size_t e, const char *w)
{
    size_t n = strlen(w);
    return e - b == n && memcmp(r->s + b, w, n) == 0;
}

static size_t read_word(py_rd *r)
{
    size_t b = r->pos;
    while (r->pos < r->end && is_word(r->s[r->pos]))
        r->pos++;
    return b;
}

/* Skip one literal of any kind (string, number, True/False/None, tuple, list, dict), checking
 * only that its brackets, quotes and commas are in order. Used for values that are then
 * refused anyway, to tell "well-formed but not taken" from "malformed". */
static nc_status skip_value(py_rd *r, int depth)
{
    int c = peek(r);
    if (c == '\'' || c == '"') {
        size_t b, e;
        int esc;
        return read_string(r, &b, &e, &esc);
    }
    if (c == '(' || c == '[' || c == '{') {
        int closer = c == '(' ? ')' : c == '[' ? ']' : '}';
        if (depth >= PY_MAX_DEPTH)
            return fl_fail(r->why, NC_ERR_FORMAT, "header: values nested deeper than %d at byte %zu",
                        PY_MAX_DEPTH, r->pos);
        r->pos++;
        skip_ws(r);
        while (peek(r) != closer) {
            nc_status st = skip_value(r, depth + 1);
            if (st != NC_OK)
                return st;
            skip_ws(r);
            if (c == '{') {
                if (peek(r) != ':')
                    return syntax(r);
                r->pos++;
                skip_ws(r);
                st = skip_value(r, depth + 1);
                if (st != NC_OK)
                    return st;
                skip_ws(r);
            }
            if (peek(r) == ',') {
                r->pos++;
                skip_ws(r);
            } else if (peek(r) != closer) {
                return syntax(r);
            }
        }
        r->pos++;
        return NC_OK;
    }
    if (c == '-' || c == '+') {
        r->pos++;
        skip_ws(r);
        c = peek(r);
        if (!is_digit(c) && c != '.')
            return syntax(r);
    }
    if (is_digit(c) || c == '.') { /* a number: digits, letters, '.', and a sign after e/E */
        while (r->pos < r->end) {
            uint8_t d = r->s[r->pos];
            uint8_t prev = r->s[r->pos - 1];
            if (!is_word(d) && d != '.' &&
                !((d == '+' || d == '-') && (prev == 'e' || prev == 'E')))
                break;
            r->pos++;
        }
        return NC_OK;
    }
    if (is_word(c) && !is_digit(c)) {
        size_t b = read_word(r);
        if (name_is(r, b, r->pos, "True") || name_is(r, b, r->pos, "False") ||
            name_is(r, b, r->pos, "None"))
            return NC_OK;
        r->pos = b;
        return syntax(r);
    }
    return syntax(r);
}

static nc_status not_shape(py_rd *r)
{
    return fl_fail(r->why, NC_ERR_FORMAT, "header: shape is not a tuple of integers (byte %zu)",
                r->pos);
}

/* One dimension of the shape: a Python integer literal, optionally signed. */
static nc_status read_dim(py_rd *r, uint64_t *v)
{
    int neg = 0;
    size_t start = r->pos;
    if (peek(r) == '-' || peek(r) == '+') {
        neg = peek(r) == '-';
        r->pos++;
        skip_ws(r);
    }
    if (!is_digit(peek(r)))
        return not_shape(r);
    size_t b = r->pos;
    uint64_t x = 0;
    int over = 0;
    while (is_digit(peek(r))) {
        unsigned d = (unsigned)(r->s[r->pos] - '0');
        if (x > (UINT64_MAX - d) / 10)
            over = 1;
        else
            x = x * 10 + d;
        r->pos++;
    }
    if (r->s[b] == '0' && x != 0) /* Python 3 refuses 007; 000 is 0 */
        return syntax(r);
    if (r->py2_long && peek(r) == 'L')
        r->pos++;
    if (is_word(peek(r)) || peek(r) == '.') /* 5.0, 0x10, 1_000, 5j: not a plain integer */
        return not_shape(r);
    if (neg && (x != 0 || over))
        return fl_fail(r->why, NC_ERR_FORMAT, "header: shape has a negative dimension (byte %zu)",
                    start);
    if (over)
        return fl_fail(r->why, NC_ERR_FORMAT,
                    "header: a dimension of the shape does not fit 64 bits (byte %zu)", start);
    *v = x;
    return NC_OK;
}

typedef struct shape_acc {
    uint32_t ndim; /* all dimensions, also those past NPY_MAX_DIMS */
    uint64_t dims[NPY_MAX_DIMS];
    uint64_t product; /* of the non-zero dimensions */
    int has_zero, overflow;
} shape_acc;

/* shape: (), (n,), (a, b), (a, b,) ...; (n) is an integer in Python, not a tuple. */
static nc_status read_shape(py_rd *r, shape_acc *sh)
{
    memset(sh, 0, sizeof *sh);
    sh->product = 1;
    if (peek(r) != '(')
        return not_shape(r);
    r->pos++;
    skip_ws(r);
    int comma = 0;
    while (peek(r) != ')') {
        uint64_t d = 0;
        nc_status st = read_dim(r, &d);
        if (st != NC_OK)
            return st;
        if (sh->ndim < NPY_MAX_DIMS)
            sh->dims[sh->ndim] = d;
        sh->ndim++; /* at most one per 2 bytes of a <= 1 MiB header: no wrap */
        if (d == 0)
            sh->has_zero = 1;
        else if (sh->product > UINT64_MAX / d)
            sh->overflow = 1;
        else
            sh->product *= d;
        skip_ws(r);
        if (peek(r) == ',') {
            comma = 1;
            r->pos++;
            skip_ws(r);
        } else if (peek(r) != ')') {
            return syntax(r);
        }
    }
    if (sh->ndim == 1 && !comma)
        return fl_fail(r->why, NC_ERR_FORMAT,
                    "header: shape (n) is an integer, not a tuple; a 1-d shape is (n,)");
    r->pos++;
    return NC_OK;
}

enum { KEY_DESCR, KEY_ORDER, KEY_SHAPE, N_KEYS };
static const char *const key_names[N_KEYS] = {"descr", "fortran_order", "shape"};

/* What the dict said. descr is a string [descr_b, descr_e) unless descr_kind says otherwise. */
typedef struct npy_dict {
    int seen[N_KEYS];
    enum { DESCR_STRING, DESCR_STRUCTURED } descr_kind;
    size_t descr_b, descr_e;
    int descr_escaped;
    int fortran;
    shape_acc shape;
} npy_dict;

static nc_status read_value(py_rd *r, npy_dict *d, int key)
{
    int c = peek(r);
    if (key == KEY_DESCR) {
        if (c == '\'' || c == '"') {
            d->descr_kind = DESCR_STRING;
            return read_string(r, &d->descr_b, &d->descr_e, &d->descr_escaped);
        }
        if (c == '[' || c == '(') { /* a record or sub-array dtype: well-formed, not taken */
            d->descr_kind = DESCR_STRUCTURED;
            return skip_value(r, 1);
        }
        size_t at = r->pos;
        nc_status st = skip_value(r, 1);
        return st != NC_OK ? st
                           : fl_fail(r->why, NC_ERR_FORMAT, "header: descr is not a string (byte %zu)",
                                  at);
    }
    if (key == KEY_ORDER) {
        size_t b = r->pos;
        if (is_word(c) && !is_digit(c)) {
            read_word(r);
            if (name_is(r, b, r->pos, "True") || name_is(r, b, r->pos, "False")) {
                d->fortran = r->s[b] == 'T';
                return NC_OK;
            }
            r->pos = b;
        }
        nc_status st = skip_value(r, 1);
        return st != NC_OK ? st
                           : fl_fail(r->why, NC_ERR_FORMAT,
                                  "header: fortran_order is not True or False (byte %zu)", b);
    }
    return read_shape(r, &d->shape);
}

/* The dict literal from r->pos to r->end: {key: value, ...} and whitespace after it. */
static nc_status read_dict(py_rd *r, npy_dict *d)
{
    memset(d, 0, sizeof *d);
    while (peek(r) == ' ' || peek(r) == '\t') /* what Python's literal_eval strips */
        r->pos++;
    if (peek(r) != '{')
        return fl_fail(r->why, NC_ERR_FORMAT, "header: no dict literal (byte %zu is not '{')", r->pos);
    r->pos++;
    skip_ws(r);
    while (peek(r) != '}') {
        int c = peek(r);
        if (c != '\'' && c != '"') {
            if (c < 0)
                return syntax(r);
            return fl_fail(r->why, NC_ERR_FORMAT, "header: the key at byte %zu is not a string",
                        r->pos);
        }
        size_t kb, ke;
        int esc;
        nc_status st = read_string(r, &kb, &ke, &esc);
        if (st != NC_OK)
            return st;
        int key = -1;
        for (int k = 0; k < N_KEYS && !esc; k++)
            if (name_is(r, kb, ke, key_names[k]))
                key = k;
        if (key < 0) {
            char name[32];
            printable(name, sizeof name, r->s + kb, ke - kb);
            return fl_fail(r->why, NC_ERR_FORMAT,
                        "header: unknown key '%s'; a .npy header holds descr, fortran_order and "
                        "shape",
                        name);
        }
        if (d->seen[key])
            return fl_fail(r->why, NC_ERR_FORMAT, "header: key '%s' appears twice", key_names[key]);
        d->seen[key] = 1;
        skip_ws(r);
        if (peek(r) != ':')
            return syntax(r);
        r->pos++;
        skip_ws(r);
        st = read_value(r, d, key);
        if (st != NC_OK)
            return st;
        skip_ws(r);
        if (peek(r) == ',') {
            r->pos++;
            skip_ws(r);
        } else if (peek(r) != '}') {
            return syntax(r);
        }
    }
    r->pos++;
    skip_ws(r); /* numpy's padding */
    if (r->pos != r->end)
        return fl_fail(r->why, NC_ERR_FORMAT, "header: unexpected byte after the dict at byte %zu",
                    r->pos);
    for (int k = 0; k < N_KEYS; k++)
        if (!d->seen[k])
            return fl_fail(r->why, NC_ERR_FORMAT, "header: key '%s' is missing", key_names[k]);
    return NC_OK;
}

int npy_is_npy(const uint8_t *in, size_t len)
{
    return in && len >= NPY_MAGIC_LEN && memcmp(in, NPY_MAGIC, NPY_MAGIC_LEN) == 0;
}

nc_status npy_parse(npy_info *info, const uint8_t *in, size_t len, const char **why)
{
    if (why)
        *why = NULL;
    if (!info || (!in && len))
        return fl_fail(why, NC_ERR_ARG, "npy_parse: no info or no input");
    if (len < NPY_MAGIC_LEN || memcmp(in, NPY_MAGIC, NPY_MAGIC_LEN) != 0) {
        if (len < NPY_MAGIC_LEN && len > 0 && memcmp(in, NPY_MAGIC, len) == 0)
            return fl_fail(why, NC_ERR_TRUNCATED, "file ends inside the .npy magic (%zu bytes)", len);
        return fl_fail(why, NC_ERR_FORMAT, "not a .npy file (no \\x93NUMPY magic)");
    }
    if (len < NPY_MAGIC_LEN + 2)
        return fl_fail(why, NC_ERR_TRUNCATED, "file ends before the .npy version (%zu bytes)", len);
    unsigned major = in[6], minor = in[7];
    if (major < 1 || major > 3 || minor != 0)
        return fl_fail(why, NC_ERR_VERSION,
                    ".npy format version %u.%u is unknown; 1.0, 2.0 and 3.0 are known", major,
                    minor);
    size_t prefix = major == 1 ? 10 : 12;
    if (len < prefix)
        return fl_fail(why, NC_ERR_TRUNCATED,
                    "file ends inside the .npy header length (%zu bytes of %zu)", len, prefix);
    uint64_t text_len = (uint64_t)in[8] | (uint64_t)in[9] << 8;
    if (major >= 2)
        text_len |= (uint64_t)in[10] << 16 | (uint64_t)in[11] << 24;
    uint64_t header_len = prefix + text_len;
    if (header_len > NPY_HEADER_MAX)
        return fl_fail(why, NC_ERR_LIMIT, "header is %" PRIu64 " bytes; at most %u are accepted",
                    header_len, NPY_HEADER_MAX);
    if (len < header_len)
        return fl_fail(why, NC_ERR_TRUNCATED,
                    "file ends inside the header: %zu bytes, the header needs %" PRIu64, len,
                    header_len);
    if (text_len == 0 || in[header_len - 1] != '\n')
        return fl_fail(why, NC_ERR_FORMAT, "header does not end with a newline");

    py_rd r = {in, prefix, (size_t)header_len - 1, major <= 2, why};
    npy_dict d;
    nc_status st = read_dict(&r, &d);
    if (st != NC_OK)
        return st;

    if (d.descr_kind == DESCR_STRUCTURED)
        return fl_fail(why, NC_ERR_ARG,
                    "dtype is a structured or sub-array type; only '<f4' (little-endian float32) "
                    "is supported");
    if (d.descr_escaped || !name_is(&r, d.descr_b, d.descr_e, "<f4")) {
        char s[32];
        printable(s, sizeof s, in + d.descr_b, d.descr_e - d.descr_b);
        return fl_fail(why, NC_ERR_ARG,
                    "dtype is '%s'; only '<f4' (little-endian float32) is supported", s);
    }
    if (d.fortran)
        return fl_fail(why, NC_ERR_ARG, "fortran_order is True; only C order is supported");
    const shape_acc *sh = &d.shape;
    if (sh->ndim > NPY_MAX_DIMS)
        return fl_fail(why, NC_ERR_ARG, "shape has %" PRIu32 " dimensions; at most %d are supported",
                    sh->ndim, NPY_MAX_DIMS);
    if (sh->overflow && !sh->has_zero)
        return fl_fail(why, NC_ERR_FORMAT, "header: the shape's product does not fit 64 bits");
    uint64_t count = sh->has_zero ? 0 : sh->product;

    uint64_t data = (uint64_t)len - header_len;
    if (count > UINT64_MAX / 4)
        return fl_fail(why, NC_ERR_TRUNCATED,
                    "data is %" PRIu64 " bytes, the shape needs more than 2^64", data);
    if (data != 4 * count)
        return fl_fail(why, data < 4 * count ? NC_ERR_TRUNCATED : NC_ERR_FORMAT,
                    "data is %" PRIu64 " bytes, the shape needs %" PRIu64, data, 4 * count);

    memset(info, 0, sizeof *info);
    info->header_len = header_len;
    info->count = count;
    info->ndim = sh->ndim;
    memcpy(info->shape, sh->dims, sizeof sh->dims);
    return NC_OK;
}
