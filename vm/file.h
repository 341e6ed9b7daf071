/* file.h - whole files in and out, for every layer's commands.
 *
 * The library never prints: these return what went wrong (and errno),
 * and the caller words it. A file is read into a struct buf, whose limit
 * says how large a file may be.
 */
#ifndef SCRUB_FILE_H
#define SCRUB_FILE_H

#include <stddef.h>

#include "buf.h"

/* vm_file_read's results besides 0. */
enum vm_file_error {
	VM_FILE_OPEN = -1,	/* cannot open: errno */
	VM_FILE_READ = -2,	/* cannot read: errno; EFBIG or ENOMEM
				 * when the buffer failed (buf_failed) */
};

/* `path` "-" names standard input, when flags has VM_FILE_DASH. */
#define VM_FILE_DASH 1u

/* Append the whole of file `path` to `b`. Returns 0 or a vm_file_error;
 * callers word it "cannot VERB 'PATH': WHY". */
int vm_file_read(const char *path, unsigned flags, struct buf *b);

static inline const char *vm_file_verb(int rc)
{
	return rc == VM_FILE_OPEN ? "open" : "read";
}

/* Why a read into `b` failed, from errno: call it before errno changes. */
const char *vm_file_why(const struct buf *b);

/* Append everything left on `fd` to `b`: 0 or VM_FILE_READ. */
int vm_file_read_fd(int fd, struct buf *b);

/* Write all `len` bytes to `fd`, across short writes and signals.
 * 0, or -1 with errno (EIO for a write that wrote nothing). */
int vm_file_write_all(int fd, const void *data, size_t len);

/* The same, then fsync and close `fd` (closed whatever happens): the
 * bytes are on disk when it returns 0. -1 with errno of the first
 * failure. */
int vm_file_write_synced(int fd, const void *data, size_t len);

#endif
