/* fmt.h - policies in canonical form (scrubc fmt).
 *
 * The form: one statement per line, rule bodies indented by four
 * spaces, single spaces between words, `, ` between list items, JSON as
 * {"k": v, ...}; paths in their shortest spelling (."version" is
 * .version); strings, numbers and regexes exactly as written. A
 * statement wider than 80 columns is broken: path lists continue under
 * the first path, options move to lines of their own, long patterns
 * get one member per line, long conditions break before `and`/`or`.
 * At most one blank line is kept between statements, none at the start
 * of a block. Formatting is idempotent.
 *
 * Comments stay where they are relative to statements: a comment on its
 * own line stays before the statement it precedes; one at the end of a
 * statement's last line stays there. A comment inside a statement moves
 * to just before the statement (the statement itself is re-laid out).
 *
 * Adding a statement kind means adding its printer to the table in
 * fmt.c; a kind without one is copied as written. Adding an option kind
 * means a case in opt_text(); one without is copied as written.
 */
#ifndef SCRUB_CC_FMT_H
#define SCRUB_CC_FMT_H

#include <stddef.h>

#include "../dsl/ast.h"

/* Append the canonical form of `f` (a file parsed without errors; its
 * source is in `ctx`) to `out`; `comments` are the source's comments in
 * order (dsl_comments). */
void cc_format(const struct dsl_ctx *ctx, const struct dsl_file *f,
	       const struct dsl_span *comments, size_t ncomments,
	       struct buf *out);

#endif
