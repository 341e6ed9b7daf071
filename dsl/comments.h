/* comments.h - where the comments of a policy source are.
 *
 * The lexer skips comments; tools that rewrite a policy (scrubc fmt) need
 * them back. Running the lexer itself finds them exactly: whatever lies
 * between two tokens is white space and comments, so a '#' there starts
 * one, while a '#' inside a string, a path or a regex never does.
 */
#ifndef SCRUB_DSL_COMMENTS_H
#define SCRUB_DSL_COMMENTS_H

#include <stddef.h>

#include "ast.h"

/* The comments of source `file`, in order, as spans from '#' to the end
 * of the line (newline excluded). *out is allocated (the caller frees
 * it; NULL when there are none). Returns 0, or -1 when out of memory or
 * the source does not lex. */
int dsl_comments(struct dsl_ctx *c, uint32_t file, struct dsl_span **out,
		 size_t *n);

#endif
