/* Dispatch of the NC_KERNELS list: one function table per ISA, built from the list itself. */
#include "nc/nc.h"

#define REF_ENTRY(ret, name, params) .name = name##_ref,
#define AVX2_ENTRY(ret, name, params) .name = name##_avx2,
#define AVX512_ENTRY(ret, name, params) .name = name##_avx512,

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
