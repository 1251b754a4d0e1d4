/* The codec's promises about size and memory: no input grows by more than the stored header
 * (every model, every level, sizes 0..4096), the decoder's memory limit refuses exactly the
 * files above it, and a model's memory bound (codec_model_memory) is not below what encoding
 * and decoding really take (peak RSS of a child process). */
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codec.h"
#include "stream_int.h"
#include "harness.h"

static const codec_opts opts = { .env = { .threads = 1 } };

/* English-like text: compressible enough that a model's payload is smaller than the input, so
 * only the header decides whether storing is better. */
static uint8_t *text_sample(size_t n, uint64_t seed)
{
    static const char *words[] = { "the ", "of ", "compression ", "neural ", "[[link]] ", "and ",
                                   "model\n", "1984 ", "&lt;ref&gt; ", "predicts " };
    uint8_t *t = malloc(n ? n : 1);
    for (size_t i = 0; i < n;) {
        const char *w = words[test_rand_below(&seed, 10)];
        for (; *w && i < n; w++)
            t[i++] = (uint8_t)*w;
    }
    return t;
}

static void preset(model_config *c, const char *name, int level)
{
    memset(c, 0, sizeof *c);
    REQUIRE(model_find_name(name)->preset(c, level) == NC_OK);
    c->level = (uint8_t)level;
}

/* Compress and check the bound; decode back when that is cheap (stored data, order2: the
 * networks' round trips at every preset are test_lstm's and test_transformer's). */
static void check_bound(const char *name, int level, const uint8_t *in, size_t n)
{
    model_config c;
    preset(&c, name, level);
    uint8_t *z = NULL, *back = NULL;
    size_t len = 0;
    uint64_t back_len = 0;
    nc_status st = codec_compress(&z, &len, in, n, &c, &opts);
    CHECK_MSG(st == NC_OK, "%s -%d, %zu bytes: %s", name, level, n, codec_status_str(st));
    CHECK_MSG(st != NC_OK || len <= stream_stored_size(n),
              "%s -%d: %zu bytes became %zu (bound %llu)", name, level, n, len,
              (unsigned long long)stream_stored_size(n));
    if (st == NC_OK && (len == stream_stored_size(n) || strcmp(name, "order2") == 0)) {
        st = codec_decompress(&back, &back_len, z, len, &opts);
        CHECK_MSG(st == NC_OK && back_len == n && (n == 0 || memcmp(back, in, n) == 0),
                  "%s -%d, %zu bytes: round trip: %s", name, level, n, codec_status_str(st));
    }
    free(z);
    free(back);
}

#define SANITIZED_RUN TEST_SANITIZED
#if TEST_SANITIZED
#define SANITIZED 1
#endif

static void test_worst_case(void)
{
    /* header with the block size 40, block head 9 (raw length 2, kind, payload length 2, crc 4), end 13 */
    CHECK(stream_stored_size(0) == 53 && stream_stored_size(1000) == 1062);
    /* Sizes 0..4096: where the header can decide (small) densely at every level, the larger
     * ones (slow for the big networks) at the first, default and last levels. */
    static const size_t sizes[] = { 0,   1,   2,   3,   5,   8,   13,  21,   34,   50,   55,
                                    89,  100, 144, 200, 233, 377, 610, 987, 1597, 2584, 4096 };
    uint64_t rng = 7;
    uint8_t *noise = malloc(4096);
    for (size_t i = 0; i < 4096; i++)
        noise[i] = (uint8_t)test_rand64(&rng);
    for (const char *const *name = model_names(); *name; name++) {
        /* the networks' names (every level a network) at fewer levels: the rule under test is
         * the codec's, the same for every model, and their big levels are slow */
        int nets = strcmp(*name, "lstm") == 0 || strcmp(*name, "transformer") == 0;
        for (int level = 1; level <= 9; level++) {
            int all = level == 1 || level == 5 || (level == 9 && !nets);
            if (SANITIZED_RUN && level != 1 && (level != 9 || nets))
                continue; /* the sanitizers make the models 10x slower: first and last level */
            if (nets && level != 1 && level != 5 && level != 9)
                continue;
            for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
                if (sizes[i] > 1000 && !all)
                    continue;
                uint8_t *t = text_sample(sizes[i], sizes[i] + 1);
                check_bound(*name, level, t, sizes[i]);
                free(t);
            }
            check_bound(*name, level, noise, all ? 4096 : 89);
        }
    }
    /* Every size for the fast model (every 7th under the sanitizers). */
    for (size_t n = 0; n <= 4096; n += SANITIZED_RUN ? 7 : 1) {
        uint8_t *t = text_sample(n, 99);
        check_bound("order2", 5, t, n);
        free(t);
    }
    free(noise);
}

static void test_mem_limit(void)
{
    model_config c;
    preset(&c, "order2", 5);
    uint8_t *t = text_sample(3000, 5), *z = NULL, *back = NULL;
    size_t len;
    uint64_t back_len;
    REQUIRE(codec_compress(&z, &len, t, 3000, &c, &opts) == NC_OK);
    uint64_t need = codec_model_memory(&c);
    CHECK(need > 0 && need <= codec_preset_memory_max());
    codec_opts lim = opts;
    lim.mem_limit = need - 1;
    CHECK(codec_decompress(&back, &back_len, z, len, &lim) == NC_ERR_LIMIT && !back);
    lim.mem_limit = need;
    CHECK(codec_decompress(&back, &back_len, z, len, &lim) == NC_OK && back_len == 3000
          && memcmp(back, t, 3000) == 0);
    free(back);
    free(z);
    free(t);
    /* Every preset, also of the models that only decode now, is admitted by the default limit;
     * a bigger network is not. */
    const model_ops *ops;
    for (size_t i = 0; (ops = model_at(i)) != NULL; i++)
        for (int level = 1; level <= 9; level++) {
            preset(&c, ops->name, level);
            CHECK_MSG(codec_model_memory(&c) <= codec_preset_memory_max(), "%s -%d", ops->name, level);
        }
    preset(&c, "lstm", 9);
    model_config_set(&c, MP_HIDDEN, 2048);
    CHECK(codec_model_memory(&c) > codec_preset_memory_max());
}

#ifndef SANITIZED /* the sanitizer's shadow memory would count as the model's */
/* Encode and decode n bytes in a child, which reports its peak RSS through a pipe: it must stay
 * within the model's bound plus the buffers and what the process held before (run this before
 * anything large, so that is small). */
static void check_rss(const char *what, const model_config *c, size_t n)
{
    struct rusage before;
    getrusage(RUSAGE_SELF, &before);
    uint64_t bound = codec_model_memory(c);
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        uint8_t *t = text_sample(n, 11), *z = NULL, *back = NULL;
        size_t len;
        uint64_t back_len;
        int ok = codec_compress(&z, &len, t, n, c, &opts) == NC_OK
                 && codec_decompress(&back, &back_len, z, len, &opts) == NC_OK && back_len == n
                 && memcmp(back, t, n) == 0;
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        long kib = ru.ru_maxrss;
        ok = ok && write(fds[1], &kib, sizeof kib) == (ssize_t)sizeof kib;
        _exit(ok ? 0 : 3);
    }
    close(fds[1]);
    long kib = -1;
    int status;
    if (read(fds[0], &kib, sizeof kib) != (ssize_t)sizeof kib)
        kib = -1;
    close(fds[0]);
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0 && kib > 0, "%s: child failed", what);
    uint64_t peak = (uint64_t)kib * 1024, base = (uint64_t)before.ru_maxrss * 1024;
    uint64_t allowed = bound + base + 4 * n + ((uint64_t)4 << 20);
    printf("%-36s peak RSS %7.1f MiB, bound %7.1f MiB (+%.1f MiB held before)\n", what,
           peak / 1048576.0, bound / 1048576.0, base / 1048576.0);
    CHECK_MSG(peak <= allowed, "%s: peak RSS %llu above the bound %llu", what,
              (unsigned long long)peak, (unsigned long long)allowed);
}

static void test_memory_bound(void)
{
    /* Without the count mixer (whose tables are allocated but mostly untouched), so the
     * network's own memory dominates and an estimate per parameter that is too low shows. */
    model_config c;
    preset(&c, "lstm-counts", 1);
    model_config_set(&c, MP_HIDDEN, 1024);
    model_config_set(&c, MP_MIX_ORDER, 0);
    check_rss("lstm-counts 1x1024, no mixer", &c, 700);
    preset(&c, "transformer-counts", 2);
    model_config_set(&c, MP_D_MODEL, 512);
    model_config_set(&c, MP_D_INNER, 2048);
    model_config_set(&c, MP_MIX_ORDER, 0);
    check_rss("transformer-counts 2x512, no mixer", &c, 700);
    /* the hybrids' networks in lag mode (two training programs, the master weights), with small
     * context tables so the network dominates */
    static const struct { const char *name, *what; int level; enum model_param k1, k2; uint32_t v1, v2; } h[] = {
        { "lstm", "cm+lstm 1x1024, small tables", 1, MP_HIDDEN, MP_HIDDEN, 1024, 1024 },
        { "transformer", "cm+transformer 2x512, small tables", 2, MP_D_MODEL, MP_D_INNER, 512, 2048 },
    };
    for (int i = 0; i < 2; i++) {
        preset(&c, h[i].name, h[i].level);
        model_config_set(&c, h[i].k1, h[i].v1);
        model_config_set(&c, h[i].k2, h[i].v2);
        model_config_set(&c, MP_CM_HASH, 16);
        model_config_set(&c, MP_CM_MATCH, 12);
        model_config_set(&c, MP_CM_HISTORY, 16);
        check_rss(h[i].what, &c, 700);
    }
    preset(&c, "order2", 5);
    check_rss("order2 -5", &c, 100000);
}
#endif

int main(void)
{
#ifndef SANITIZED
    test_memory_bound();
#else
    printf("test_memory_bound skipped: peak RSS is not the model's under AddressSanitizer\n");
#endif
    test_worst_case();
    test_mem_limit();
    return test_finish("test_limits");
}
