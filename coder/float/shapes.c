/* shapes: read the tensor list of a float array from JSON (shapes.h says what is accepted).
 *
 * Two passes over the text. The first is a strict recursive-descent JSON checker that only
 * moves a cursor: each step tests the cursor against len before it reads, recursion is bounded
 * by FL_JSON_MAX_DEPTH, and on failure the cursor is left on the first byte that cannot
 * continue a valid text (len if the text ends early), which is the offset the message names.
 * The second pass walks the now known-good text for the top-level "tensors" list, reusing the
 * checker to skip the values it ignores, so it needs no error paths for syntax; it counts the
 * entries before it allocates, so the allocation is bounded by FL_MAX_TENSORS. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shapes.h"
#include "why.h"


typedef struct json_rd {
    const uint8_t *s;
    size_t len, pos;
    int too_deep; /* the checker failed on nesting, not on syntax */
} json_rd;

static int peek(const json_rd *r)
{
    return r->pos < r->len ? r->s[r->pos] : -1;
}

static void skip_ws(json_rd *r)
{
    while (r->pos < r->len) {
        uint8_t c = r->s[r->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        r->pos++;
    }
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int hex_value(int c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* ---- pass 1: syntax. Each returns 1 with the cursor after the item, or 0 with the cursor on
 * the offending byte. ---- */

static int check_value(json_rd *r, int depth);

/* A string at the cursor ('"'). \uXXXX takes exactly four hex digits; the code points are not
 * checked (a lone surrogate is valid JSON syntax). */
static int check_string(json_rd *r)
{
    r->pos++;
    for (;;) {
        if (r->pos >= r->len)
            return 0;
        uint8_t c = r->s[r->pos];
        if (c == '"') {
            r->pos++;
            return 1;
        }
        if (c < 0x20)
            return 0;
        r->pos++;
        if (c != '\\')
            continue;
        int e = peek(r);
        if (e == 'u') {
            r->pos++;
            for (int i = 0; i < 4; i++) {
                if (hex_value(peek(r)) < 0)
                    return 0;
                r->pos++;
            }
        } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                   e == 'r' || e == 't') {
            r->pos++;
        } else {
            return 0;
        }
    }
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int check_number(json_rd *r)
{
    if (peek(r) == '-')
        r->pos++;
    if (peek(r) == '0') {
        r->pos++;
    } else if (is_digit(peek(r))) {
        while (is_digit(peek(r)))
            r->pos++;
    } else {
        return 0;
    }
    if (peek(r) == '.') {
        r->pos++;
        if (!is_digit(peek(r)))
            return 0;
        while (is_digit(peek(r)))
            r->pos++;
    }
    if (peek(r) == 'e' || peek(r) == 'E') {
        r->pos++;
        if (peek(r) == '+' || peek(r) == '-')
            r->pos++;
        if (!is_digit(peek(r)))
            return 0;
        while (is_digit(peek(r)))
            r->pos++;
    }
    return 1;
}

static int check_word(json_rd *r, const char *w)
{
    for (; *w; w++) {
        if (peek(r) != (uint8_t)*w)
            return 0;
        r->pos++;
    }
    return 1;
}

/* An object or an array at the cursor, which is at nesting depth + 1. */
static int check_container(json_rd *r, int depth)
{
    int object = peek(r) == '{';
    int closer = object ? '}' : ']';
    if (depth >= FL_JSON_MAX_DEPTH) {
        r->too_deep = 1;
        return 0;
    }
    r->pos++;
    skip_ws(r);
    if (peek(r) == closer) {
        r->pos++;
        return 1;
    }
    for (;;) {
        if (object) {
            if (peek(r) != '"' || !check_string(r))
                return 0;
            skip_ws(r);
            if (peek(r) != ':')
                return 0;
            r->pos++;
            skip_ws(r);
        }
        if (!check_value(r, depth + 1))
            return 0;
        skip_ws(r);
        if (peek(r) == closer) {
            r->pos++;
            return 1;
        }
        if (peek(r) != ',')
            return 0;
        r->pos++;
        skip_ws(r);
    }
}

static int check_value(json_rd *r, int depth)
{
    int c = peek(r);
    if (c == '{' || c == '[')
        return check_container(r, depth);
    if (c == '"')
        return check_string(r);
    if (c == '-' || is_digit(c))
        return check_number(r);
    if (c == 't')
        return check_word(r, "true");
    if (c == 'f')
        return check_word(r, "false");
    if (c == 'n')
        return check_word(r, "null");
    return 0;
}

/* ---- pass 2: meaning, over text pass 1 accepted. ---- */

/* Skip the value at the cursor (known to be valid). */
static void skip_value(json_rd *r)
{
    (void)check_value(r, 0);
}

/* Whether the string at the cursor equals the ASCII word w, escapes decoded; moves past it. */
static int string_is(json_rd *r, const char *w)
{
    size_t start = r->pos;
    skip_value(r);
    size_t i = start + 1, end = r->pos - 1;
    int same = 1;
    while (i < end) {
        int c = r->s[i++];
        if (c == '\\') {
            int e = r->s[i++];
            static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
            if (e == 'u') {
                c = 0;
                for (int k = 0; k < 4; k++)
                    c = c * 16 + hex_value(r->s[i++]);
            } else {
                c = to[strchr(from, e) - from];
            }
        }
        if (*w == '\0' || c != (uint8_t)*w)
            same = 0;
        else
            w++;
    }
    return same && *w == '\0';
}

/* A JSON number at the cursor that is a plain non-negative integer fitting 64 bits. Moves past
 * the value whatever it is. */
static int read_u64(json_rd *r, uint64_t *v)
{
    int c = peek(r);
    if (c == '[' || c == '{' || c == '"' || !is_digit(c)) {
        skip_value(r);
        return 0;
    }
    uint64_t x = 0;
    int ok = 1;
    while (is_digit(peek(r))) {
        unsigned d = (unsigned)(r->s[r->pos] - '0');
        if (x > (UINT64_MAX - d) / 10)
            ok = 0;
        else
            x = x * 10 + d;
        r->pos++;
    }
    if (peek(r) == '.' || peek(r) == 'e' || peek(r) == 'E') { /* 3.0, 1e3 */
        ok = 0;
        while (peek(r) == '.' || peek(r) == 'e' || peek(r) == 'E' || peek(r) == '+' ||
               peek(r) == '-' || is_digit(peek(r)))
            r->pos++;
    }
    *v = x;
    return ok;
}

/* Elements of the array at the cursor (known valid); the cursor does not move. */
static uint64_t array_length(json_rd *r)
{
    size_t save = r->pos;
    uint64_t k = 0;
    r->pos++;
    skip_ws(r);
    while (peek(r) != ']') {
        skip_value(r);
        k++;
        skip_ws(r);
        if (peek(r) == ',') {
            r->pos++;
            skip_ws(r);
        }
    }
    r->pos = save;
    return k;
}

enum { KEY_SHAPE, KEY_OFFSET, KEY_COUNT, N_KEYS };
static const char *const key_names[N_KEYS] = {"shape", "offset", "count"};

typedef struct tensor_rec {
    uint64_t v[N_KEYS]; /* product of the shape, offset, count */
    uint64_t row;
    int seen[N_KEYS];
} tensor_rec;

/* "shape": [d0, d1, ...] into t->v[KEY_SHAPE] (the product) and t->row. */
static nc_status read_shape(json_rd *r, tensor_rec *t, uint32_t i, size_t at, const char **why)
{
    uint64_t product = 1, d = 0;
    int zero = 0, overflow = 0, bad = peek(r) != '[';
    t->row = 1;
    if (!bad) {
        r->pos++;
        skip_ws(r);
        while (!bad && peek(r) != ']') {
            if (!read_u64(r, &d))
                bad = 1;
            else if (d == 0)
                zero = 1;
            else if (product > UINT64_MAX / d)
                overflow = 1;
            else
                product *= d;
            t->row = d;
            skip_ws(r);
            if (peek(r) == ',') {
                r->pos++;
                skip_ws(r);
            }
        }
    }
    if (bad)
        return fl_fail(why, NC_ERR_FORMAT,
                    "shapes: tensor %" PRIu32 " (byte %zu): \"shape\" is not an array of "
                    "non-negative integers",
                    i, at);
    r->pos++;
    if (overflow && !zero)
        return fl_fail(why, NC_ERR_FORMAT,
                    "shapes: tensor %" PRIu32
                    " (byte %zu): the shape's product does not fit 64 bits",
                    i, at);
    t->v[KEY_SHAPE] = zero ? 0 : product;
    return NC_OK;
}

/* One entry of "tensors" at the cursor. */
static nc_status read_tensor(json_rd *r, tensor_rec *t, uint32_t i, const char **why)
{
    size_t at = r->pos;
    memset(t, 0, sizeof *t);
    if (peek(r) != '{')
        return fl_fail(why, NC_ERR_FORMAT, "shapes: tensor %" PRIu32 " (byte %zu) is not an object",
                    i, at);
    r->pos++;
    skip_ws(r);
    while (peek(r) != '}') {
        int key = -1;
        size_t key_at = r->pos;
        for (int k = 0; k < N_KEYS && key < 0; k++) {
            r->pos = key_at;
            if (string_is(r, key_names[k]))
                key = k;
        }
        skip_ws(r);
        r->pos++; /* ':' */
        skip_ws(r);
        if (key >= 0 && t->seen[key])
            return fl_fail(why, NC_ERR_FORMAT,
                        "shapes: tensor %" PRIu32 " (byte %zu): key \"%s\" appears twice", i, at,
                        key_names[key]);
        if (key == KEY_SHAPE) {
            nc_status st = read_shape(r, t, i, at, why);
            if (st != NC_OK)
                return st;
        } else if (key >= 0) {
            if (!read_u64(r, &t->v[key]))
                return fl_fail(why, NC_ERR_FORMAT,
                            "shapes: tensor %" PRIu32 " (byte %zu): \"%s\" is not a non-negative "
                            "integer",
                            i, at, key_names[key]);
        } else {
            skip_value(r);
        }
        if (key >= 0)
            t->seen[key] = 1;
        skip_ws(r);
        if (peek(r) == ',') {
            r->pos++;
            skip_ws(r);
        }
    }
    r->pos++;
    for (int k = 0; k < N_KEYS; k++)
        if (!t->seen[k])
            return fl_fail(why, NC_ERR_FORMAT, "shapes: tensor %" PRIu32 " (byte %zu) has no \"%s\"",
                        i, at, key_names[k]);
    if (t->v[KEY_COUNT] != t->v[KEY_SHAPE])
        return fl_fail(why, NC_ERR_FORMAT,
                    "shapes: tensor %" PRIu32 " (byte %zu): count is %" PRIu64
                    ", the shape's product is %" PRIu64,
                    i, at, t->v[KEY_COUNT], t->v[KEY_SHAPE]);
    return NC_OK;
}

/* The "tensors" array at the cursor into *out / *n; *covered: the floats they hold. */
static nc_status read_tensors(json_rd *r, fl_tensor **out, uint32_t *n, uint64_t *covered,
                              const char **why)
{
    if (peek(r) != '[')
        return fl_fail(why, NC_ERR_FORMAT, "shapes: \"tensors\" (byte %zu) is not an array", r->pos);
    uint64_t entries = array_length(r);
    if (entries > FL_MAX_TENSORS)
        return fl_fail(why, NC_ERR_LIMIT, "shapes: %" PRIu64 " tensors; at most %u are accepted",
                    entries, FL_MAX_TENSORS);
    fl_tensor *t = malloc((entries ? entries : 1) * sizeof *t);
    if (!t)
        return fl_fail(why, NC_ERR_NOMEM, "shapes: out of memory for %" PRIu64 " tensors", entries);
    uint64_t next = 0;
    uint32_t k = 0;
    r->pos++;
    skip_ws(r);
    for (uint32_t i = 0; i < entries; i++) {
        tensor_rec rec;
        size_t at = r->pos;
        nc_status st = read_tensor(r, &rec, i, why);
        if (st == NC_OK && rec.v[KEY_OFFSET] != next)
            st = fl_fail(why, NC_ERR_FORMAT,
                      "shapes: tensor %" PRIu32 " (byte %zu): offset is %" PRIu64
                      ", expected %" PRIu64 " (tensors must lie end to end from 0, in order)",
                      i, at, rec.v[KEY_OFFSET], next);
        if (st == NC_OK && rec.v[KEY_COUNT] > UINT64_MAX - next)
            st = fl_fail(why, NC_ERR_FORMAT,
                      "shapes: tensor %" PRIu32 " (byte %zu): the counts overflow 64 bits", i, at);
        if (st != NC_OK) {
            free(t);
            return st;
        }
        next += rec.v[KEY_COUNT];
        if (rec.v[KEY_COUNT] > 0) {
            t[k].count = rec.v[KEY_COUNT];
            t[k].row = rec.row;
            k++;
        }
        skip_ws(r);
        if (peek(r) == ',') {
            r->pos++;
            skip_ws(r);
        }
    }
    r->pos++; /* ']' */
    *out = t;
    *n = k;
    *covered = next;
    return NC_OK;
}

nc_status fl_shapes_parse(fl_tensor **out, uint32_t *n, const char *json, size_t len,
                          uint64_t total_floats, const char **why)
{
    if (why)
        *why = NULL;
    if (!out || !n || (!json && len))
        return fl_fail(why, NC_ERR_ARG, "shapes: no output or no input");
    *out = NULL;
    *n = 0;
    json_rd r = {(const uint8_t *)json, len, 0, 0};

    skip_ws(&r);
    int ok = check_value(&r, 0);
    if (ok)
        skip_ws(&r);
    if (r.too_deep)
        return fl_fail(why, NC_ERR_FORMAT, "shapes: JSON nested deeper than %d at byte %zu",
                    FL_JSON_MAX_DEPTH, r.pos);
    if (!ok || r.pos != len)
        return fl_fail(why, NC_ERR_FORMAT, "shapes: JSON syntax error at byte %zu", r.pos);

    r.pos = 0;
    skip_ws(&r);
    if (peek(&r) != '{')
        return fl_fail(why, NC_ERR_FORMAT, "shapes: the top level is not an object");
    r.pos++;
    skip_ws(&r);
    fl_tensor *t = NULL;
    uint32_t k = 0;
    uint64_t covered = 0;
    int found = 0;
    while (peek(&r) != '}') {
        int is_tensors = string_is(&r, "tensors");
        skip_ws(&r);
        r.pos++; /* ':' */
        skip_ws(&r);
        if (is_tensors && found) {
            free(t);
            return fl_fail(why, NC_ERR_FORMAT, "shapes: key \"tensors\" appears twice");
        }
        if (is_tensors) {
            nc_status st = read_tensors(&r, &t, &k, &covered, why);
            if (st != NC_OK)
                return st;
            found = 1;
        } else {
            skip_value(&r);
        }
        skip_ws(&r);
        if (peek(&r) == ',') {
            r.pos++;
            skip_ws(&r);
        }
    }
    nc_status st = NC_OK;
    if (!found)
        st = fl_fail(why, NC_ERR_FORMAT, "shapes: no \"tensors\" key at the top level");
    else if (covered != total_floats)
        st = fl_fail(why, NC_ERR_ARG,
                  "shapes: tensors cover %" PRIu64 " floats, the array has %" PRIu64, covered,
                  total_floats);
    else if (k == 0)
        st = fl_fail(why, NC_ERR_FORMAT, "shapes: no tensor holds any floats");
    if (st != NC_OK) {
        free(t);
        return st;
    }
    *out = t;
    *n = k;
    return NC_OK;
}
