/* cc.h - compile .scrub policies to bytecode.
 *
 * The stages: parse each file (dsl/), splice in includes, check names,
 * types and options (check.c, pattern.c), then lower the checked tree to
 * bytecode (lower.c, emit.c). Diagnostics go to the caller's dsl_ctx; the
 * library never prints. Any error means no bytecode.
 */
#ifndef SCRUB_CC_H
#define SCRUB_CC_H

#include <stddef.h>

#include "../dsl/ast.h"
#include "../vm/buf.h"
#include "emit.h"

/* Compile the policy in file `path` (and what it includes). On success
 * returns 0 with the bytecode appended to `out`; otherwise -1, with the
 * reasons in `ctx`. */
int cc_compile_file(struct dsl_ctx *ctx, const char *path, struct buf *out);

/* Compile a policy given as text (for tests and tools); `name` is used in
 * diagnostics and to resolve includes relative to its directory. */
int cc_compile_text(struct dsl_ctx *ctx, const char *name, const char *text,
		    size_t len, struct buf *out);

/* Compile a standalone EventBridge event pattern (JSON text) into a
 * program that drops every event the pattern does not match. */
int cc_compile_pattern(struct dsl_ctx *ctx, const char *name,
		       const char *text, size_t len, struct buf *out);

/* What scrubc asks for beyond plain compiling: the warnings of warn.c,
 * and schemas of the events to check paths against. */
struct cc_schema;
struct cc_options {
	int warn;			/* run the warning passes (warn.c) */
	const struct cc_schema *const *schemas;
	size_t nschemas;
};

int cc_compile_file_opts(struct dsl_ctx *ctx, const char *path,
			 const struct cc_options *o, struct buf *out);

/* ---- between the compiler's own stages ----------------------------------- */

struct cc_param {
	const struct dsl_stmt *decl;
	uint32_t konst;		/* its constant, once emitted */
	int is_rate;		/* used as a sample rate: range 0..100 */
};

struct cc_rule_name {
	const char *name;
	struct dsl_span span;
};

struct cc {
	struct dsl_ctx *ctx;
	struct dsl_arena arena;
	struct dsl_list files;	/* of struct dsl_file, main first */
	struct dsl_list stmts;	/* every statement, includes spliced */
	const struct dsl_stmt *policy;
	struct cc_param *params;
	size_t nparams;
	struct cc_rule_name *rules;
	size_t nrules;
	int canonical;
	struct cc_emit emit;
	struct cc_options opts;
	unsigned includes;	/* include statements followed, in all */
};

/* The front end alone, for tools that read the checked tree (fields,
 * explain): parse `path`, splice its includes, check it (and warn, as
 * `o` asks). Returns 0 when it found no error. The tree stays in `c`
 * until cc_release(c); diagnostics go to `ctx`. */
int cc_front_file(struct cc *c, struct dsl_ctx *ctx, const char *path,
		  const struct cc_options *o);
void cc_release(struct cc *c);

/* check.c */
void cc_check(struct cc *c);
struct cc_param *cc_find_param(struct cc *c, const char *name);

/* pattern.c: validate an event pattern (errors go to the context) and
 * lower it to code that pushes whether the event matches. */
int cc_check_pattern(struct cc *c, const struct dsl_json *pattern);
void cc_lower_pattern(struct cc *c, const struct dsl_json *pattern);

/* The value arrays of a valid `pattern`'s fields written outside every
 * $or that an alternative's field of the same path, written after them,
 * replaces in that alternative's branches (see pattern.c): what they say
 * of an event is not certain. A list in the compile's arena, NULL when
 * out of memory. */
struct dsl_list *cc_pattern_replaced(struct cc *c,
				     const struct dsl_json *pattern);

/* lower.c */
void cc_lower(struct cc *c);

/* warn.c: warnings about statements that cannot do what they say;
 * warn_match.c: about rules whose condition contradicts a select. */
void cc_warn(struct cc *c);
void cc_warn_matches(struct cc *c);

/* Does a field name say it holds IP addresses (ip, client_ip,
 * sourceIPAddress...)? The rule of the truncate-ip warning (warn.c). */
int cc_ip_field_name(const char *name, size_t len);

/* Could the literal `v` pass `m`, one element of an event pattern
 * field's list of matchers? 0 no, 1 yes, 2 maybe (warn_match.c). */
int cc_matcher_passes(const struct dsl_json *v, const struct dsl_json *m);

#endif
