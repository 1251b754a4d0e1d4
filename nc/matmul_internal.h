/* Private to nc's matrix products: register-block sizes shared by the SIMD kernels (which are
 * built from matmul_template.h) and the threaded dispatcher in matmul.c, which cuts the output at
 * multiples of them so that no thread gets a ragged edge in the middle of the matrix. Changing
 * these changes speed only, never bits. */
#ifndef NC_MATMUL_INTERNAL_H
#define NC_MATMUL_INTERNAL_H

#define NC_MM_AVX2_MR 6     /* rows per register block */
#define NC_MM_AVX2_NV 2     /* 8-float vectors per row: 6 x 16 outputs = 12 accumulators */
#define NC_MM_AVX2_KC 256   /* k per packed B panel: 256 x 16 floats = 16 KiB, half of L1d */
#define NC_MM_AVX2_MC 120   /* rows of A kept hot in L2 while all panels of B pass by */
#define NC_MM_AVX2_NP 4     /* panels of B packed together (reads 4 x 64 bytes of each B row) */

#define NC_MM_AVX512_MR 8   /* 8 x 32 outputs = 16 zmm accumulators (of 32 registers) */
#define NC_MM_AVX512_NV 2
#define NC_MM_AVX512_KC 128 /* 128 x 32 floats = 16 KiB */
#define NC_MM_AVX512_MC 120
#define NC_MM_AVX512_NP 2   /* 2 x 128 bytes per B row; 2 x 16 KiB packed */

#endif
