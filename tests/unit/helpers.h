/* helpers.h - shared by the Check unit tests: compile a policy from text,
 * run one event, and describe the outcome as one comparable string. */
#ifndef SCRUB_TEST_HELPERS_H
#define SCRUB_TEST_HELPERS_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../compiler/cc.h"
#include "../../runtime/scrub.h"
#include "../../vm/buf.h"

/* Compile `src` to bytecode; on errors, the first diagnostic's text
 * ("LINE:COL: message") goes to `first_error` and NULL is returned. */
static inline scrub_program *compile_text(const char *src, char *first_error,
					  size_t errlen)
{
	struct dsl_ctx c;
	struct buf code;
	scrub_program *p = NULL;
	char err[512];

	dsl_ctx_init(&c);
	buf_init(&code, 64u << 20);
	if (cc_compile_text(&c, "t.scrub", src, strlen(src), &code) == 0) {
		if (scrub_program_load(code.data, code.len, &p, err,
				       sizeof err) != 0)
			ck_abort_msg("compiled program does not load: %s",
				     err);
	} else if (first_error) {
		unsigned line = 0, col = 0;

		for (struct dsl_diag *d = c.diags; d; d = d->next) {
			if (d->severity != DSL_ERROR)
				continue;
			if (d->span.file < c.nsources)
				dsl_line_col(&c, d->span.file, d->span.start,
					     &line, &col);
			snprintf(first_error, errlen, "%u:%u: %s", line, col,
				 d->msg);
			break;
		}
	}
	buf_free(&code);
	dsl_ctx_free(&c);
	return p;
}

/* Compile the policy file `path` into `out` (initialised here): 0, or -1
 * with *reported set when the failure was reported (an error, or the
 * context's out-of-memory flag when even that could not be). */
static inline int compile_file(const char *path, struct buf *out,
			       int *reported)
{
	struct dsl_ctx c;
	int rc;

	dsl_ctx_init(&c);
	buf_init(out, 1u << 24);
	rc = cc_compile_file(&c, path, out);
	if (reported)
		*reported = c.errors > 0 || c.oom;
	dsl_ctx_free(&c);
	return rc;
}

/* Run `event` through `policy`: "emit: JSON", "drop: REASON" or
 * "reject: CODE" (written into out). */
static inline const char *outcome(const char *policy, const char *event,
				  char *out, size_t outlen)
{
	char err[512] = "";
	scrub_program *p = compile_text(policy, err, sizeof err);
	scrub_worker *w;
	struct scrub_result r;

	ck_assert_msg(p != NULL, "policy does not compile: %s", err);
	scrub_program_set_key(p, "unit-test-key", 13);
	w = scrub_worker_new(p, NULL);
	ck_assert_ptr_nonnull(w);
	switch (scrub_run(w, event, strlen(event), &r)) {
	case SCRUB_EMIT:
		snprintf(out, outlen, "emit: %.*s", (int)r.out_len, r.out);
		break;
	case SCRUB_DROP:
		snprintf(out, outlen, "drop: %s", r.reason);
		break;
	case SCRUB_REJECT:
		snprintf(out, outlen, "reject: %s", r.code);
		break;
	}
	scrub_worker_free(w);
	scrub_program_free(p);
	return out;
}

/* Run a suite; the process exit status says whether all passed. */
static inline int run_suite(Suite *s)
{
	SRunner *r = srunner_create(s);
	int failed;

	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
