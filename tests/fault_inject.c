/* fault_inject: an LD_PRELOAD shim (test-only) that makes the calls nnzip's file handling makes
 * fail, or kills the process at one of them, as a full disk, a bad sector or a power cut would.
 *
 * nnzip does its I/O with plain system calls (tools/fileio.c: read, write, fchmod, futimens,
 * fsync, linkat, link, rename, unlink, close), so wrapping those libc symbols reaches every
 * byte it reads or writes without root, a special file system or a change to the program.
 * Configured by the environment, read once:
 *
 *   NNZ_FAULT_WRITE_AFTER=N   write() to any descriptor but stderr succeeds for N bytes in all
 *                             (the write that crosses N is cut short there, as on a disk that
 *                             fills up), then fails with NNZ_FAULT_ERRNO (default ENOSPC)
 *   NNZ_FAULT_READ_AFTER=N    read() of a regular file or a pipe gives N bytes in all, then
 *                             fails with NNZ_FAULT_ERRNO (default EIO)
 *   NNZ_FAULT_CALL=NAME[:K][,NAME[:K]]...  the K-th call (default 1; 0: every call) of each
 *                             NAME fails with NNZ_FAULT_ERRNO (default EIO). NAME: fsync fchmod
 *                             futimens close linkat link rename unlink; close counts only the
 *                             descriptors written to
 *   NNZ_FAULT_KILL=NAME[:K][:after]  SIGKILL before (or just after) the K-th call of NAME; NAME
 *                             also read or write (those count calls on the descriptors above)
 *   NNZ_FAULT_EINTR=1         every other read() and write() first fails with EINTR, and every
 *                             write is cut short to at most 4093 bytes: the retry loops must
 *                             give the same bytes
 *   NNZ_FAULT_ERRNO=NAME      ENOSPC, EIO, EDQUOT, EFBIG, EPERM, ENOENT, EXDEV, EROFS or a number
 *
 * The shim prints nothing: what nnzip writes on stderr is what the tests check. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* The calls the shim wraps: one list for the names and the per-call counters. */
#define FAULT_CALLS(X) \
    X(read) X(write) X(fsync) X(fchmod) X(futimens) X(close) X(linkat) X(link) X(rename) X(unlink)
enum fault_call {
#define FAULT_ENUM(n) FC_##n,
    FAULT_CALLS(FAULT_ENUM)
#undef FAULT_ENUM
    FC_COUNT
};
static const char *const call_names[FC_COUNT] = {
#define FAULT_NAME(n) #n,
    FAULT_CALLS(FAULT_NAME)
#undef FAULT_NAME
};

static struct {
    pthread_once_t once;
    int64_t write_after, read_after; /* -1: off */
    long fail_nth[FC_COUNT];         /* -1: never; 0: every call; K: the K-th */
    int kill_call;                   /* an enum fault_call, or -1 */
    long kill_nth;
    int kill_after, eintr, err;
    long calls[FC_COUNT];
    int64_t written, read;
    unsigned char wrote[1024]; /* descriptors written to (for close) */
    int toggle;
} f = { .once = PTHREAD_ONCE_INIT };

static int parse_errno(const char *s, int dflt)
{
    static const struct { const char *name; int value; } names[] = {
        { "ENOSPC", ENOSPC }, { "EIO", EIO }, { "EDQUOT", EDQUOT }, { "EFBIG", EFBIG },
        { "EPERM", EPERM }, { "ENOENT", ENOENT }, { "EXDEV", EXDEV }, { "EROFS", EROFS },
    };
    if (!s || !*s)
        return dflt;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0)
            return names[i].value;
    return atoi(s) > 0 ? atoi(s) : dflt;
}

/* "NAME[:K][:after]" -> call index (or -1), *nth, *after. */
static int parse_call(const char *s, long *nth, int *after)
{
    *nth = 1;
    *after = 0;
    if (!s || !*s)
        return -1;
    size_t n = strcspn(s, ":");
    int c = -1;
    for (int i = 0; i < FC_COUNT; i++)
        if (strlen(call_names[i]) == n && strncmp(s, call_names[i], n) == 0)
            c = i;
    const char *rest = s + n;
    if (*rest == ':' && rest[1] >= '0' && rest[1] <= '9')
        *nth = strtol(rest + 1, (char **)&rest, 10);
    if (*rest == ':' && strcmp(rest + 1, "after") == 0)
        *after = 1;
    return c;
}

static void init(void)
{
    const char *w = getenv("NNZ_FAULT_WRITE_AFTER"), *r = getenv("NNZ_FAULT_READ_AFTER");
    const char *e = getenv("NNZ_FAULT_ERRNO");
    f.write_after = w && *w ? strtoll(w, NULL, 10) : -1;
    f.read_after = r && *r ? strtoll(r, NULL, 10) : -1;
    f.err = parse_errno(e, 0);
    for (int c = 0; c < FC_COUNT; c++)
        f.fail_nth[c] = -1;
    for (const char *l = getenv("NNZ_FAULT_CALL"); l && *l; l += strcspn(l, ","), l += *l == ',') {
        char one[64];
        snprintf(one, sizeof one, "%.*s", (int)strcspn(l, ","), l);
        long nth;
        int ignored, c = parse_call(one, &nth, &ignored);
        if (c >= 0)
            f.fail_nth[c] = nth;
    }
    f.kill_call = parse_call(getenv("NNZ_FAULT_KILL"), &f.kill_nth, &f.kill_after);
    const char *i = getenv("NNZ_FAULT_EINTR");
    f.eintr = i && *i && strcmp(i, "0") != 0;
}

#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

/* Count a call of c: whether it is the one to fail, and a kill before it if asked. */
static int count(enum fault_call c)
{
    pthread_once(&f.once, init);
    long k = __atomic_add_fetch(&f.calls[c], 1, __ATOMIC_SEQ_CST);
    if ((int)c == f.kill_call && k == f.kill_nth && !f.kill_after)
        raise(SIGKILL);
    return f.fail_nth[c] == 0 || k == f.fail_nth[c];
}

/* After a call of c that ran: the kill just after it, if asked. */
static void after(enum fault_call c)
{
    if ((int)c == f.kill_call && f.kill_after && f.calls[c] == f.kill_nth)
        raise(SIGKILL);
}

static int fail_with(int dflt)
{
    errno = f.err ? f.err : dflt;
    return -1;
}

static int is_data_fd(int fd) /* a regular file or a pipe: the input, not a terminal */
{
    struct stat st;
    return fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode));
}

ssize_t read(int fd, void *buf, size_t n)
{
    pthread_once(&f.once, init);
    ssize_t (*real)(int, void *, size_t) = REAL(read);
    if (!is_data_fd(fd))
        return real(fd, buf, n);
    count(FC_read);
    if (f.eintr && (f.toggle ^= 1)) {
        errno = EINTR;
        return -1;
    }
    if (f.read_after >= 0) {
        if (f.read >= f.read_after)
            return fail_with(EIO);
        if ((int64_t)n > f.read_after - f.read)
            n = (size_t)(f.read_after - f.read);
    }
    ssize_t r = real(fd, buf, n);
    if (r > 0)
        f.read += r;
    after(FC_read);
    return r;
}

ssize_t write(int fd, const void *buf, size_t n)
{
    pthread_once(&f.once, init);
    ssize_t (*real)(int, const void *, size_t) = REAL(write);
    if (fd == STDERR_FILENO)
        return real(fd, buf, n);
    count(FC_write);
    if (fd >= 0 && fd < (int)sizeof f.wrote)
        f.wrote[fd] = 1;
    if (f.eintr && (f.toggle ^= 1)) {
        errno = EINTR;
        return -1;
    }
    if (f.eintr && n > 4093)
        n = 4093;
    if (f.write_after >= 0) {
        if (f.written >= f.write_after && n > 0)
            return fail_with(ENOSPC);
        if ((int64_t)n > f.write_after - f.written)
            n = (size_t)(f.write_after - f.written);
    }
    ssize_t r = real(fd, buf, n);
    if (r > 0)
        f.written += r;
    after(FC_write);
    return r;
}

/* The calls that fail whole: each is counted, may fail instead of running, and may be the
 * moment of the kill (before or after). */
#define WRAP(ret, name, params, args, c)                       \
    ret name params                                            \
    {                                                          \
        ret (*real) params = REAL(name);                       \
        if (count(c))                                          \
            return fail_with(EIO);                             \
        ret r = real args;                                     \
        after(c);                                              \
        return r;                                              \
    }
WRAP(int, fsync, (int fd), (fd), FC_fsync)
WRAP(int, fchmod, (int fd, mode_t mode), (fd, mode), FC_fchmod)
WRAP(int, futimens, (int fd, const struct timespec t[2]), (fd, t), FC_futimens)
WRAP(int, linkat, (int a, const char *p, int b, const char *q, int fl), (a, p, b, q, fl), FC_linkat)
WRAP(int, link, (const char *p, const char *q), (p, q), FC_link)
WRAP(int, rename, (const char *p, const char *q), (p, q), FC_rename)
WRAP(int, unlink, (const char *p), (p), FC_unlink)

int close(int fd)
{
    pthread_once(&f.once, init);
    int (*real)(int) = REAL(close);
    if (fd < 0 || fd >= (int)sizeof f.wrote || !f.wrote[fd])
        return real(fd);
    f.wrote[fd] = 0;
    if (count(FC_close)) {
        real(fd); /* as on NFS: the descriptor is gone, the delayed write error reported */
        return fail_with(EIO);
    }
    int r = real(fd);
    after(FC_close);
    return r;
}
