/* file.c - whole files in and out (see file.h). */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int vm_file_read_fd(int fd, struct buf *b)
{
	char chunk[65536];
	ssize_t n;

	/* Past the buffer's limit there is no point reading on. */
	while (!buf_failed(b)) {
		n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return VM_FILE_READ;
		if (n == 0)
			return 0;
		buf_put(b, chunk, (size_t)n);
	}
	errno = b->err == BUF_LIMIT ? EFBIG : ENOMEM;
	return VM_FILE_READ;
}

int vm_file_read(const char *path, unsigned flags, struct buf *b)
{
	int fd, rc, saved;

	if ((flags & VM_FILE_DASH) && strcmp(path, "-") == 0)
		return vm_file_read_fd(STDIN_FILENO, b);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return VM_FILE_OPEN;
	rc = vm_file_read_fd(fd, b);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

const char *vm_file_why(const struct buf *b)
{
	return buf_failed(b) ? "file too large" : strerror(errno);
}

int vm_file_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

int vm_file_write_synced(int fd, const void *data, size_t len)
{
	int ok = vm_file_write_all(fd, data, len) == 0 && fsync(fd) == 0;
	int err = errno;

	if (close(fd) != 0 && ok) {
		ok = 0;
		err = errno;
	}
	errno = err;
	return ok ? 0 : -1;
}
