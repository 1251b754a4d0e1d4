/* Messages for nc_status codes. */
#include "nc/nc.h"

const char *nc_status_str(nc_status s)
{
    switch (s) {
    case NC_OK: return "success";
    case NC_ERR_NOMEM: return "out of memory";
    case NC_ERR_ARG: return "invalid argument";
    case NC_ERR_IO: return "I/O error";
    case NC_ERR_CORRUPT: return "corrupt compressed data";
    case NC_ERR_TRUNCATED: return "compressed data is truncated";
    case NC_ERR_FORMAT: return "not in .nnz format";
    case NC_ERR_VERSION: return "unsupported format version or model (made by a newer nnzip?)";
    case NC_ERR_LIMIT: return "header value outside supported limits";
    case NC_ERR_CHECKSUM: return "checksum mismatch: decoded data is wrong";
    case NC_ERR_UNSUPPORTED: return "not supported on this machine";
    }
    return "unknown error";
}
