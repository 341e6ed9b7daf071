/* compile.c - the compiler's driver: parse, include, check, lower, write. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../vm/alloc.h"
#include "cc.h"

/* Includes nest at most this deep; deeper is surely a cycle of links. */
#define MAX_INCLUDE_DEPTH 16
/* Includes followed in all: each one is read and spliced afresh, so
 * files that each include the next twice would otherwise splice 2^16
 * copies (4 includes a file: hours and gigabytes). */
#define MAX_INCLUDES 1000

struct include_chain {
	const char *real;	/* canonical path of the file */
	const struct include_chain *up;
};

static void splice(struct cc *c, const struct dsl_file *f,
		   const struct include_chain *chain, int depth);

/* NULL when `real` is a regular file, else why it cannot be included:
 * a directory would fail without a place, a pipe wait for a writer, a
 * device (/dev/zero) never end. */
static const char *not_includable(const char *real)
{
	struct stat st;

	if (stat(real, &st) != 0)
		return strerror(errno);
	if (S_ISREG(st.st_mode))
		return NULL;
	return S_ISDIR(st.st_mode) ? "it is a directory" :
	       "it is not a regular file";
}

/* `include "x.scrub"`: x is found beside the file that includes it. */
static void include(struct cc *c, const struct dsl_stmt *s,
		    const struct include_chain *chain, int depth)
{
	const char *from = c->ctx->sources[s->span.file].name;
	char *dir = scrub_strndup(from, strlen(from)), *full = NULL, *base;
	char real[PATH_MAX];
	struct include_chain link;
	const char *why;
	struct dsl_file *f;
	size_t n;
	int idx;

	if (dir == NULL)
		goto oom;
	base = dirname(dir);
	n = strlen(base) + strlen(s->name) + 2;
	full = scrub_malloc(n);
	if (full == NULL)
		goto oom;
	if (s->name[0] == '/')
		snprintf(full, n, "%s", s->name);
	else
		snprintf(full, n, "%s/%s", base, s->name);

	if (c->includes >= MAX_INCLUDES) {
		/* Once: the includes after it are skipped, not reported. */
		if (c->includes++ == MAX_INCLUDES)
			dsl_diag(c->ctx, DSL_ERROR, s->name_span, "include",
				 "more than %d includes in all (a file "
				 "included from several places counts each "
				 "time)", MAX_INCLUDES);
		goto out;
	}
	c->includes++;
	if (depth >= MAX_INCLUDE_DEPTH) {
		dsl_diag(c->ctx, DSL_ERROR, s->name_span, "include",
			 "includes nested more than %d deep",
			 MAX_INCLUDE_DEPTH);
		goto out;
	}
	if (realpath(full, real) == NULL) {
		dsl_diag(c->ctx, DSL_ERROR, s->name_span, "include",
			 "cannot include '%s': %s", full, strerror(errno));
		goto out;
	}
	if ((why = not_includable(real)) != NULL) {
		dsl_diag(c->ctx, DSL_ERROR, s->name_span, "include",
			 "cannot include '%s': %s", full, why);
		goto out;
	}
	for (const struct include_chain *up = chain; up; up = up->up) {
		if (strcmp(up->real, real) == 0) {
			dsl_diag(c->ctx, DSL_ERROR, s->name_span, "include",
				 "'%s' includes itself", s->name);
			goto out;
		}
	}
	idx = dsl_load_file(c->ctx, full);
	if (idx < 0)
		goto out;
	/* Its diagnostics say where it was included from, as gcc's do. */
	c->ctx->sources[idx].included_from = s->kw;
	dsl_parse(c->ctx, &c->arena, (uint32_t)idx, &f);
	if (f != NULL && !c->arena.failed) {
		link.real = real;
		link.up = chain;
		splice(c, f, &link, depth + 1);
	}
	goto out;
oom:
	c->ctx->oom = 1;
out:
	free(dir);
	free(full);
}

/* Flatten a file's statements into c->stmts, includes in their place. */
static void splice(struct cc *c, const struct dsl_file *f,
		   const struct include_chain *chain, int depth)
{
	for (size_t i = 0; i < f->stmts.n; i++) {
		struct dsl_stmt *s = f->stmts.items[i];

		if (s->kind == ST_INCLUDE) {
			include(c, s, chain, depth);
			continue;
		}
		/* An included baseline may name itself; the including
		 * policy's name is the one that counts. */
		if (s->kind == ST_POLICY && depth > 0)
			continue;
		if (dsl_list_push(&c->arena, &c->stmts, s) != 0)
			c->ctx->oom = 1;
	}
}

static void find_policy_header(struct cc *c, const struct dsl_file *main)
{
	for (size_t i = 0; i < c->stmts.n; i++) {
		const struct dsl_stmt *s = c->stmts.items[i];

		if (s->kind != ST_POLICY)
			continue;
		if (c->policy == NULL) {
			c->policy = s;
			continue;
		}
		dsl_diag(c->ctx, DSL_ERROR, s->kw, "policy", "a second "
			 "'policy' header");
		dsl_diag(c->ctx, DSL_NOTE, c->policy->kw, "policy",
			 "the first is here");
	}
	/* A header that did not parse has its own error already. */
	if (c->policy == NULL && !main->saw_policy)
		dsl_diag(c->ctx, DSL_ERROR, (struct dsl_span){ main->source,
			 0, 0 }, "policy", "missing 'policy \"NAME\"' header");
	else if (c->policy != NULL && c->policy->name[0] == '\0')
		dsl_diag(c->ctx, DSL_ERROR, c->policy->name_span, "policy",
			 "the policy name cannot be empty");
}

static void cc_free(struct cc *c)
{
	cc_emit_free(&c->emit);
	dsl_arena_free(&c->arena);
	free(c->params);
	free(c->rules);
}

void cc_release(struct cc *c)
{
	cc_free(c);
	memset(c, 0, sizeof *c);
}

/* After the front end: lower and write, or say why not. */
static int finish(struct cc *c, struct buf *out)
{
	int rc = -1;

	if (c->ctx->errors == 0 && !c->ctx->oom) {
		cc_lower(c);
		if (cc_emit_write(&c->emit, out) == 0)
			rc = 0;
		else
			dsl_diag(c->ctx, DSL_ERROR,
				 (struct dsl_span){ UINT32_MAX, 0, 0 },
				 "resources", "out of memory, or the policy "
				 "is too large for the bytecode format");
	}
	if (c->ctx->oom && rc != 0)
		dsl_diag(c->ctx, DSL_ERROR,
			 (struct dsl_span){ UINT32_MAX, 0, 0 }, "resources",
			 "out of memory");
	cc_free(c);
	return rc;
}

/* Parse, splice and check source `idx`; the tree stays in `c`. */
static int front(struct cc *c, struct dsl_ctx *ctx, int idx,
		 const struct cc_options *o)
{
	struct dsl_file *f;
	char real[PATH_MAX];
	struct include_chain top;

	memset(c, 0, sizeof *c);
	c->ctx = ctx;
	if (o)
		c->opts = *o;
	cc_emit_init(&c->emit);
	if (idx < 0)
		return -1;
	/* Statements that parsed are checked even when others did not, so
	 * one run reports every error it can. */
	dsl_parse(ctx, &c->arena, (uint32_t)idx, &f);
	if (f != NULL && !c->arena.failed) {
		top.real = realpath(ctx->sources[idx].name, real) ? real
			   : ctx->sources[idx].name;
		top.up = NULL;
		splice(c, f, &top, 0);
		find_policy_header(c, f);
		cc_check(c);
		/* Warnings are about a policy that means something: only
		 * once it has no errors. */
		if (c->opts.warn && ctx->errors == 0 && !ctx->oom)
			cc_warn(c);
	}
	return ctx->errors == 0 && !ctx->oom ? 0 : -1;
}

int cc_front_file(struct cc *c, struct dsl_ctx *ctx, const char *path,
		  const struct cc_options *o)
{
	return front(c, ctx, dsl_load_file(ctx, path), o);
}

static int compile_source(struct dsl_ctx *ctx, int idx,
			  const struct cc_options *o, struct buf *out)
{
	struct cc c;

	/* A source that could not be loaded left an error: nothing lowers. */
	front(&c, ctx, idx, o);
	return finish(&c, out);
}

int cc_compile_file(struct dsl_ctx *ctx, const char *path, struct buf *out)
{
	return compile_source(ctx, dsl_load_file(ctx, path), NULL, out);
}

int cc_compile_file_opts(struct dsl_ctx *ctx, const char *path,
			 const struct cc_options *o, struct buf *out)
{
	return compile_source(ctx, dsl_load_file(ctx, path), o, out);
}

int cc_compile_text(struct dsl_ctx *ctx, const char *name, const char *text,
		    size_t len, struct buf *out)
{
	return compile_source(ctx, dsl_add_source(ctx, name, text, len), NULL,
			      out);
}

int cc_compile_pattern(struct dsl_ctx *ctx, const char *name,
		       const char *text, size_t len, struct buf *out)
{
	int idx = dsl_add_source(ctx, name, text, len);
	struct dsl_json *pattern = NULL;
	struct cc c;
	uint32_t j;

	memset(&c, 0, sizeof c);
	c.ctx = ctx;
	cc_emit_init(&c.emit);
	if (idx < 0 ||
	    dsl_parse_pattern(ctx, &c.arena, (uint32_t)idx, &pattern) != 0 ||
	    cc_check_pattern(&c, pattern) != 0) {
		cc_free(&c);
		return -1;
	}

	/* pattern; JUMP_IF_TRUE L; DROP "no-match"; L: HALT */
	c.emit.name = cc_string(&c.emit, "event-pattern", 13);
	c.emit.file = cc_file(&c.emit, name);
	c.emit.line = 1;
	cc_lower_pattern(&c, pattern);
	j = cc_op(&c.emit, OP_JUMP_IF_TRUE, 0u);
	cc_op(&c.emit, OP_DROP, cc_string(&c.emit, "no-match", 8));
	cc_patch(&c.emit, j, cc_pc(&c.emit));
	cc_op(&c.emit, OP_HALT);
	if (cc_emit_write(&c.emit, out) != 0) {
		dsl_diag(ctx, DSL_ERROR, (struct dsl_span){ UINT32_MAX, 0, 0 },
			 "resources", "out of memory");
		cc_free(&c);
		return -1;
	}
	cc_free(&c);
	return 0;
}
