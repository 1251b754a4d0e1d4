/* A tiny test harness: CHECK macros that count failures, ctest exit codes (0 pass, 1 fail,
 * 77 skip), and a seeded PRNG so every test is reproducible from its printed seed. */
#ifndef NNZIP_TESTS_HARNESS_H
#define NNZIP_TESTS_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define TEST_SKIP 77

/* TEST_SANITIZED: 1 under AddressSanitizer, where everything is ~10x slower and peak RSS counts
 * the shadow memory: tests shrink their runs. */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_SANITIZED 1
#endif
#endif
#ifndef TEST_SANITIZED
#define TEST_SANITIZED 0
#endif

static int test_failures;

/* Report a failed condition with its location and keep going, so one run shows every failure. */
#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);         \
            test_failures++;                                                                 \
        }                                                                                    \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                 \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);         \
            fprintf(stderr, __VA_ARGS__);                                                    \
            fputc('\n', stderr);                                                             \
            test_failures++;                                                                 \
        }                                                                                    \
    } while (0)

/* Abort the test at once: for failures after which nothing else can be checked. */
#define REQUIRE(cond)                                                                        \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);       \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)

/* Call at the end of main(): prints a summary line and gives ctest its exit code. */
static inline int test_finish(const char *name)
{
    if (test_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, test_failures);
        return 1;
    }
    printf("%s: all checks passed\n", name);
    return 0;
}

/* splitmix64: small, fast, and identical everywhere; tests print the seed they used. */
static inline uint64_t test_rand64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform integer in [0, n). n > 0. The tiny modulo bias does not matter for tests. */
static inline uint32_t test_rand_below(uint64_t *state, uint32_t n)
{
    return (uint32_t)(test_rand64(state) % n);
}

/* A zeroed buffer of n floats starting one float past a malloc'd address, so no vector load is
 * ever aligned. Free with test_ffree. */
static inline float *test_fbuf(size_t n)
{
    float *p = (float *)calloc(n + 2, sizeof(float));
    REQUIRE(p != NULL);
    return p + 1;
}

static inline void test_ffree(float *p)
{
    if (p)
        free(p - 1);
}

/* Uniform in [-1, 1) with 24 random bits. */
static inline float test_unit(uint64_t *st)
{
    return (float)((double)(test_rand64(st) >> 40) / 8388608.0 - 1.0);
}

#endif
