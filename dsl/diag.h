/* diag.h - policy sources, byte spans and compiler diagnostics.
 *
 * Every location in the front end is a span of bytes in one source file.
 * Diagnostics carry spans, never line numbers; dsl_diag_render() is the one
 * function that turns a span into FILE:LINE:COL, the source line and a caret
 * underline. The library collects diagnostics; only the CLI prints them.
 *
 * Ownership: the context owns every source text and diagnostic it holds;
 * dsl_ctx_free() releases them all.
 */
#ifndef SCRUB_DSL_DIAG_H
#define SCRUB_DSL_DIAG_H

#include <stddef.h>
#include <stdint.h>

#include "../vm/buf.h"

struct dsl_span {
	uint32_t file;		/* index into the context's sources */
	uint32_t start;		/* byte offsets, end exclusive */
	uint32_t end;
};

struct dsl_source {
	char *name;		/* as given on the command line */
	char *text;		/* NUL-terminated copy of the file */
	size_t len;
	uint32_t *lines;	/* byte offset of each line start */
	size_t nlines;
	struct dsl_span included_from;	/* the include statement that
					 * read this file; file UINT32_MAX
					 * for a file named on its own */
};

enum dsl_severity { DSL_ERROR, DSL_WARNING, DSL_NOTE };

struct dsl_diag {
	enum dsl_severity severity;
	struct dsl_span span;
	char *msg;
	char *hint;		/* "did you mean ...?", or NULL */
	const char *code;	/* stable identifier, e.g. "unknown-action" */
	struct dsl_diag *next;
};

/* Stop collecting errors after this many, as compilers do. */
#define DSL_MAX_ERRORS 50

struct dsl_ctx {
	struct dsl_source *sources;
	size_t nsources;
	struct dsl_diag *diags, **diag_tail;
	unsigned errors, warnings;
	int oom;		/* an allocation failed: results are unusable */
};

void dsl_ctx_init(struct dsl_ctx *c);
void dsl_ctx_free(struct dsl_ctx *c);

/* Add a source from memory (copied) or from a file. Returns its index, or
 * -1 (out of memory, or the file cannot be read: an error diagnostic with
 * no span says which). A UTF-8 byte order mark at the start is left out,
 * as compilers do. */
int dsl_add_source(struct dsl_ctx *c, const char *name, const char *text,
		   size_t len);
int dsl_load_file(struct dsl_ctx *c, const char *path);

/* Record a diagnostic; `fmt` is printf-style. Returns the diagnostic so a
 * hint can be attached, or NULL when out of memory or past the cap. */
struct dsl_diag *dsl_diag(struct dsl_ctx *c, enum dsl_severity sev,
			  struct dsl_span span, const char *code,
			  const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void dsl_diag_hint(struct dsl_ctx *c, struct dsl_diag *d, const char *fmt,
		   ...) __attribute__((format(printf, 3, 4)));

/* The candidate closest to `word` by edit distance, if close enough to be
 * worth suggesting; NULL otherwise. `candidates` ends with NULL. */
const char *dsl_nearest(const char *word, size_t len,
			const char *const *candidates);

/* What a command-line option name[0..len) that matches none of `names`
 * (NULL-ended, written as `name` is) most likely meant: 0, nothing; 1,
 * *near; 2, several options it begins, the first few in `list` (each
 * after `show`, e.g. "--", comma-separated, "..." when there are more).
 * The rules of both command lines: a beginning names the one option it
 * begins, else the one that contains it, else one a typo away. */
int dsl_option_hint(const char *name, size_t len, const char *const *names,
		    const char *show, const char **near, char *list,
		    size_t listlen);

/* Characters in valid UTF-8 text s[0..n): the bytes that do not
 * continue one. Columns and widths count these. */
size_t dsl_utf8_chars(const char *s, size_t n);

/* 1-based line and column (columns count UTF-8 characters) of a byte. */
void dsl_line_col(const struct dsl_ctx *c, uint32_t file, uint32_t offset,
		  unsigned *line, unsigned *col);

/* Render one diagnostic the way gcc does:
 *     In file included from MAIN:LINE:     (in an included file)
 *     FILE:LINE:COL: error: MESSAGE
 *         3 | mask2 .detail.x
 *           | ^~~~~
 * followed by "note: HINT" when there is one. */
void dsl_diag_render(const struct dsl_ctx *c, const struct dsl_diag *d,
		     struct buf *out);

#endif
