/* comments.c - find a source's comments by lexing it (see comments.h). */
#include "comments.h"

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "../vm/alloc.h"
#include "lexutil.h"
#include "parser.h"
#include "lexer.h"

struct found {
	struct dsl_span *v;
	size_t n, cap;
	int failed;
};

/* Record the comments in text[from, to): only white space and comments
 * lie between two tokens. */
static void gap(struct found *f, const struct dsl_source *s, uint32_t file,
		uint32_t from, uint32_t to)
{
	for (uint32_t i = from; i < to; i++) {
		uint32_t end = i;

		if (s->text[i] != '#')
			continue;
		while (end < s->len && s->text[end] != '\n')
			end++;
		if (end > i && s->text[end - 1] == '\r')
			end--;
		if (f->n == f->cap) {
			size_t cap = f->cap ? f->cap * 2 : 16;
			struct dsl_span *g = scrub_realloc(f->v,
							   cap * sizeof *g);

			if (g == NULL) {
				f->failed = 1;
				return;
			}
			f->v = g;
			f->cap = cap;
		}
		f->v[f->n++] = (struct dsl_span){ file, i, end };
		i = end;
	}
}

int dsl_comments(struct dsl_ctx *c, uint32_t file, struct dsl_span **out,
		 size_t *n)
{
	const struct dsl_source *s = &c->sources[file];
	struct dsl_parser ps;
	struct dsl_arena arena = { NULL, 0 };
	struct found f = { NULL, 0, 0, 0 };
	volatile uint32_t prev = 0;
	unsigned before = c->errors;
	char *text = dsl_lex_copy(s);

	memset(&ps, 0, sizeof ps);
	ps.ctx = c;
	ps.arena = &arena;
	ps.file = file;
	if (text == NULL || dsl_lxlex_init_extra(&ps, &ps.scanner) != 0) {
		free(text);
		return -1;
	}
	if (setjmp(ps.fatal) == 0) {
		DSL_YYSTYPE lval;
		DSL_YYLTYPE lloc;

		dsl_lex_start(ps.scanner, text, s->len);
		while (dsl_lxlex(&lval, &lloc, ps.scanner) != 0 && !f.failed) {
			gap(&f, s, file, prev, lloc.start);
			prev = lloc.end;
		}
		gap(&f, s, file, prev, (uint32_t)s->len);
	} else {
		f.failed = 1;
	}
	dsl_lxlex_destroy(ps.scanner);
	free(text);
	dsl_arena_free(&arena);
	if (f.failed || c->errors != before) {
		free(f.v);
		return -1;
	}
	*out = f.v;
	*n = f.n;
	return 0;
}
