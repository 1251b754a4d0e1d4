/* Messages for every status code: nc's and those of data read from a file. */
#include "status.h"

const char *codec_status_str(nc_status s)
{
    switch ((int)s) {
    case 3: return "I/O error";
    case 4: return "corrupt compressed data";
    case 5: return "compressed data is truncated";
    case 6: return "not in .nnz format";
    case 7: return "unsupported format version or model (made by a newer nnzip?)";
    case 8: return "header value outside supported limits";
    case 9: return "checksum mismatch: decoded data is wrong";
    case 11: return "output buffer too small";
    }
    return nc_status_str(s);
}
