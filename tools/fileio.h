/* fileio: whole-file reads, and writes that never leave a partial file under the final name.
 *
 * An output is opened before any work is done (so a missing folder, a name too long or an
 * existing file is reported at once), as an unnamed temporary file in the destination's folder
 * (O_TMPFILE) where the file system allows it, else as a named one (.nnztmp-XXXXXX). The data
 * is written, flushed, given the input's mode and times, and only then linked under its name --
 * atomically refusing to replace an existing file unless asked (with -f, an unnamed file is
 * linked under a temporary name, closed, and renamed over the old one). An unnamed temporary
 * file vanishes with the process whatever kills it; a named one is removed on
 * SIGINT/SIGTERM/SIGHUP. Only SIGKILL can leave one behind, always a hidden .nnztmp-*: where
 * O_TMPFILE is not supported, or with -f in the instant between its link and its rename (then
 * it is the whole output). A close that reports a delayed write error fails the output: none
 * is left under the final name (with -f, the old file stays). */
#ifndef NNZIP_TOOLS_FILEIO_H
#define NNZIP_TOOLS_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* Open path for reading ("-" or NULL: standard input). Returns 0 with *fd and *st (the
 * status of what was opened, stdin included), -1 with errno set, or -2 (fd closed) when it is
 * not a regular file (a folder, a device; a FIFO too unless allow_pipe): skip it. */
int open_input(const char *path, int *fd, struct stat *st, int allow_pipe);

/* Read all of fd into *data (free()) and *len. hint: the expected size. 0 or -1/errno. */
int read_all(int fd, uint8_t **data, size_t *len, size_t hint);

/* open_input and read_all in one, the file closed after. Returns as open_input. */
int read_whole(const char *path, uint8_t **data, size_t *len, struct stat *st);

/* Whether path names the file st describes (the same device and inode: also through ./, a
 * symbolic link or a hard link). errno-free: a path that does not exist is not the file. */
int is_same_file(const char *path, const struct stat *st);

typedef struct out_file {
    int fd;           /* the temporary file, -1 when closed */
    int named;        /* the temporary file has a name (no O_TMPFILE here) */
    int overwrite;
    char *path;       /* the final name */
    char *dir;        /* its folder, "." for a bare name */
} out_file;

/* Check path and create the temporary output: fails (-1, errno) when path exists and
 * overwrite is 0 (EEXIST), when it is a folder (EISDIR), its folder is missing or unwritable,
 * or its name is too long; returns -2 when overwrite is set and path is a device, a FIFO or a
 * socket (the output would replace it, not go into it). On failure nothing is left behind. */
int out_open(out_file *of, const char *path, int overwrite);

/* Append data to the temporary output. 0 or -1/errno. */
int out_write(out_file *of, const uint8_t *data, size_t len);

/* Write data (after what out_write wrote), give the file src's mode and times (src NULL: defaults), fsync when sync is set,
 * and move it under its final name. Closes of either way. 0 or -1/errno (nothing left behind,
 * and no existing file replaced unless overwrite was given). */
int out_commit(out_file *of, const uint8_t *data, size_t len, const struct stat *src, int sync);

/* Drop the temporary output (after an error). NULL-safe and idempotent. */
void out_abort(out_file *of);

/* Write all of data to standard output. 0 or -1/errno. */
int write_stdout(const uint8_t *data, size_t len);

/* Install handlers so SIGINT/SIGTERM/SIGHUP remove a named temporary file being written. */
void fileio_install_signal_cleanup(void);

#endif
