/* status: the failure codes of data read from a file (a model config checked, the container),
 * carried in nc_status: nc/nc.h reserves their values, which nc itself never returns. And a
 * message for every code. The public header nnzip.h gives the same values as nnz_status. */
#ifndef NNZIP_MODEL_STATUS_H
#define NNZIP_MODEL_STATUS_H

#include "nc/nc.h"

#define NC_ERR_IO ((nc_status)3)        /* read or write failed; errno holds the cause */
#define NC_ERR_CORRUPT ((nc_status)4)   /* compressed data is inconsistent */
#define NC_ERR_TRUNCATED ((nc_status)5) /* compressed data ends early */
#define NC_ERR_FORMAT ((nc_status)6)    /* not an .nnz file (bad magic) */
#define NC_ERR_VERSION ((nc_status)7)   /* a format version or model this build does not know */
#define NC_ERR_CHECKSUM ((nc_status)9)  /* decoded data does not match the stored checksum */
#define NC_ERR_SPACE ((nc_status)11)    /* an output buffer is too small */
#define NC_STATUS_LAST 11

/* A one-line message for any code, nc's and the container's; never NULL. */
const char *codec_status_str(nc_status s);

#endif
