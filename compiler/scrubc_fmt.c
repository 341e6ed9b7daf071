/* scrubc_fmt.c - `scrubc fmt [--check] FILE...`: canonical formatting.
 *
 * Each file is parsed on its own (includes are files of their own) and
 * rewritten in place when its canonical form differs; "-" reads standard
 * input and writes standard output. With --check nothing is written: the
 * files that are not canonical are named, and the status is 1.
 *
 * Before anything is written, the new text is parsed again and formatted
 * once more: it must parse, and come out the same. A formatter bug can
 * therefore never turn a policy into another one silently.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../dsl/comments.h"
#include "fmt.h"
#include "scrubc.h"

/* Format source `idx` of `c` into `out`. Returns 0, 1 (the source does
 * not parse: diagnostics in `c`) or 2. */
static int format_source(struct dsl_ctx *c, int idx, struct buf *out)
{
	struct dsl_arena a = { NULL, 0 };
	struct dsl_file *f;
	struct dsl_span *com = NULL;
	size_t ncom = 0;
	int rc = 0;

	if (idx < 0)
		return 2;
	if (dsl_parse(c, &a, (uint32_t)idx, &f) != 0 || f == NULL) {
		rc = c->oom ? 2 : 1;
	} else if (dsl_comments(c, (uint32_t)idx, &com, &ncom) != 0) {
		rc = 2;
	} else {
		cc_format(c, f, com, ncom, out);
		rc = buf_failed(out) ? 2 : 0;
	}
	free(com);
	dsl_arena_free(&a);
	return rc;
}

/* Format `text` and check the result is stable; 0 with it in `out`. */
static int format_checked(struct dsl_ctx *c, const char *name,
			  const struct buf *text, struct buf *out)
{
	struct buf again;
	int rc;

	rc = format_source(c, dsl_add_source(c, name, text->data ? text->data
					     : "", text->len), out);
	if (rc != 0)
		return rc;
	buf_init(&again, out->limit);
	rc = format_source(c, dsl_add_source(c, name, out->data ? out->data
					     : "", out->len), &again);
	if (rc != 0 || again.len != out->len ||
	    (out->len && memcmp(again.data, out->data, out->len) != 0)) {
		fprintf(stderr, "scrubc: internal error: formatting %s is not "
			"stable; the file was left alone\n", name);
		rc = 2;
	}
	buf_free(&again);
	return rc;
}

static void print_diags(const struct dsl_ctx *c)
{
	struct buf b;

	buf_init(&b, 1u << 20);
	for (const struct dsl_diag *d = c->diags; d; d = d->next)
		dsl_diag_render(c, d, &b);
	sc_put(stderr, &b);
	buf_free(&b);
}

static int fmt_one(const char *path, int check)
{
	struct buf text, out;
	struct dsl_ctx c;
	int rc;

	buf_init(&text, 64u << 20);
	buf_init(&out, 64u << 20);
	dsl_ctx_init(&c);
	if (sc_read_file(path, VM_FILE_DASH, &text) != 0) {
		rc = 2;
		goto done;
	}
	rc = format_checked(&c, path, &text, &out);
	if (rc == 1)
		print_diags(&c);
	if (rc != 0)
		goto done;
	if (strcmp(path, "-") == 0 && !check) {
		if (sc_put(stdout, &out) != 0)
			rc = 2;
	} else if (out.len != text.len ||
		   (out.len && memcmp(out.data, text.data, out.len) != 0)) {
		if (check) {
			printf("%s: not in canonical form (run scrubc fmt "
			       "%s)\n", path, path);
			rc = 1;
		} else if (sc_write_file(path, &out) != 0) {
			rc = 2;
		}
	}
done:
	dsl_ctx_free(&c);
	buf_free(&text);
	buf_free(&out);
	return rc;
}

int sc_cmd_fmt(int argc, char **argv)
{
	int check = 0, status = 0, files = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--check") == 0) {
			check = 1;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			static const char *const known[] = { "--check", NULL };

			return sc_bad_arg("fmt", "usage: scrubc fmt [--check] "
					  "FILE...\n", argv[i], i == argc - 1,
					  known);
		}
	}
	for (int i = 1; i < argc; i++) {
		int rc;

		if (strcmp(argv[i], "--check") == 0)
			continue;
		files++;
		rc = fmt_one(argv[i], check);
		if (rc > status)
			status = rc;
	}
	if (files == 0) {
		fputs("usage: scrubc fmt [--check] FILE...\n", stderr);
		return 2;
	}
	if (fflush(stdout) != 0)
		return 2;
	return status;
}
