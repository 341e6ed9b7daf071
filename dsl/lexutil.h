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

/* A bracket ('{', '[' or '(') opened and not yet closed. */
struct dsl_open {
	uint32_t at;		/* its byte offset */
	char c;
	uint8_t after_error;	/* opened before a reported syntax error,
				 * or while recovering from one */
};

/* Brackets nest deeper than this only in a policy that is wrong anyway;
 * past it they are counted, not remembered. */
#define DSL_MAX_OPEN 64

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

	/* For messages that depend on what came before the offending
	 * token: the last four tokens the parser read, newest first. */
	int tok[4];
	struct dsl_loc tok_loc[4];
	struct dsl_open open[DSL_MAX_OPEN];
	unsigned depth;		/* brackets open, remembered or not */
	int closed_after_error;	/* the last closer matched such a
				 * bracket */
	int recovering;		/* an error was reported and no statement
				 * has been read since */
};

static inline struct dsl_span dsl_span_of(const struct dsl_parser *ps,
					  struct dsl_loc l)
{
	return (struct dsl_span){ ps->file, l.start, l.end };
}

/* Report a syntax error; the diagnostic is returned so that a hint can
 * be attached (NULL past the error cap or out of memory). */
struct dsl_diag *dsl_lex_error(struct dsl_parser *ps, struct dsl_loc loc,
			       const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
struct dsl_path *dsl_lex_path(struct dsl_parser *ps, const char *text,
			      size_t len, uint32_t start);
int dsl_lex_string(struct dsl_parser *ps, const char *text, size_t len,
		   uint32_t start, struct dsl_str *out);
struct dsl_regex *dsl_lex_regex(struct dsl_parser *ps, const char *text,
				size_t len, uint32_t start);
int dsl_keyword(const char *word, size_t len);

/* Tokens that are mistakes with an obvious meaning: each reports one
 * error with the fix, and the caller goes on with what was meant. */
void dsl_lex_digit_name(struct dsl_parser *ps, const char *text,
			size_t len, uint32_t start);
/* A path with a bare name that is not ASCII (`.détail`): one error at
 * the first such name, with the path quoted as meant ('."détail"') as
 * the hint. */
void dsl_lex_bare_unicode(struct dsl_parser *ps, const char *text,
			  size_t len, uint32_t start);
int dsl_lex_single_quoted(struct dsl_parser *ps, const char *text,
			  size_t len, struct dsl_loc loc,
			  struct dsl_str *out);
int dsl_lex_c_operator(struct dsl_parser *ps, const char *text,
		       struct dsl_loc loc);
uint32_t dsl_lex_text_end(const struct dsl_parser *ps);

/* In a word the lexer matched with U8WORD (valid UTF-8): its first
 * character that is not ASCII, and the bytes of the character at s. */
const char *dsl_lex_first_u8(const char *word);
size_t dsl_lex_u8_len(const char *s);
void dsl_lex_fatal(void *scanner, const char *msg)
	__attribute__((noreturn));

/* The text flex scans: a copy of the source followed by the two NULs flex
 * wants. The caller frees it after dsl_lxlex_destroy(). NULL when out of
 * memory. */
char *dsl_lex_copy(const struct dsl_source *s);

/* Point the scanner at `copy` (from dsl_lex_copy, `len` bytes of source).
 * Call it where a fatal lexer error can jump to ps->fatal: each of its
 * allocations is made so that failing leaks nothing (flex's own
 * dsl_lx_scan_bytes loses its buffer when a later step fails). */
void dsl_lex_start(void *scanner, char *copy, size_t len);

/* Statement and option keywords, for "did you mean" hints. Each list
 * ends with NULL. */
extern const char *const dsl_statement_words[];
extern const char *const dsl_option_words[];

#endif
