/* parse.c - run the lexer and parser over one source file. */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "../vm/json.h"
#include "ast.h"
#include "lexutil.h"
#include "parser.h"
#include "lexer.h"

/* Policies are UTF-8; say where they are not before lexing them. */
static int check_utf8(struct dsl_ctx *c, uint32_t file)
{
	const struct dsl_source *s = &c->sources[file];
	const unsigned char *p = (const unsigned char *)s->text;
	size_t i = 0;

	while (i < s->len) {
		size_t n = 1;

		if (p[i] == 0) {
			dsl_diag(c, DSL_ERROR, (struct dsl_span){ file,
				 (uint32_t)i, (uint32_t)i + 1 }, "encoding",
				 "NUL byte in policy source");
			return -1;
		}
		if (p[i] >= 0x80) {
			/* Reuse the event parser's strict check on one
			 * character at a time. */
			n = p[i] >= 0xF0 ? 4 : p[i] >= 0xE0 ? 3 : 2;
			if (i + n > s->len ||
			    !json_utf8_valid(s->text + i, n)) {
				dsl_diag(c, DSL_ERROR, (struct dsl_span){
					 file, (uint32_t)i, (uint32_t)i + 1 },
					 "encoding",
					 "invalid UTF-8 in policy source");
				return -1;
			}
		}
		i += n;
	}
	return 0;
}

static unsigned run(struct dsl_ctx *c, struct dsl_arena *a, uint32_t file,
		    int start_token, struct dsl_file **out,
		    struct dsl_json **pattern)
{
	struct dsl_parser ps;
	unsigned before = c->errors;
	volatile int status = 0;
	char *text;

	memset(&ps, 0, sizeof ps);
	ps.ctx = c;
	ps.arena = a;
	ps.file = file;
	ps.start_token = start_token;
	*out = NULL;
	ps.out = dsl_alloc(a, sizeof *ps.out);
	if (ps.out == NULL) {
		c->oom = 1;
		return c->errors - before + 1;
	}
	ps.out->source = file;
	if (check_utf8(c, file) != 0)
		return c->errors - before;

	text = dsl_lex_copy(&c->sources[file]);
	if (text == NULL || dsl_lxlex_init_extra(&ps, &ps.scanner) != 0) {
		free(text);
		c->oom = 1;
		return c->errors - before + 1;
	}
	if (setjmp(ps.fatal) == 0) {
		dsl_lex_start(ps.scanner, text, c->sources[file].len);
		status = dsl_yyparse(&ps);
	} else {
		status = 2;
	}
	dsl_lxlex_destroy(ps.scanner);
	free(text);

	if (status == 2 || a->failed) {
		/* Bison's stack limit, or an allocation failure. */
		dsl_diag(c, DSL_ERROR, (struct dsl_span){ file,
			 (uint32_t)c->sources[file].len,
			 (uint32_t)c->sources[file].len },
			 "resources",
			 "policy too large or too deeply nested to parse");
	}
	*out = ps.out;
	if (pattern)
		*pattern = ps.pattern;
	return c->errors - before;
}

unsigned dsl_parse(struct dsl_ctx *c, struct dsl_arena *a, uint32_t file,
		   struct dsl_file **out)
{
	return run(c, a, file, 0, out, NULL);
}

unsigned dsl_parse_pattern(struct dsl_ctx *c, struct dsl_arena *a,
			   uint32_t file, struct dsl_json **out)
{
	struct dsl_file *f;
	unsigned n = run(c, a, file, PATTERN_START, &f, out);

	if (n == 0 && *out == NULL) {
		dsl_diag(c, DSL_ERROR, (struct dsl_span){ file, 0, 0 },
			 "pattern", "expected an event pattern");
		n = 1;
	}
	return n;
}
