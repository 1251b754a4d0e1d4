/* quant: the float-array mode's quantiser (docs/format.md, "Float arrays", gives the rule and
 * its proof).
 *
 * With a bound E > 0 a finite value x becomes an integer q on the grid of step s = 2E, and is
 * decoded as fl(q s): the double product q * s rounded to float32. The encoder picks the q
 * nearest x / s and checks the decoded value exactly; when no q near it passes (the grid
 * value is not a float32 within E, as for very large values with a non-power-of-two step) or x
 * is NaN, infinite or -0, x is an exception, stored bit for bit. So every decoded value is
 * within E of its original, whatever its magnitude, and the specials come back unchanged. */
#ifndef NNZIP_CODER_FLOAT_QUANT_H
#define NNZIP_CODER_FLOAT_QUANT_H

#include <stdint.h>

/* |q| stays below this, so q is exact in a double and q * s is one correctly rounded product. */
#define FQ_Q_MAX (1ll << 52)

/* Whether e is a bound the quantiser takes: finite, > 0, and 2e finite. */
int fq_bound_ok(double e);

/* The decoded value of grid integer q with step s. */
float fq_value(int64_t q, double s);

/* Whether |x - y| <= e exactly, x and y finite (no rounding: a TwoSum gives the exact
 * difference as s + err). */
int fq_within(float x, float y, double e);

/* The grid integer of x for bound e (step 2e): 1 and *q when fq_value(*q, 2e) is within e of x,
 * 0 when x is an exception. */
int fq_quantise(int64_t *q, float x, double e);

/* Parse a bound: a decimal number (rounded toward zero to a double, so the bound kept is never
 * above the one written) or 2^K for an integer K (exact). 0 on success. */
int fq_parse_bound(double *e, const char *s);

#endif
