/* Safe whole-file I/O for the nnzip command: see fileio.h. */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The temporary file being written, for the signal handler: a fixed buffer, since a handler may
 * only do async-signal-safe things (unlink, _exit, raise). */
static char tmp_path[PATH_MAX + 32];
static volatile sig_atomic_t tmp_active;

static void on_signal(int sig)
{
    if (tmp_active)
        unlink(tmp_path);
    signal(sig, SIG_DFL);
    raise(sig);
}

void fileio_install_signal_cleanup(void)
{
    int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}

static int read_fd(int fd, uint8_t **data, size_t *len, size_t hint)
{
    size_t cap = hint + 1, n = 0; /* +1: reaching it proves EOF without another grow */
    uint8_t *buf = malloc(cap);
    if (!buf)
        return -1;
    for (;;) {
        if (n == cap) {
            if (cap > SIZE_MAX / 2) {
                free(buf);
                errno = EFBIG;
                return -1;
            }
            uint8_t *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                return -1;
            }
            buf = p;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            free(buf);
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *data = buf;
    *len = n;
    return 0;
}

int read_whole(const char *path, uint8_t **data, size_t *len, struct stat *st)
{
    memset(st, 0, sizeof *st);
    if (!path || strcmp(path, "-") == 0)
        return read_fd(STDIN_FILENO, data, len, 1 << 16);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0) {
        close(fd);
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        return -2;
    }
    int r = read_fd(fd, data, len, (size_t)st->st_size);
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

static int write_fd(int fd, const uint8_t *data, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

int write_stdout(const uint8_t *data, size_t len)
{
    return write_fd(STDOUT_FILENO, data, len);
}

/* Move tmp to path. Without overwrite, link() fails if path exists, so no file that appeared
 * since we looked is ever replaced; filesystems without hard links fall back to a check. */
static int publish(const char *tmp, const char *path, int overwrite)
{
    if (overwrite)
        return rename(tmp, path);
    if (link(tmp, path) == 0)
        return unlink(tmp);
    if (errno == EEXIST)
        return -1;
    struct stat st;
    if (lstat(path, &st) == 0) {
        errno = EEXIST;
        return -1;
    }
    return rename(tmp, path);
}

int write_atomic(const char *path, const uint8_t *data, size_t len, int overwrite,
                 const struct stat *src, int sync)
{
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
    if (strlen(path) > PATH_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (!overwrite) {
        struct stat st;
        if (lstat(path, &st) == 0) {
            errno = EEXIST;
            return -1;
        }
    }
    tmp_active = 0;
    snprintf(tmp_path, sizeof tmp_path, "%.*s.%s.nnztmp-XXXXXX", (int)dir_len, path, path + dir_len);
    int fd = mkstemp(tmp_path);
    if (fd < 0)
        return -1;
    tmp_active = 1;
    int ok = write_fd(fd, data, len) == 0;
    if (ok && src && src->st_mode)
        ok = fchmod(fd, src->st_mode & 07777) == 0;
    if (ok && src && src->st_mode) {
        struct timespec times[2] = { src->st_atim, src->st_mtim };
        ok = futimens(fd, times) == 0;
    }
    if (ok && sync)
        ok = fsync(fd) == 0;
    int e = errno;
    if (close(fd) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    if (ok && publish(tmp_path, path, overwrite) != 0) {
        ok = 0;
        e = errno;
    }
    if (!ok)
        unlink(tmp_path);
    tmp_active = 0;
    errno = e;
    return ok ? 0 : -1;
}
