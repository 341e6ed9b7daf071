/* scrubc.h - what the scrubc commands share (compiler/scrubc*.c).
 *
 * These files are the command line: they print, and stay out of
 * libscrub. Everything they compute comes from the library.
 *
 * Exit status of every command: 0 clean, 1 problems in a policy (errors,
 * warnings under -Werror, failed tests, unformatted files, unclassified
 * fields), 2 usage or I/O errors.
 */
#ifndef SCRUB_SCRUBC_H
#define SCRUB_SCRUBC_H

#include <stddef.h>
#include <stdio.h>

#include "../vm/file.h"
#include "cc.h"
#include "schema.h"

enum sc_format { SC_TEXT, SC_JSON, SC_SARIF };

#define SC_MAX_OFF 64
#define SC_MAX_SCHEMAS 64

/* How diagnostics are shown: the options check, build and test share. */
struct sc_diagopts {
	enum sc_format format;
	int werror;			/* -Werror: warnings fail the run */
	const char *off[SC_MAX_OFF];	/* -Wno-CODE: warnings not shown */
	size_t noff;
	const char *schema_files[SC_MAX_SCHEMAS];	/* --schema FILE */
	size_t nschemas;
};

/* Take argv[*i] (and its value) if it is one of those options; returns
 * 1 when taken, 0 when not, -1 when malformed (message printed). */
int sc_diag_option(struct sc_diagopts *o, int argc, char **argv, int *i);

/* The value of long option `opt` at argv[*i]: "OPT VALUE" (moving *i
 * on) or "OPT=VALUE", as getopt_long takes them; NULL when argv[*i] is
 * not that option or has no value. */
char *sc_option_value(int argc, char **argv, int *i, const char *opt);

/* "scrubc: LEAD 'PREFIX NAME'", and " (did you mean 'PREFIX NEAR'?)"
 * when there is a NEAR, on standard error. */
void sc_say_unknown(const char *lead, const char *prefix, const char *name,
		    const char *near);

/* Say what is wrong with `arg`, an argument of `scrubc CMD` that its
 * parser could not take: an option without its value (when it is the
 * `last` argument), an unknown option (with the option of `known` it
 * looks like), or an argument too many; then the first line of `usage`.
 * `known` ends with NULL; an entry ending in '=' takes a value.
 * Returns 2, the exit status. */
int sc_bad_arg(const char *cmd, const char *usage, const char *arg,
	       int last, const char *const *known);

/* Load the --schema files (messages printed). Returns 0, or -1. */
int sc_load_schemas(const struct sc_diagopts *o,
		    struct cc_schema *out[SC_MAX_SCHEMAS]);
void sc_free_schemas(struct cc_schema *s[SC_MAX_SCHEMAS], size_t n);

/* Diagnostics of several policies, shown as one report: text goes to
 * standard error as each policy is done; JSON and SARIF to standard
 * output, once, by sc_report_finish(). */
struct sc_report;

struct sc_report *sc_report_new(const struct sc_diagopts *o);

/* Show the diagnostics of `c` (after -Wno and -Werror have done their
 * work on them). Returns the status they call for: 0, 1 or 2. */
int sc_report_add(struct sc_report *r, struct dsl_ctx *c);

/* Print what was gathered and free the report; 2 if writing failed. */
int sc_report_finish(struct sc_report *r);

/* Compile the policy at `path` and load it, keyed with the public test
 * key (vm/testkey.h) and with `params` ("NAME=VALUE") bound. The
 * compiler's diagnostics, or why loading failed, are appended to
 * `diags` as text. Returns NULL on failure, with *status 1 (the policy
 * is wrong) or 2 (I/O). */
struct vm_program;
struct vm_program *sc_load_policy(const char *path, char *const *params,
				  size_t nparams, struct buf *diags,
				  int *status);

/* The commands of their own files. */
int sc_cmd_test(int argc, char **argv);
int sc_cmd_fmt(int argc, char **argv);
int sc_cmd_explain(int argc, char **argv);
int sc_cmd_fields(int argc, char **argv);

/* Write a buffer's bytes to `f` (nothing when it is empty); 0 or -1. */
int sc_put(FILE *f, const struct buf *b);

/* Read a whole file into `out` ("-": standard input, when flags has
 * VM_FILE_DASH); prints why not. */
int sc_read_file(const char *path, unsigned flags, struct buf *out);

/* Replace `path` by `b` (written beside, then renamed); prints why not. */
int sc_write_file(const char *path, const struct buf *b);

#endif
