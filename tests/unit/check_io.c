/* check_io.c - what every command's input and output stands on: the
 * whole-file reader and the synced writer of vm/file.h, and the hosts'
 * key loader of vm/key.h. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "../../vm/file.h"
#include "../../vm/key.h"
#include "../../vm/testkey.h"
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

/* vm_key_load: a key file's bytes lose one line end, the variable's
 * none. `file` is written to a scratch file first; NULL: no file. */
static const struct {
	const char *file, *env;
	size_t limit;
	enum vm_key_status st;
	const char *key;
} keys[] = {
	{ NULL, NULL, 64, VM_KEY_NONE, "" },
	{ NULL, "k\n", 64, VM_KEY_OK, "k\n" },
	{ "k\n", NULL, 64, VM_KEY_OK, "k" },
	{ "k\r\n", NULL, 64, VM_KEY_OK, "k" },
	{ "k\n\n", NULL, 64, VM_KEY_OK, "k\n" },
	{ "k", NULL, 64, VM_KEY_OK, "k" },
	{ "k", "k", 64, VM_KEY_BOTH, "" },
	{ "\n", NULL, 64, VM_KEY_EMPTY, "" },
	{ NULL, "", 64, VM_KEY_EMPTY, "" },
	{ VM_TEST_KEY "\n", NULL, 64, VM_KEY_TEST, VM_TEST_KEY },
	{ NULL, VM_TEST_KEY, 64, VM_KEY_TEST, VM_TEST_KEY },
	{ "key", NULL, 2, VM_KEY_READ, NULL },
};

START_TEST(test_key)
{
	char path[64];
	struct buf b;

	if (keys[_i].file)
		scratch(path, sizeof path, keys[_i].file);
	buf_init(&b, keys[_i].limit);
	ck_assert_int_eq(vm_key_load(keys[_i].file ? path : NULL,
				     keys[_i].env, &b), keys[_i].st);
	if (keys[_i].key) {
		ck_assert_uint_eq(b.len, strlen(keys[_i].key));
		ck_assert_mem_eq(b.data ? b.data : "", keys[_i].key, b.len);
	} else {
		ck_assert_int_eq(errno, EFBIG);
	}
	buf_free(&b);
	if (keys[_i].file)
		unlink(path);
}
END_TEST

START_TEST(test_key_missing)
{
	struct buf b;

	buf_init(&b, 64);
	ck_assert_int_eq(vm_key_load("/nonexistent/key", NULL, &b),
			 VM_KEY_OPEN);
	ck_assert_int_eq(errno, ENOENT);
	buf_free(&b);
}
END_TEST

static Suite *io_suite(void)
{
	Suite *s = suite_create("io");
	TCase *t = tcase_create("file");

	tcase_add_loop_test(t, test_read, 0, sizeof reads / sizeof *reads);
	tcase_add_test(t, test_write_synced_full);
	tcase_add_test(t, test_write_synced);
	tcase_add_loop_test(t, test_key, 0, sizeof keys / sizeof *keys);
	tcase_add_test(t, test_key_missing);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(io_suite());
}
