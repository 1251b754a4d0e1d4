/* why: the one-line reasons the float-array parsers give with an error status. Not an
 * interface outside coder/float. */
#ifndef NNZIP_CODER_FLOAT_WHY_H
#define NNZIP_CODER_FLOAT_WHY_H

#include "nc/nc.h"

/* Format the reason into this thread's buffer, point *why (if why is not NULL) at it, and
 * return st. The text stays valid until this thread's next call of a float parser. */
__attribute__((format(printf, 3, 4))) nc_status fl_fail(const char **why, nc_status st,
                                                        const char *fmt, ...);

#endif
