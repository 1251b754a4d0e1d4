/* The main() of a fuzz target built without libFuzzer: replay the files named on the command
 * line through LLVMFuzzerTestOneInput, so every input that ever found a bug stays a test. */
#ifndef NNZIP_TESTS_FUZZ_REPLAY_H
#define NNZIP_TESTS_FUZZ_REPLAY_H

#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_replay(const char *name, int argc, char **argv)
{
    int ran = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            fprintf(stderr, "%s: cannot open %s\n", name, argv[i]);
            return 1;
        }
        static uint8_t buf[1 << 20];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
        ran++;
    }
    printf("%s: replayed %d inputs\n", name, ran);
    return ran > 0 ? 0 : 1;
}

#endif
