/* ISA detection, selection, names, and the NNZIP_ISA switch (including its errors). */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "nc/nc.h"

static void check_env(const char *value, nc_status want, nc_isa want_active)
{
    nc_isa before = nc_isa_active();
    if (value)
        setenv("NNZIP_ISA", value, 1);
    else
        unsetenv("NNZIP_ISA");
    nc_status st = nc_isa_from_env();
    CHECK_MSG(st == want, "NNZIP_ISA=%s gave '%s', want '%s'", value ? value : "(unset)",
              nc_status_str(st), nc_status_str(want));
    if (st != NC_OK)
        CHECK_MSG(nc_isa_active() == before, "failed NNZIP_ISA=%s changed the active ISA", value);
    else
        CHECK(nc_isa_active() == want_active);
}

int main(void)
{
    printf("supported:");
    for (int i = 0; i < NC_ISA_COUNT; i++)
        if (nc_isa_supported((nc_isa)i))
            printf(" %s", nc_isa_name((nc_isa)i));
    printf("; best: %s\n", nc_isa_name(nc_isa_best()));
    if (!nc_isa_supported(NC_ISA_AVX512))
        printf("note: this CPU/OS has no usable AVX-512F; the avx512 path is compiled but "
               "cannot run here\n");

    /* Names round-trip through the parser; anything else is rejected without touching *out. */
    for (int i = 0; i < NC_ISA_COUNT; i++) {
        nc_isa got = (nc_isa)99;
        CHECK(nc_isa_parse(nc_isa_name((nc_isa)i), &got) == NC_OK && got == (nc_isa)i);
    }
    CHECK(strcmp(nc_isa_name((nc_isa)-1), "unknown") == 0);
    CHECK(strcmp(nc_isa_name((nc_isa)NC_ISA_COUNT), "unknown") == 0);
    const char *bad[] = {"", "AVX2", "avx", "sse2", "avx2 ", "avx512f", "native", "unknown"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        nc_isa got = (nc_isa)99;
        CHECK_MSG(nc_isa_parse(bad[i], &got) == NC_ERR_ARG && got == (nc_isa)99, "'%s'", bad[i]);
    }
    CHECK(nc_isa_parse(NULL, &(nc_isa){NC_ISA_REF}) == NC_ERR_ARG);

    /* The default is the best; the reference always exists; a higher ISA implies the lower. */
    CHECK(nc_isa_supported(NC_ISA_REF));
    CHECK(nc_isa_supported(nc_isa_best()));
    CHECK(nc_isa_active() == nc_isa_best());
    CHECK(!nc_isa_supported(NC_ISA_AVX512) || nc_isa_supported(NC_ISA_AVX2));
    CHECK(!nc_isa_supported((nc_isa)-1) && !nc_isa_supported((nc_isa)NC_ISA_COUNT));

    for (int i = 0; i < NC_ISA_COUNT; i++) {
        nc_isa before = nc_isa_active();
        nc_status st = nc_isa_select((nc_isa)i);
        if (nc_isa_supported((nc_isa)i)) {
            CHECK(st == NC_OK && nc_isa_active() == (nc_isa)i);
        } else {
            CHECK(st == NC_ERR_UNSUPPORTED && nc_isa_active() == before);
        }
    }
    CHECK(nc_isa_select((nc_isa)7) == NC_ERR_ARG);
    CHECK(nc_isa_select((nc_isa)-1) == NC_ERR_ARG);

    /* NNZIP_ISA: unset/empty keep the current ISA; bad names are NC_ERR_ARG; missing features are
     * NC_ERR_UNSUPPORTED; both leave the active ISA alone so a tool can report and stop. */
    CHECK(nc_isa_select(nc_isa_best()) == NC_OK);
    check_env(NULL, NC_OK, nc_isa_best());
    check_env("", NC_OK, nc_isa_best());
    check_env("ref", NC_OK, NC_ISA_REF);
    check_env("bogus", NC_ERR_ARG, NC_ISA_REF);
    check_env("AVX2", NC_ERR_ARG, NC_ISA_REF);
    for (int i = 1; i < NC_ISA_COUNT; i++) {
        int ok = nc_isa_supported((nc_isa)i);
        check_env(nc_isa_name((nc_isa)i), ok ? NC_OK : NC_ERR_UNSUPPORTED, (nc_isa)i);
        if (!ok)
            printf("note: NNZIP_ISA=%s correctly refused: %s\n", nc_isa_name((nc_isa)i),
                   nc_status_str(NC_ERR_UNSUPPORTED));
    }
    unsetenv("NNZIP_ISA");
    return test_finish("test_cpu");
}
