/* Safe whole-file I/O for the nnzip command: see fileio.h. */
#define _GNU_SOURCE /* O_TMPFILE, AT_EMPTY_PATH */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A named temporary file, for the signal handler: a fixed buffer, since a handler may only do
 * async-signal-safe things (unlink, _exit, raise). Its name does not grow with the output's, so
 * every name the file system accepts can be written. */
#define TMP_NAME ".nnztmp-"
static char tmp_path[PATH_MAX + 64];
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

int read_all(int fd, uint8_t **data, size_t *len, size_t hint)
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

int open_input(const char *path, int *fd, struct stat *st, int allow_pipe)
{
    memset(st, 0, sizeof *st);
    if (!path || strcmp(path, "-") == 0) {
        *fd = STDIN_FILENO;
        if (fstat(*fd, st) != 0)
            memset(st, 0, sizeof *st); /* a closed stdin reads as empty below */
        return 0;
    }
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        return -1;
    if (fstat(*fd, st) != 0) {
        int e = errno;
        close(*fd);
        errno = e;
        return -1;
    }
    if (!S_ISREG(st->st_mode) && !(allow_pipe && S_ISFIFO(st->st_mode))) {
        close(*fd);
        return -2;
    }
    return 0;
}

int read_whole(const char *path, uint8_t **data, size_t *len, struct stat *st)
{
    int fd, r = open_input(path, &fd, st, 0);
    if (r != 0)
        return r;
    r = read_all(fd, data, len, S_ISREG(st->st_mode) ? (size_t)st->st_size : 1 << 16);
    int e = errno;
    if (fd != STDIN_FILENO)
        close(fd);
    errno = e;
    return r;
}

int is_same_file(const char *path, const struct stat *st)
{
    struct stat o;
    int e = errno;
    int same = stat(path, &o) == 0 && o.st_dev == st->st_dev && o.st_ino == st->st_ino;
    errno = e;
    return same;
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

/* The test switch that forces the named temporary file, as on file systems without O_TMPFILE. */
static int use_tmpfile(void)
{
    const char *e = getenv("NNZIP_NO_TMPFILE");
    return !(e && *e && strcmp(e, "0") != 0);
}

static int open_named(out_file *of)
{
    tmp_active = 0;
    int n = snprintf(tmp_path, sizeof tmp_path, "%s/" TMP_NAME "XXXXXX", of->dir);
    if (n < 0 || (size_t)n >= sizeof tmp_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    of->fd = mkstemp(tmp_path);
    if (of->fd < 0)
        return -1;
    of->named = 1;
    tmp_active = 1;
    return 0;
}

int out_open(out_file *of, const char *path, int overwrite)
{
    memset(of, 0, sizeof *of);
    of->fd = -1;
    of->overwrite = overwrite;
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!overwrite) {
            errno = EEXIST;
            return -1;
        }
        if (S_ISDIR(st.st_mode)) {
            errno = EISDIR;
            return -1;
        }
        if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
            return -2; /* a device or a FIFO: renaming over it would replace it (/dev/null!) */
    } else if (errno != ENOENT) {
        return -1; /* a name too long, a folder we may not search, ... */
    }
    const char *slash = strrchr(path, '/');
    of->path = strdup(path);
    of->dir = slash == path ? strdup("/") : slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
    if (!of->path || !of->dir) {
        out_abort(of);
        errno = ENOMEM;
        return -1;
    }
    if (use_tmpfile()) {
        /* readable too: if it cannot be named at the end, out_commit copies it */
        of->fd = open(of->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (of->fd >= 0)
            return 0;
        if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
            int e = errno;
            out_abort(of);
            errno = e;
            return -1;
        }
    }
    if (open_named(of) != 0) {
        int e = errno;
        out_abort(of);
        errno = e;
        return -1;
    }
    return 0;
}

static int write_contents(int fd, const uint8_t *data, size_t len, const struct stat *src, int sync)
{
    if (write_fd(fd, data, len) != 0)
        return -1;
    if (src && src->st_mode) {
        struct timespec times[2] = { src->st_atim, src->st_mtim };
        if (fchmod(fd, src->st_mode & 07777) != 0 || futimens(fd, times) != 0)
            return -1;
    }
    return sync ? fsync(fd) : 0;
}

/* Move the named temporary file to path. Without overwrite, link() fails if path exists, so no
 * file that appeared since we looked is ever replaced; file systems without hard links fall
 * back to a check. */
static int publish_named(const char *path, int overwrite)
{
    if (overwrite)
        return rename(tmp_path, path);
    if (link(tmp_path, path) == 0)
        return unlink(tmp_path);
    if (errno == EEXIST)
        return -1;
    struct stat st;
    if (lstat(path, &st) == 0) {
        errno = EEXIST;
        return -1;
    }
    return rename(tmp_path, path);
}

/* Give the unnamed file fd the name to: through /proc (any user), else AT_EMPTY_PATH (which
 * needs a privilege). Fails with EEXIST if to exists. */
static int link_unnamed(int fd, const char *to)
{
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    if (linkat(AT_FDCWD, proc, AT_FDCWD, to, AT_SYMLINK_FOLLOW) == 0)
        return 0;
    if (errno == EEXIST)
        return -1;
    return linkat(fd, "", AT_FDCWD, to, AT_EMPTY_PATH);
}

/* Name the unnamed file: directly when nothing may be replaced (link fails on an existing
 * name); else under a short temporary name, which makes it a named temporary file that
 * out_commit closes and renames over the old file, so no reader ever sees a partial file. A
 * SIGKILL between the link and the rename is the only way to leave the temporary name behind. */
static int publish_unnamed(out_file *of)
{
    if (!of->overwrite)
        return link_unnamed(of->fd, of->path);
    for (unsigned k = 0;; k++) {
        snprintf(tmp_path, sizeof tmp_path, "%s/" TMP_NAME "%ld-%u", of->dir, (long)getpid(), k);
        tmp_active = 1;
        if (link_unnamed(of->fd, tmp_path) == 0) {
            of->named = 1;
            return 0;
        }
        tmp_active = 0;
        if (errno != EEXIST || k == 100)
            return -1;
    }
}

/* After --rm's fsync of the file, its name must be durable too before the input goes. */
static void sync_dir(const char *dir)
{
    int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d >= 0) {
        fsync(d);
        close(d);
    }
}

/* Copy the whole of file from (read from its start) to the end of file to. */
static int copy_file(int to, int from)
{
    enum { BUF = 1 << 16 };
    uint8_t *buf = malloc(BUF);
    if (!buf)
        return -1;
    int r = 0;
    for (off_t off = 0;;) {
        ssize_t n = pread(from, buf, BUF, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || write_fd(to, buf, (size_t)n) != 0) {
            r = n == 0 ? 0 : -1;
            break;
        }
        off += n;
    }
    int e = errno;
    free(buf);
    errno = e;
    return r;
}

int out_write(out_file *of, const uint8_t *data, size_t len)
{
    return write_fd(of->fd, data, len);
}

int out_commit(out_file *of, const uint8_t *data, size_t len, const struct stat *src, int sync)
{
    int ok = write_contents(of->fd, data, len, src, sync) == 0, e = errno;
    if (ok && !of->named && publish_unnamed(of) != 0) {
        e = errno;
        ok = 0;
        if (e != EEXIST) { /* the unnamed file cannot be named (no /proc, no privilege for
                              * AT_EMPTY_PATH): copy what it holds -- everything out_write
                              * streamed into it, and data -- into a named one */
            int unnamed = of->fd;
            of->fd = -1;
            ok = open_named(of) == 0 && copy_file(of->fd, unnamed) == 0
                 && write_contents(of->fd, NULL, 0, src, sync) == 0;
            e = errno;
            close(unnamed);
        }
    }
    int linked = ok && !of->named; /* the unnamed file has its final name already */
    if (of->fd >= 0 && close(of->fd) != 0 && ok) {
        ok = 0;
        e = errno;
        if (linked) /* a delayed write error (NFS, FUSE): the name link gave us goes again */
            unlink(of->path);
    }
    of->fd = -1;
    if (ok && of->named && publish_named(of->path, of->overwrite) != 0) {
        ok = 0;
        e = errno;
    }
    if (ok && of->named)
        tmp_active = 0;
    if (ok && sync)
        sync_dir(of->dir);
    out_abort(of);
    errno = e;
    return ok ? 0 : -1;
}

void out_abort(out_file *of)
{
    if (!of)
        return;
    if (of->fd >= 0)
        close(of->fd);
    of->fd = -1;
    if (of->named && tmp_active)
        unlink(tmp_path);
    if (of->named)
        tmp_active = 0;
    of->named = 0;
    free(of->path);
    free(of->dir);
    of->path = of->dir = NULL;
}
