/* The quantiser (see quant.h). Plain IEEE-754 double arithmetic in round-to-nearest, each
 * operation written out (the build never contracts them into FMAs), so the encoder and the
 * decoder compute the same fl(q s) on every machine. */
#include "quant.h"

#include <errno.h>
#include <fenv.h>
#include <stdlib.h>
#include <string.h>

int fq_bound_ok(double e)
{
    return e > 0 && e <= 1e300; /* false for NaN too */
}

float fq_value(int64_t q, double s)
{
    return (float)((double)q * s);
}

int fq_within(float x, float y, double e)
{
    double a = x, b = -(double)y;
    /* TwoSum (Knuth): a + b = s + err exactly, |err| <= ulp(s) / 2. */
    double s = a + b, bb = s - a, err = (a - (s - bb)) + (b - bb);
    double as = s < 0 ? -s : s;
    if (as < e)
        return 1; /* |s| <= pred(e), so |s + err| <= pred(e) + (e - pred(e)) / 2 < e */
    if (as > e)
        return 0; /* symmetrically, |s + err| > e */
    return err == 0 || (err < 0) != (s < 0); /* |s| == e: err must pull towards zero */
}

/* round(v) to the nearest integer, ties away from zero; |v| < 2^62. */
static int64_t round_nearest(double v)
{
    int64_t t = (int64_t)v; /* towards zero */
    double f = v - (double)t; /* exact: v and t share the integer part */
    if (f >= 0.5)
        t++;
    else if (f <= -0.5)
        t--;
    return t;
}

int fq_quantise(int64_t *q, float x, double e)
{
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    if (x != x || x - x != 0 || bits == 0x80000000u)
        return 0; /* NaN, infinities, -0: kept bit for bit */
    double s = 2 * e, v = (double)x / s;
    if (!(v < (double)FQ_Q_MAX - 2 && v > -(double)FQ_Q_MAX + 2))
        return 0;
    int64_t c = round_nearest(v);
    /* The nearest grid point first; the division's rounding can put it one off. */
    const int64_t tries[3] = { c, c - 1, c + 1 };
    for (int i = 0; i < 3; i++) {
        float y = fq_value(tries[i], s);
        uint32_t yb;
        memcpy(&yb, &y, sizeof yb);
        if (yb != 0x80000000u && y - y == 0 && fq_within(x, y, e)) {
            *q = tries[i];
            return 1;
        }
    }
    return 0;
}

int fq_parse_bound(double *e, const char *s)
{
    char *end;
    if (!((s[0] >= '0' && s[0] <= '9') || s[0] == '.'))
        return -1; /* no sign, no blanks: a bound is a plain non-negative number */
    if (s[0] == '2' && s[1] == '^') {
        if (!(s[2] == '-' || s[2] == '+' || (s[2] >= '0' && s[2] <= '9')))
            return -1;
        errno = 0;
        long k = strtol(s + 2, &end, 10);
        if (end == s + 2 || *end || errno || k < -1074 || k > 996)
            return -1;
        double v = 1;
        for (; k > 0; k--)
            v *= 2;
        for (; k < 0; k++)
            v /= 2; /* exact down to the smallest subnormal */
        *e = v;
        return 0;
    }
    /* strtod honours the rounding mode: toward zero gives the largest double <= the decimal. */
    int mode = fegetround();
    fesetround(FE_TOWARDZERO);
    errno = 0;
    double v = strtod(s, &end);
    int bad = end == s || *end || errno == ERANGE;
    fesetround(mode);
    if (bad || !(v >= 0) || v > 1e300)
        return -1;
    *e = v;
    return 0;
}
