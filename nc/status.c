/* Messages for nc's own status codes (model/status.c adds those of data read from a file). */
#include "nc/nc.h"

const char *nc_status_str(nc_status s)
{
    switch (s) {
    case NC_OK: return "success";
    case NC_ERR_NOMEM: return "out of memory";
    case NC_ERR_ARG: return "invalid argument";
    case NC_ERR_LIMIT: return "a size outside supported limits";
    case NC_ERR_UNSUPPORTED: return "not supported on this machine";
    }
    return "unknown error";
}
