/* lexutil.h - state shared by the lexer and the parser, and the lexer's
 * helpers for the tokens that need more than a regular expression: paths,
 * strings (escapes decoded and checked) and regular expressions. */
#ifndef SCRUB_DSL_LEXUTIL_H
#define SCRUB_DSL_LEXUTIL_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include "ast.h"

/* A token's byte span in the current file. */
struct dsl_loc {
	uint32_t start, end;
};

/* A decoded string, or a number's or name's text. */
struct dsl_str {
	char *s;
	size_t len;
};

struct dsl_parser {
	struct dsl_ctx *ctx;
	struct dsl_arena *arena;
	uint32_t file;
	uint32_t pos;		/* byte offset of the next token */
	void *scanner;
	struct dsl_file *out;
	int start_token;	/* a token to return before any other */
	struct dsl_json *pattern;	/* parsed by dsl_parse_pattern */
	jmp_buf fatal;		/* the lexer's way out of a fatal error */
	/* While the scanner takes its input, what it allocated: if one
	 * of its allocations fails it jumps out holding none of them. */
	int in_setup;
	int nsetup;
	void *setup[4];
};

static inline struct dsl_span dsl_span_of(const struct dsl_parser *ps,
					  struct dsl_loc l)
{
	return (struct dsl_span){ ps->file, l.start, l.end };
}

void dsl_lex_error(struct dsl_parser *ps, struct dsl_loc loc,
		   const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
struct dsl_path *dsl_lex_path(struct dsl_parser *ps, const char *text,
			      size_t len, uint32_t start);
int dsl_lex_string(struct dsl_parser *ps, const char *text, size_t len,
		   uint32_t start, struct dsl_str *out);
struct dsl_regex *dsl_lex_regex(struct dsl_parser *ps, const char *text,
				size_t len, uint32_t start);
int dsl_keyword(const char *word, size_t len);
uint32_t dsl_lex_text_end(const struct dsl_parser *ps);
void dsl_lex_fatal(void *scanner, const char *msg)
	__attribute__((noreturn));

/* Statement and option keywords, for "did you mean" hints. Each list
 * ends with NULL. */
extern const char *const dsl_statement_words[];
extern const char *const dsl_option_words[];

#endif
