/* bench_clock: wall-clock time and "how busy are the other processes" for the benchmark tools.
 * The figures go beside each measurement, so a reader can tell one taken on a shared machine. */
#ifndef NNZIP_TOOLS_BENCH_CLOCK_H
#define NNZIP_TOOLS_BENCH_CLOCK_H

/* Monotonic wall-clock seconds. */
double bench_now(void);

/* Cores that OTHER processes kept busy between bench_load_start and bench_load_end: CPU time of
 * all processes (/proc/stat) minus this process's, over the wall-clock interval. */
typedef struct bench_load {
    double wall, busy, own; /* busy < 0: /proc/stat is missing */
} bench_load;
void bench_load_start(bench_load *l);
double bench_load_end(const bench_load *l); /* -1 where it cannot be known */

/* Wait up to `seconds` for a 2-second window in which other processes keep less than 0.1 core
 * busy; returns the load of the last window (so the caller can print it). */
double bench_wait_idle(double seconds);

#endif
