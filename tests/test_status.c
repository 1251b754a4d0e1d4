/* Every status code has its own message, and unknown codes still get one. */
#include <string.h>

#include "harness.h"
#include "nc/nc.h"

int main(void)
{
    const char *seen[NC_ERR_UNSUPPORTED + 1];
    for (int s = NC_OK; s <= NC_ERR_UNSUPPORTED; s++) {
        seen[s] = nc_status_str((nc_status)s);
        CHECK(seen[s] != NULL && strcmp(seen[s], "unknown error") != 0);
        for (int t = 0; t < s; t++)
            CHECK_MSG(strcmp(seen[s], seen[t]) != 0, "codes %d and %d share a message", s, t);
    }
    CHECK(strcmp(nc_status_str((nc_status)999), "unknown error") == 0);
    return test_finish("test_status");
}
