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
#include <sys/stat.h>
#include <unistd.h>

#include "../vm/alloc.h"
#include "../vm/program.h"
#include "scrubc.h"

#define DIAG_OPTIONS \
	"  --format=text|json|sarif  diagnostics as text on standard error\n" \
	"                            (default), or JSON or SARIF 2.1.0 on\n" \
	"                            standard output\n" \
	"  --schema FILE   check paths against a JSON Schema or an\n" \
	"                  EventBridge schema-registry document " \
	"(repeatable)\n" \
	"  -Werror         warnings fail the run\n" \
	"  -Wno-CODE       do not report warning CODE (e.g. -Wno-undone)\n"

#define EXIT_STATUS \
	"\nExit status: 0 when all is well, 1 when a policy has a problem,\n" \
	"2 on usage or I/O errors or an internal compiler error.\n"

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
	"'scrubc COMMAND --help' describes each command.\n"
	"\n"
	"OPTIONS (check, build):\n"
	DIAG_OPTIONS;

static const char usage_check[] =
	"usage: scrubc check [OPTIONS] FILE...\n"
	"\n"
	"Compile each policy and report every error and warning.\n"
	"\n"
	DIAG_OPTIONS
	EXIT_STATUS;

static const char usage_build[] =
	"usage: scrubc build [OPTIONS] FILE -o OUT\n"
	"\n"
	"Compile a policy to bytecode for `scrub` and the Lambda. OUT is\n"
	"replaced only when the policy compiles without errors; '-o -'\n"
	"writes the bytecode to standard output (not to a terminal).\n"
	"\n"
	"  -o OUT          the bytecode file (required)\n"
	DIAG_OPTIONS
	EXIT_STATUS;

static const char usage_disasm[] =
	"usage: scrubc disasm FILE\n"
	"\n"
	"Print a policy's bytecode with the policy line of each\n"
	"instruction. FILE is bytecode or .scrub source (compiled first).\n"
	EXIT_STATUS;

static const char usage_test[] =
	"usage: scrubc test [--junit FILE] POLICY...\n"
	"\n"
	"Run the cases of POLICY.tests.json, beside each policy.\n"
	"\n"
	"  --junit FILE    also write the results as JUnit XML\n"
	EXIT_STATUS;

static const char usage_fmt[] =
	"usage: scrubc fmt [--check] FILE...\n"
	"\n"
	"Rewrite each policy in canonical form ('-': standard input to\n"
	"standard output).\n"
	"\n"
	"  --check         change nothing: name the files that are not in\n"
	"                  canonical form\n"
	EXIT_STATUS;

static const char usage_explain[] =
	"usage: scrubc explain POLICY --event FILE [--param NAME=VALUE]...\n"
	"\n"
	"Run the policy over one event (a JSON file) and show the outcome,\n"
	"the rules that ran and each field changed. Values are never shown.\n"
	"\n"
	"  --event FILE        the event\n"
	"  --param NAME=VALUE  set a policy parameter (repeatable)\n"
	EXIT_STATUS;

static const char usage_fields[] =
	"usage: scrubc fields POLICY [--schema FILE]... [--deny-unclassified]\n"
	"                    [--format=text|json]\n"
	"\n"
	"List each field that can reach the output and what the policy does\n"
	"to it; with schemas, every field an event can have.\n"
	"\n"
	"  --schema FILE        the events' JSON Schema or schema-registry\n"
	"                       document (repeatable)\n"
	"  --deny-unclassified  fail when a field of a schema may pass\n"
	"                       through without a keep or a scrub\n"
	"  --format=text|json   the report as text (default) or JSON\n"
	EXIT_STATUS;

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

/* Load what the compiler built, as every host will: bytecode the loader
 * refuses is the compiler's bug, and is never handed on. 0, or 2. */
static int self_check(const char *path, const struct buf *out)
{
	struct vm_program *p;
	struct vm_error err;

	p = vm_load(out->data, out->len, &err);
	if (p != NULL) {
		vm_program_free(p);
		return 0;
	}
	fprintf(stderr, "scrubc: %s: internal compiler error: the bytecode "
		"built does not load (%s); nothing written\n", path, err.msg);
	return 2;
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
	if (status == 0)
		status = self_check(path, out);
	return status;
}

/* The options sc_diag_option takes, for hints ('=': takes a value). */
static const char *const diag_options[] = {
	"--format=", "--schema=", "-Werror", NULL
};
static const char *const build_options[] = {
	"--format=", "--schema=", "-Werror", "-o=", NULL
};

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
				sc_bad_arg("check", usage_check, argv[i],
					   i == argc - 1, diag_options);
			free(files);
			return 2;
		}
		if (rc == 0)
			files[nfiles++] = argv[i];
	}
	if (nfiles == 0) {
		if (files)
			fputs(usage_check, stderr);
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

/* A device or a pipe (/dev/stdout, /dev/full) is written in place:
 * renaming a file over it would replace the device. */
static int write_special(const char *path, const struct buf *b)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc = -1;

	if (fd < 0)
		return -1;
	if (vm_file_write_all(fd, b->data, b->len) == 0)
		rc = 0;
	if (close(fd) != 0 && rc == 0)
		rc = -1;
	return rc;
}

/* The umask, which can only be read by setting it. */
static mode_t current_umask(void)
{
	mode_t mask = umask(0);

	umask(mask);
	return mask;
}

int sc_write_file(const char *path, const struct buf *b)
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
	/* Write beside, then rename: a failed build leaves no half file,
	 * and two builds at once do not share a temporary name. */
	sprintf(tmp, "%s.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		goto out;
	/* mkstemp makes the file 0600: give it the mode a new file gets. */
	if (fchmod(fd, 0666 & ~current_umask()) != 0) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		goto out;
	}
	if (vm_file_write_synced(fd, b->data, b->len) != 0 ||
	    rename(tmp, path) != 0) {
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

/* Is `out` the file `in` names (through links, or by the same path)? */
static int same_file(const char *in, const char *out)
{
	struct stat a, b;

	if (stat(in, &a) == 0 && stat(out, &b) == 0)
		return a.st_dev == b.st_dev && a.st_ino == b.st_ino &&
		       S_ISREG(a.st_mode);
	return strcmp(in, out) == 0;
}

/* Before compiling: -o is given, and names no file the build reads;
 * "-" is standard output, but never a terminal (bytecode is binary). */
static int check_build_output(const char *in, const char *out,
			      const struct sc_diagopts *o)
{
	if (out == NULL) {
		fprintf(stderr, "scrubc: build: -o FILE is required (the "
			"bytecode file, e.g. -o policy.scrubc; '-o -' for "
			"standard output)\n");
		return -1;
	}
	if (strcmp(out, "-") == 0 && o->format != SC_TEXT) {
		fprintf(stderr, "scrubc: build: -o - and --format=%s would "
			"both write to standard output\n",
			o->format == SC_JSON ? "json" : "sarif");
		return -1;
	}
	if (strcmp(out, "-") == 0) {
		if (!isatty(1))
			return 0;
		fprintf(stderr, "scrubc: build: not writing bytecode to a "
			"terminal: redirect standard output, or give -o "
			"FILE\n");
		return -1;
	}
	if (same_file(in, out)) {
		fprintf(stderr, "scrubc: build: -o '%s' and the policy '%s' "
			"are the same file: refusing to write over the "
			"source\n", out, in);
		return -1;
	}
	for (size_t i = 0; i < o->nschemas; i++) {
		if (!same_file(o->schema_files[i], out))
			continue;
		fprintf(stderr, "scrubc: build: -o '%s' and --schema '%s' "
			"are the same file: refusing to write over it\n",
			out, o->schema_files[i]);
		return -1;
	}
	return 0;
}

static int write_bytecode(const char *path, const struct buf *b)
{
	if (strcmp(path, "-") != 0)
		return sc_write_file(path, b);
	if (b->len && fwrite(b->data, 1, b->len, stdout) != b->len)
		return -1;
	if (fflush(stdout) != 0) {
		fprintf(stderr, "scrubc: cannot write standard output: %s\n",
			strerror(errno));
		return -1;
	}
	return 0;
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
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			out_path = argv[++i];
		else if (in == NULL && argv[i][0] != '-')
			in = argv[i];
		else
			return sc_bad_arg("build", usage_build, argv[i],
					  i == argc - 1, build_options);
	}
	if (in == NULL) {
		fputs(usage_build, stderr);
		return 2;
	}
	if (check_build_output(in, out_path, &o) != 0)
		return 2;
	if (prepare(&o, schemas, &co) != 0 || (r = sc_report_new(&o)) == NULL) {
		sc_free_schemas(schemas, co.nschemas);
		return 2;
	}
	buf_init(&out, 256u << 20);
	status = compile(in, r, &co, &out);
	sc_free_schemas(schemas, co.nschemas);
	rc = sc_report_finish(r);
	/* With -Werror a warning fails the build: no bytecode is written. */
	if (status == 0 && rc == 0 && write_bytecode(out_path, &out) != 0)
		status = 2;
	buf_free(&out);
	return rc > status ? rc : status;
}

static int cmd_disasm(int argc, char **argv)
{
	struct buf file, listing;
	struct vm_program *p;
	struct vm_error err;
	int rc = 2;

	if (argc != 2) {
		fputs(usage_disasm, stderr);
		return 2;
	}
	buf_init(&file, 256u << 20);
	buf_init(&listing, 256u << 20);
	if (sc_read_file(argv[1], 0, &file) != 0)
		goto out;
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

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
} commands[] = {
	{ "check", cmd_check, usage_check },
	{ "build", cmd_build, usage_build },
	{ "disasm", cmd_disasm, usage_disasm },
	{ "test", sc_cmd_test, usage_test },
	{ "fmt", sc_cmd_fmt, usage_fmt },
	{ "explain", sc_cmd_explain, usage_explain },
	{ "fields", sc_cmd_fields, usage_fields },
};

/* Does a command's argument list ask for its usage? */
static int wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

static int unknown_command(const char *name)
{
	const char *names[sizeof commands / sizeof *commands + 1], *near;
	size_t n = 0;

	for (; n < sizeof commands / sizeof *commands; n++)
		names[n] = commands[n].name;
	names[n] = NULL;
	near = dsl_nearest(name, strlen(name), names);
	sc_say_unknown("unknown command", "", name, near);
	fputs("(scrubc --help lists the commands)\n", stderr);
	return 2;
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
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		if (wants_help(argc - 1, argv + 1)) {
			fputs(commands[i].usage, stdout);
			return fflush(stdout) == 0 ? 0 : 2;
		}
		return commands[i].fn(argc - 1, argv + 1);
	}
	return unknown_command(argv[1]);
}
