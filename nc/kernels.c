/* Dispatch of the NC_KERNELS list: one function table per ISA, built from the list itself. */
#include "nc/nc.h"

#define REF_ENTRY(ret, name, params) .name = name##_ref,
#if defined(__x86_64__) || defined(__i386__)
#define AVX2_ENTRY(ret, name, params) .name = name##_avx2,
#define AVX512_ENTRY(ret, name, params) .name = name##_avx512,
#else
/* Not x86: the _avx2/_avx512 kernels are not compiled (kernels_avx2.c, math_avx2.c, ... are
 * empty there). nc_isa_supported() never reports those ISAs, so the rows are never selected;
 * they hold the _ref kernels so that a table lookup by ISA still gives a working function. */
#define AVX2_ENTRY REF_ENTRY
#define AVX512_ENTRY REF_ENTRY
#endif

static const nc_kernel_table tables[NC_ISA_COUNT] = {
    [NC_ISA_REF] = { NC_KERNELS(REF_ENTRY) },
    [NC_ISA_AVX2] = { NC_KERNELS(AVX2_ENTRY) },
    [NC_ISA_AVX512] = { NC_KERNELS(AVX512_ENTRY) },
};

const nc_kernel_table *nc_kernels_for(nc_isa isa)
{
    return (unsigned)isa < NC_ISA_COUNT ? &tables[isa] : NULL;
}

const nc_kernel_table *nc_kernels(void)
{
    return &tables[nc_isa_active()];
}
