/* fileio: whole-file reads, and writes that never leave a partial file under the final name.
 *
 * An output is written to a temporary file in the destination's folder, flushed, given the
 * input's mode and times, and only then moved to its name -- atomically refusing to replace an
 * existing file unless asked. A signal during the write removes the temporary file. */
#ifndef NNZIP_TOOLS_FILEIO_H
#define NNZIP_TOOLS_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* Read all of path ("-" or NULL: standard input). On success returns 0, *data (free()) and
 * *len; *st gets the file's status (zeroed for stdin). On failure returns -1 with errno set,
 * or -2 when the path is not a regular file (a folder, a device): skip it. */
int read_whole(const char *path, uint8_t **data, size_t *len, struct stat *st);

/* Write data to path via a temporary file. overwrite: replace an existing file (else fail with
 * EEXIST). src: the input's status, whose mode and times the output takes (NULL: defaults).
 * sync: fsync before the rename (when the input will be removed afterwards). 0 or -1/errno. */
int write_atomic(const char *path, const uint8_t *data, size_t len, int overwrite,
                 const struct stat *src, int sync);

/* Write all of data to standard output. 0 or -1/errno. */
int write_stdout(const uint8_t *data, size_t len);

/* Install handlers so SIGINT/SIGTERM/SIGHUP remove a temporary file being written. */
void fileio_install_signal_cleanup(void);

#endif
