/* Runtime ISA detection and selection: which kernel variant (_ref, _avx2, _avx512) runs.
 *
 * A SIMD path is usable only if the CPU has the instructions (CPUID) AND the operating system saves
 * the wider registers on context switches (XCR0, read with XGETBV after checking OSXSAVE). A CPU can
 * report AVX-512F while the OS (or a hypervisor) leaves ZMM state disabled; running AVX-512 code
 * then faults, so both checks are required.
 *
 * Every path computes the same bits (each kernel family is tested against its _ref with memcmp),
 * so the selection only ever changes speed. The active ISA is one atomic int: kernels read it at
 * each call, and changing it while other threads run kernels is harmless. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "nc/nc.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/* XCR0 bits: 1 SSE, 2 AVX (upper YMM halves), 5 opmask k0-k7, 6 upper ZMM halves of 0-15,
 * 7 ZMM16-31. */
#define XCR0_YMM 0x06u
#define XCR0_ZMM 0xe6u

static uint64_t read_xcr0(void)
{
    uint32_t lo, hi;
    /* xgetbv with ecx = 0; written as an instruction so no target attribute is needed. */
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

/* Bit mask of supported nc_isa values (bit NC_ISA_REF is always set). */
static int detect(void)
{
    int mask = 1 << NC_ISA_REF;
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return mask;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
    if (!osxsave || !avx)
        return mask;
    uint64_t xcr0 = read_xcr0();
    if (__get_cpuid_max(0, NULL) < 7)
        return mask;
    __cpuid_count(7, 0, a, b, c, d);
    int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1;
    if (avx2 && fma && (xcr0 & XCR0_YMM) == XCR0_YMM) {
        mask |= 1 << NC_ISA_AVX2;
        if (avx512f && (xcr0 & XCR0_ZMM) == XCR0_ZMM)
            mask |= 1 << NC_ISA_AVX512;
    }
    return mask;
}
#else
static int detect(void)
{
    return 1 << NC_ISA_REF;
}
#endif

static atomic_int g_supported = -1; /* mask from detect(), -1 until first use */
static atomic_int g_active = -1;    /* an nc_isa, -1 until first use */

static int supported_mask(void)
{
    int m = atomic_load_explicit(&g_supported, memory_order_relaxed);
    if (m < 0) {
        m = detect(); /* racing first callers compute the same value */
        atomic_store_explicit(&g_supported, m, memory_order_relaxed);
    }
    return m;
}

int nc_isa_supported(nc_isa isa)
{
    if ((int)isa < 0 || (int)isa >= NC_ISA_COUNT)
        return 0;
    return (supported_mask() >> isa) & 1;
}

nc_isa nc_isa_best(void)
{
    for (int i = NC_ISA_COUNT - 1; i > 0; i--)
        if (nc_isa_supported((nc_isa)i))
            return (nc_isa)i;
    return NC_ISA_REF;
}

nc_isa nc_isa_active(void)
{
    int a = atomic_load_explicit(&g_active, memory_order_relaxed);
    if (a < 0) {
        int expected = -1;
        atomic_compare_exchange_strong(&g_active, &expected, (int)nc_isa_best());
        a = atomic_load_explicit(&g_active, memory_order_relaxed);
    }
    return (nc_isa)a;
}

nc_status nc_isa_select(nc_isa isa)
{
    if ((int)isa < 0 || (int)isa >= NC_ISA_COUNT)
        return NC_ERR_ARG;
    if (!nc_isa_supported(isa))
        return NC_ERR_UNSUPPORTED;
    atomic_store_explicit(&g_active, (int)isa, memory_order_relaxed);
    return NC_OK;
}

static const char *const isa_names[NC_ISA_COUNT] = {"ref", "avx2", "avx512"};

const char *nc_isa_name(nc_isa isa)
{
    if ((int)isa < 0 || (int)isa >= NC_ISA_COUNT)
        return "unknown";
    return isa_names[isa];
}

nc_status nc_isa_parse(const char *name, nc_isa *out)
{
    if (!name)
        return NC_ERR_ARG;
    for (int i = 0; i < NC_ISA_COUNT; i++) {
        if (strcmp(name, isa_names[i]) == 0) {
            *out = (nc_isa)i;
            return NC_OK;
        }
    }
    return NC_ERR_ARG;
}

nc_status nc_isa_from_env(void)
{
    /* The one getenv in nc: a feature switch for tests and tools, called once at start-up. */
    const char *v = getenv("NNZIP_ISA");
    if (!v || !*v)
        return NC_OK;
    nc_isa isa;
    nc_status st = nc_isa_parse(v, &isa);
    if (st != NC_OK)
        return st;
    return nc_isa_select(isa);
}
