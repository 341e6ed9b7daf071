/* check_io.c - what every command's input and output stands on: the
 * whole-file reader and the synced writer of vm/file.h. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "../../vm/file.h"
#include "helpers.h"

/* A scratch file holding `text`; its name goes to `path`. */
static void scratch(char *path, size_t len, const char *text)
{
	int fd;

	snprintf(path, len, "/tmp/check_io.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(vm_file_write_all(fd, text, strlen(text)), 0);
	close(fd);
}

/* vm_file_read: the result, errno and the caller's words for each way a
 * read ends. "" as the path stands for the scratch file. */
static const struct {
	const char *path;
	size_t limit;
	int rc, err;
	const char *verb, *why, *text;
} reads[] = {
	{ "", 64, 0, 0, NULL, NULL, "twelve bytes" },
	{ "", 12, 0, 0, NULL, NULL, "twelve bytes" },
	/* One byte past the limit: nothing more is read. */
	{ "", 11, VM_FILE_READ, EFBIG, "read", "file too large", NULL },
	{ "/nonexistent/x", 64, VM_FILE_OPEN, ENOENT, "open",
	  "No such file or directory", NULL },
	{ "/tmp", 64, VM_FILE_READ, EISDIR, "read", "Is a directory", NULL },
};

START_TEST(test_read)
{
	char path[64];
	struct buf b;
	int rc;

	scratch(path, sizeof path, "twelve bytes");
	buf_init(&b, reads[_i].limit);
	errno = 0;
	rc = vm_file_read(reads[_i].path[0] ? reads[_i].path : path, 0, &b);
	ck_assert_int_eq(rc, reads[_i].rc);
	if (rc == 0) {
		ck_assert_uint_eq(b.len, strlen(reads[_i].text));
		ck_assert_mem_eq(b.data, reads[_i].text, b.len);
	} else {
		ck_assert_int_eq(errno, reads[_i].err);
		ck_assert_str_eq(vm_file_why(&b), reads[_i].why);
		ck_assert_str_eq(vm_file_verb(rc), reads[_i].verb);
	}
	buf_free(&b);
	unlink(path);
}
END_TEST

/* A failed synced write still closes the descriptor, and keeps the
 * errno of the failure for the message. */
START_TEST(test_write_synced_full)
{
	int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(vm_file_write_synced(fd, "x", 1), -1);
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	ck_assert_int_eq(errno, EBADF);
}
END_TEST

START_TEST(test_write_synced)
{
	char path[64];
	struct buf b;
	int fd;

	scratch(path, sizeof path, "");
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(vm_file_write_synced(fd, "on disk", 7), 0);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	buf_init(&b, 64);
	ck_assert_int_eq(vm_file_read(path, 0, &b), 0);
	ck_assert_uint_eq(b.len, 7);
	ck_assert_mem_eq(b.data, "on disk", 7);
	buf_free(&b);
	unlink(path);
}
END_TEST

static Suite *io_suite(void)
{
	Suite *s = suite_create("io");
	TCase *t = tcase_create("file");

	tcase_add_loop_test(t, test_read, 0, sizeof reads / sizeof *reads);
	tcase_add_test(t, test_write_synced_full);
	tcase_add_test(t, test_write_synced);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(io_suite());
}
