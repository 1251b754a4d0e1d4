/* fault_run: runs `NNZIP -d -c FILE` on each FILE under an address-space limit and a time
 * limit, and checks the data-safety contract for foreign input: every run exits 0 with nothing
 * on stderr, or 1 with exactly one line "nnzip: ..." that is not "out of memory"; never a
 * signal, a sanitizer's report or the time limit. Prints each violation, then the number of
 * runs, the slowest and the largest (peak RSS from wait4) and how many gave each message.
 *
 * Usage: fault_run [-t SECONDS] [-a AS_MIB] [-r RSS_MIB] NNZIP FILE...
 *   -t  kill a run after this long (default 20): a hang fails the test in bounded time
 *   -a  RLIMIT_AS of each run in MiB (default 0: none; the sanitizers reserve terabytes)
 *   -r  a run whose peak resident memory passes this many MiB fails (default 0: no check)
 * Exit status: 0 when every run kept the contract, 1 otherwise (2: usage). */
#define _GNU_SOURCE /* wait4 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_MESSAGES 64
#define ERR_MAX 4096

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct run {
    int exited, code, sig, timed_out;
    double seconds;
    long rss_kib;
    char err[ERR_MAX]; /* the start of what it wrote on stderr */
    size_t err_len;
    int lines;
} run;

/* One decode of path: stdin /dev/null, stdout discarded, stderr kept in a temporary file. */
static int run_one(run *r, const char *nnzip, const char *path, double limit_s, long as_mib)
{
    memset(r, 0, sizeof *r);
    FILE *err = tmpfile();
    if (!err)
        return -1;
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0) {
        fclose(err);
        return -1;
    }
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY), out = open("/dev/null", O_WRONLY);
        if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(fileno(err), 2) < 0)
            _exit(126);
        if (as_mib > 0) {
            struct rlimit rl = { (rlim_t)as_mib << 20, (rlim_t)as_mib << 20 };
            if (setrlimit(RLIMIT_AS, &rl) != 0)
                _exit(126);
        }
        execl(nnzip, nnzip, "-d", "-c", path, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    for (;;) {
        pid_t w = wait4(pid, &status, WNOHANG, &ru);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            fclose(err);
            return -1;
        }
        if (!r->timed_out && now() - t0 > limit_s) {
            r->timed_out = 1;
            kill(pid, SIGKILL);
        }
        struct timespec pause = { 0, 2000000 }; /* 2 ms: small against a run, cheap to poll */
        nanosleep(&pause, NULL);
    }
    r->seconds = now() - t0;
    r->rss_kib = ru.ru_maxrss;
    r->exited = WIFEXITED(status);
    r->code = r->exited ? WEXITSTATUS(status) : -1;
    r->sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    rewind(err);
    r->err_len = fread(r->err, 1, sizeof r->err - 1, err);
    r->err[r->err_len] = 0;
    for (size_t i = 0; i < r->err_len; i++)
        r->lines += r->err[i] == '\n';
    if (r->err_len && r->err[r->err_len - 1] != '\n')
        r->lines++; /* an unfinished last line counts too */
    fclose(err);
    return 0;
}

/* The reason of an error line, without the file's name: "nnzip: NAME: reason" -> "reason". */
static const char *reason(const run *r, const char *path)
{
    const char *p = r->err;
    size_t n = strlen(path);
    if (strncmp(p, "nnzip: ", 7) == 0)
        p += 7;
    if (strncmp(p, path, n) == 0 && strncmp(p + n, ": ", 2) == 0)
        p += n + 2;
    return p;
}

int main(int argc, char **argv)
{
    double limit_s = 20;
    long as_mib = 0, rss_mib = 0;
    int opt;
    while ((opt = getopt(argc, argv, "t:a:r:")) != -1) {
        switch (opt) {
        case 't': limit_s = atof(optarg); break;
        case 'a': as_mib = atol(optarg); break;
        case 'r': rss_mib = atol(optarg); break;
        default: return 2;
        }
    }
    if (optind + 1 > argc || !(limit_s > 0)) {
        fprintf(stderr, "usage: fault_run [-t SECONDS] [-a AS_MIB] [-r RSS_MIB] NNZIP FILE...\n");
        return 2;
    }
    const char *nnzip = argv[optind];
    char msgs[MAX_MESSAGES][120];
    int counts[MAX_MESSAGES], n_msgs = 0, bad = 0, runs = 0, ok = 0;
    double slowest = 0;
    long largest = 0;
    const char *slowest_file = "-", *largest_file = "-";
    for (int i = optind + 1; i < argc; i++) {
        run r;
        if (run_one(&r, nnzip, argv[i], limit_s, as_mib) != 0) {
            fprintf(stderr, "fault_run: %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        runs++;
        const char *why = NULL;
        if (r.timed_out)
            why = "did not finish in time";
        else if (r.sig)
            why = "killed by a signal";
        else if (r.code == 0 && r.err_len)
            why = "succeeded but wrote on stderr";
        else if (r.code != 0 && r.code != 1)
            why = "exit status neither 0 nor 1 (a sanitizer's report?)";
        else if (r.code == 1 && (r.lines != 1 || strncmp(r.err, "nnzip: ", 7) != 0))
            why = "failed without exactly one line 'nnzip: ...'";
        else if (r.code == 1 && strstr(r.err, "out of memory"))
            why = "ran out of memory (an allocation beyond the limits)";
        else if (rss_mib && r.rss_kib > rss_mib * 1024)
            why = "peak resident memory over the bound";
        if (why) {
            bad++;
            fprintf(stderr, "FAIL: %s: %s (exit %d, signal %d, %.2f s, %ld KiB)\n%s%s", argv[i],
                    why, r.code, r.sig, r.seconds, r.rss_kib, r.err,
                    r.err_len && r.err[r.err_len - 1] != '\n' ? "\n" : "");
        }
        if (r.seconds > slowest)
            slowest = r.seconds, slowest_file = argv[i];
        if (r.rss_kib > largest)
            largest = r.rss_kib, largest_file = argv[i];
        if (r.code == 0) {
            ok++;
            continue;
        }
        char m[120];
        const char *why_line = reason(&r, argv[i]);
        snprintf(m, sizeof m, "%.*s", (int)strcspn(why_line, "\n"), why_line);
        for (char *c = m; *c; c++) /* one entry per message, whatever its figures */
            if (*c >= '0' && *c <= '9')
                *c = '#';
        int k = 0;
        while (k < n_msgs && strcmp(msgs[k], m) != 0)
            k++;
        if (k == n_msgs && n_msgs < MAX_MESSAGES) {
            snprintf(msgs[n_msgs], sizeof msgs[n_msgs], "%s", m);
            counts[n_msgs++] = 0;
        }
        if (k < n_msgs)
            counts[k]++;
    }
    printf("fault_run: %d runs, %d failed the contract; %d decoded, the others failed with:\n",
           runs, bad, ok);
    for (int k = 0; k < n_msgs; k++)
        printf("  %5d  %s\n", counts[k], msgs[k]);
    printf("fault_run: slowest %.2f s (%s), largest %.1f MiB resident (%s)\n", slowest,
           slowest_file, largest / 1024.0, largest_file);
    return bad ? 1 : 0;
}
