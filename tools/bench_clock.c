/* Wall clock and other processes' CPU load for the benchmark tools (see bench_clock.h). */
#include "bench_clock.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU seconds spent by all processes since boot, from /proc/stat; -1 where it is missing. */
static double busy_seconds_all(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return -1;
    unsigned long long v[8] = {0};
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n < 4)
        return -1;
    unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]; /* not idle, iowait */
    return (double)busy / (double)sysconf(_SC_CLK_TCK);
}

static double own_cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void bench_load_start(bench_load *l)
{
    l->wall = bench_now();
    l->busy = busy_seconds_all();
    l->own = own_cpu_seconds();
}

double bench_load_end(const bench_load *l)
{
    if (l->busy < 0)
        return -1;
    return (busy_seconds_all() - l->busy - (own_cpu_seconds() - l->own)) / (bench_now() - l->wall);
}

double bench_wait_idle(double seconds)
{
    double t_end = bench_now() + seconds, load = 99;
    while (bench_now() < t_end) {
        bench_load l;
        bench_load_start(&l);
        struct timespec ts = {2, 0};
        nanosleep(&ts, NULL);
        load = bench_load_end(&l);
        if (load < 0.1) /* includes -1: nothing to wait for where the load cannot be seen */
            break;
    }
    return load;
}
