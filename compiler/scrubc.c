/* scrubc.c - the policy compiler's command line.
 *
 *   scrubc check FILE...        report every error and warning
 *   scrubc build FILE -o OUT    compile to bytecode
 *   scrubc disasm FILE          list a compiled (or source) policy
 *   scrubc test POLICY...       run each policy's tests (scrubc_test.c)
 *   scrubc fmt FILE...          canonical formatting (scrubc_fmt.c)
 *   scrubc explain POLICY ...   one event, step by step (scrubc_explain.c)
 *   scrubc fields POLICY        what happens to each field (scrubc_fields.c)
 *
 * Exit status: 0 clean, 1 problems in a policy, 2 usage or I/O errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../vm/alloc.h"
#include "../vm/program.h"
#include "scrubc.h"

static const char usage[] =
	"usage: scrubc check [OPTIONS] FILE...\n"
	"       scrubc build [OPTIONS] FILE -o OUT\n"
	"       scrubc disasm FILE\n"
	"       scrubc test [--junit FILE] POLICY...\n"
	"       scrubc fmt [--check] FILE...\n"
	"       scrubc explain POLICY --event FILE [--param NAME=VALUE]...\n"
	"       scrubc fields POLICY [--schema FILE]... [--deny-unclassified]"
	"\n                    [--format=text|json]\n"
	"\n"
	"  check    compile each policy and report errors and warnings\n"
	"  build    compile a policy to bytecode for `scrub` and the Lambda\n"
	"  disasm   print a policy's bytecode with the line of each\n"
	"           instruction (FILE: bytecode or .scrub source)\n"
	"  test     run the cases of POLICY.tests.json beside each policy\n"
	"  fmt      rewrite policies in canonical form (--check: only say\n"
	"           which are not)\n"
	"  explain  show what a policy does to one event: rules, changes\n"
	"  fields   list what happens to each field; with schemas, to every\n"
	"           field an event can have\n"
	"\n"
	"OPTIONS (check, build):\n"
	"  --format=text|json|sarif  diagnostics as text on standard error\n"
	"                            (default), or JSON or SARIF 2.1.0 on\n"
	"                            standard output\n"
	"  --schema FILE   check paths against a JSON Schema or an\n"
	"                  EventBridge schema-registry document (repeatable)\n"
	"  -Werror         warnings fail the run\n"
	"  -Wno-CODE       do not report warning CODE (e.g. -Wno-undone)\n";

/* Compile one policy with the options of `o`; diagnostics go to `r`. */
/* The compiler's options for the command line's: warnings on, and the
 * --schema files loaded (once, for every policy). 2 if one cannot be. */
static int prepare(const struct sc_diagopts *o,
		   struct cc_schema *schemas[SC_MAX_SCHEMAS],
		   struct cc_options *co)
{
	memset(co, 0, sizeof *co);
	if (sc_load_schemas(o, schemas) != 0)
		return 2;
	co->warn = 1;
	co->schemas = (const struct cc_schema *const *)schemas;
	co->nschemas = o->nschemas;
	return 0;
}

/* Compile one policy; its diagnostics go to `r`. */
static int compile(const char *path, struct sc_report *r,
		   const struct cc_options *co, struct buf *out)
{
	struct dsl_ctx c;
	int rc, status;

	dsl_ctx_init(&c);
	rc = cc_compile_file_opts(&c, path, co, out);
	status = sc_report_add(r, &c);
	if (rc != 0 && status == 0)
		status = 1;
	dsl_ctx_free(&c);
	return status;
}

static int cmd_check(int argc, char **argv)
{
	struct cc_schema *schemas[SC_MAX_SCHEMAS];
	struct cc_options co;
	struct sc_diagopts o;
	struct sc_report *r;
	int status = 0, nfiles = 0, i, rc;
	char **files = scrub_calloc((size_t)argc, sizeof *files);

	memset(&o, 0, sizeof o);
	for (i = 1; files && i < argc; i++) {
		rc = sc_diag_option(&o, argc, argv, &i);
		if (rc < 0 || (rc == 0 && argv[i][0] == '-' && argv[i][1])) {
			if (rc == 0)
				fprintf(stderr, "scrubc: unknown option "
					"'%s'\n", argv[i]);
			free(files);
			return 2;
		}
		if (rc == 0)
			files[nfiles++] = argv[i];
	}
	if (nfiles == 0) {
		if (files)
			fputs(usage, stderr);
		free(files);
		return 2;
	}
	if (prepare(&o, schemas, &co) != 0 || (r = sc_report_new(&o)) == NULL) {
		sc_free_schemas(schemas, co.nschemas);
		free(files);
		return 2;
	}
	for (i = 0; i < nfiles; i++) {
		struct buf out;

		buf_init(&out, 256u << 20);
		rc = compile(files[i], r, &co, &out);
		buf_free(&out);
		if (rc > status)
			status = rc;
	}
	free(files);
	sc_free_schemas(schemas, co.nschemas);
	rc = sc_report_finish(r);
	return rc > status ? rc : status;
}

int sc_write_file(const char *path, const struct buf *b)
{
	char *tmp = scrub_malloc(strlen(path) + 16);
	size_t done = 0;
	int fd, rc = -1;

	if (tmp == NULL)
		return -1;
	/* Write beside, then rename: a failed build leaves no half file. */
	sprintf(tmp, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto out;
	while (done < b->len) {
		ssize_t n = write(fd, b->data + done, b->len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			unlink(tmp);
			goto out;
		}
		done += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
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
	struct cc_schema *schemas[SC_MAX_SCHEMAS];
	struct cc_options co;
	struct sc_diagopts o;
	struct sc_report *r;
	struct buf out;
	int rc, status;

	memset(&o, 0, sizeof o);
	for (int i = 1; i < argc; i++) {
		rc = sc_diag_option(&o, argc, argv, &i);
		if (rc < 0)
			return 2;
		if (rc > 0)
			continue;
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			out_path = argv[++i];
		} else if (in == NULL && argv[i][0] != '-') {
			in = argv[i];
		} else {
			in = NULL;
			break;
		}
	}
	if (in == NULL || out_path == NULL) {
		fputs(usage, stderr);
		return 2;
	}
	if (prepare(&o, schemas, &co) != 0 || (r = sc_report_new(&o)) == NULL) {
		sc_free_schemas(schemas, co.nschemas);
		return 2;
	}
	buf_init(&out, 256u << 20);
	status = compile(in, r, &co, &out);
	sc_free_schemas(schemas, co.nschemas);
	rc = sc_report_finish(r);
	/* With -Werror a warning fails the build: no bytecode is written. */
	if (status == 0 && rc == 0 && sc_write_file(out_path, &out) != 0)
		status = 2;
	buf_free(&out);
	return rc > status ? rc : status;
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
		struct sc_diagopts o;
		struct cc_options co;
		struct sc_report *r;

		memset(&o, 0, sizeof o);
		memset(&co, 0, sizeof co);
		r = sc_report_new(&o);
		buf_reset(&file);
		rc = r ? compile(argv[1], r, &co, &file) : 2;
		if (sc_report_finish(r) != 0 || rc != 0)
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
	if (strcmp(argv[1], "test") == 0)
		return sc_cmd_test(argc - 1, argv + 1);
	if (strcmp(argv[1], "fmt") == 0)
		return sc_cmd_fmt(argc - 1, argv + 1);
	if (strcmp(argv[1], "explain") == 0)
		return sc_cmd_explain(argc - 1, argv + 1);
	if (strcmp(argv[1], "fields") == 0)
		return sc_cmd_fields(argc - 1, argv + 1);
	fprintf(stderr, "scrubc: unknown command '%s'\n", argv[1]);
	fputs(usage, stderr);
	return 2;
}
