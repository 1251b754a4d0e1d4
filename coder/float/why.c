/* The float-array parsers' reasons (see why.h). */
#include "why.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char why_buf[192];

nc_status fl_fail(const char **why, nc_status st, const char *fmt, ...)
{
    if (why) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why_buf, sizeof why_buf, fmt, ap);
        va_end(ap);
        *why = why_buf;
    }
    return st;
}
