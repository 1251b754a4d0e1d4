/* Every status code has its own message, nc's and the container's, and unknown codes still get
 * one; nc's messages cover exactly its own codes. */
#include <string.h>

#include "harness.h"
#include "status.h"

int main(void)
{
    const char *seen[NC_STATUS_LAST + 1];
    for (int s = NC_OK; s <= NC_STATUS_LAST; s++) {
        seen[s] = codec_status_str((nc_status)s);
        CHECK(seen[s] != NULL && strcmp(seen[s], "unknown error") != 0);
        for (int t = 0; t < s; t++)
            CHECK_MSG(strcmp(seen[s], seen[t]) != 0, "codes %d and %d share a message", s, t);
        int own = s == NC_OK || s == NC_ERR_NOMEM || s == NC_ERR_ARG || s == NC_ERR_LIMIT
                  || s == NC_ERR_UNSUPPORTED;
        CHECK_MSG((strcmp(nc_status_str((nc_status)s), "unknown error") != 0) == own,
                  "nc_status_str(%d) is %s", s, nc_status_str((nc_status)s));
    }
    CHECK(strcmp(codec_status_str((nc_status)999), "unknown error") == 0);
    return test_finish("test_status");
}
