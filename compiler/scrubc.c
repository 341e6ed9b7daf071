/* scrubc.c - the policy compiler's command line.
 *
 *   scrubc check FILE...        report every error and warning
 *   scrubc build FILE -o OUT    compile to bytecode
 *   scrubc disasm FILE          list a compiled (or source) policy
 *
 * Exit status: 0 clean, 1 errors in a policy, 2 usage or I/O errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../vm/alloc.h"
#include "../vm/program.h"
#include "cc.h"

static const char usage[] =
	"usage: scrubc check FILE...\n"
	"       scrubc build FILE -o OUT\n"
	"       scrubc disasm FILE\n"
	"\n"
	"  check   compile each policy and report errors and warnings\n"
	"  build   compile a policy to bytecode for `scrub` and the Lambda\n"
	"  disasm  print a policy's bytecode with the line of each\n"
	"          instruction (FILE: bytecode or .scrub source)\n";

/* Print every diagnostic, then a clang-style count. */
static void report(const struct dsl_ctx *c)
{
	struct buf b;

	buf_init(&b, 1u << 20);
	for (const struct dsl_diag *d = c->diags; d; d = d->next) {
		buf_reset(&b);
		if (d->span.file >= c->nsources)
			buf_puts(&b, "scrubc: ");
		dsl_diag_render(c, d, &b);
		fwrite(b.data, 1, b.len, stderr);
	}
	buf_free(&b);
	if (c->errors > DSL_MAX_ERRORS)
		fprintf(stderr, "scrubc: too many errors, stopped after %d\n",
			DSL_MAX_ERRORS);
	if (c->errors || c->warnings) {
		if (c->warnings)
			fprintf(stderr, "%u warning%s", c->warnings,
				c->warnings == 1 ? "" : "s");
		if (c->errors)
			fprintf(stderr, "%s%u error%s", c->warnings ? " and "
				: "", c->errors, c->errors == 1 ? "" : "s");
		fputs(" generated.\n", stderr);
	}
}

/* Failures to open or read a file are I/O errors (2), not policy errors. */
static int io_failed(const struct dsl_ctx *c)
{
	for (const struct dsl_diag *d = c->diags; d; d = d->next)
		if (d->code && (strcmp(d->code, "io") == 0 ||
				strcmp(d->code, "resources") == 0))
			return 1;
	return 0;
}

static int compile(const char *path, struct buf *out)
{
	struct dsl_ctx c;
	int rc;

	dsl_ctx_init(&c);
	rc = cc_compile_file(&c, path, out);
	report(&c);
	if (rc != 0)
		rc = io_failed(&c) ? 2 : 1;
	dsl_ctx_free(&c);
	return rc;
}

static int cmd_check(int argc, char **argv)
{
	int status = 0;

	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct buf out;
		int rc;

		buf_init(&out, 256u << 20);
		rc = compile(argv[i], &out);
		buf_free(&out);
		if (rc > status)
			status = rc;
	}
	return status;
}

/* Write all of b to fd; 0, or -1 with errno. */
static int write_all(int fd, const struct buf *b)
{
	size_t done = 0;

	while (done < b->len) {
		ssize_t n = write(fd, b->data + done, b->len - done);

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

/* A device or a pipe (/dev/stdout, /dev/full) is written in place:
 * renaming a file over it would replace the device. */
static int write_special(const char *path, const struct buf *b)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc = -1;

	if (fd < 0)
		return -1;
	if (write_all(fd, b) == 0)
		rc = 0;
	if (close(fd) != 0 && rc == 0)
		rc = -1;
	return rc;
}

static int write_file(const char *path, const struct buf *b)
{
	char *tmp = scrub_malloc(strlen(path) + 16);
	struct stat st;
	int fd, rc = -1, saved;

	if (tmp == NULL)
		return -1;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		rc = write_special(path, b);
		goto out;
	}
	/* Write beside, then rename: a failed build leaves no half file. */
	sprintf(tmp, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto out;
	if (write_all(fd, b) != 0 || fsync(fd) != 0) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		goto out;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "scrubc: cannot write '%s': %s\n", path,
			strerror(errno));
	free(tmp);
	return rc;
}

static int cmd_build(int argc, char **argv)
{
	const char *in = NULL, *out_path = NULL;
	struct buf out;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			out_path = argv[++i];
		else if (in == NULL && argv[i][0] != '-')
			in = argv[i];
		else
			in = NULL, i = argc;
	}
	if (in == NULL || out_path == NULL) {
		fputs(usage, stderr);
		return 2;
	}
	buf_init(&out, 256u << 20);
	rc = compile(in, &out);
	if (rc == 0 && write_file(out_path, &out) != 0)
		rc = 2;
	buf_free(&out);
	return rc;
}

static int cmd_disasm(int argc, char **argv)
{
	struct buf file, listing;
	struct vm_program *p;
	struct vm_error err;
	FILE *f;
	char chunk[65536];
	size_t n;
	int rc = 2;

	if (argc != 2) {
		fputs(usage, stderr);
		return 2;
	}
	buf_init(&file, 256u << 20);
	buf_init(&listing, 256u << 20);
	f = fopen(argv[1], "rb");
	if (f == NULL) {
		fprintf(stderr, "scrubc: cannot open '%s': %s\n", argv[1],
			strerror(errno));
		goto out;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_put(&file, chunk, n);
	fclose(f);
	if (file.len < 4 || memcmp(file.data, VM_MAGIC, 4) != 0) {
		/* Source: compile it first. */
		buf_reset(&file);
		rc = compile(argv[1], &file);
		if (rc != 0)
			goto out;
		rc = 2;
	}
	p = vm_load(file.data, file.len, &err);
	if (p == NULL) {
		fprintf(stderr, "scrubc: %s: invalid bytecode: %s\n", argv[1],
			err.msg);
		goto out;
	}
	vm_disasm(p, &listing);
	fwrite(listing.data, 1, listing.len, stdout);
	vm_program_free(p);
	rc = fflush(stdout) == 0 ? 0 : 2;
out:
	buf_free(&file);
	buf_free(&listing);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		puts("scrubc " SCRUB_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "build") == 0)
		return cmd_build(argc - 1, argv + 1);
	if (strcmp(argv[1], "disasm") == 0)
		return cmd_disasm(argc - 1, argv + 1);
	fprintf(stderr, "scrubc: unknown command '%s'\n", argv[1]);
	fputs(usage, stderr);
	return 2;
}
