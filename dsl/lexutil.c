/* lexutil.c - the lexer's helpers: keywords, strings, paths, regexes. */
#include "lexutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vm/alloc.h"
#include "../vm/json.h"
#include "parser.h"
#include "lexer.h"

static const struct {
	const char *word;
	int token;
} keywords[] = {
	{ "and", AND },
	{ "as", AS },
	{ "bucket", BUCKET },
	{ "by", BY },
	{ "copy", COPY },
	{ "delete", DELETE },
	{ "drop", DROP },
	{ "else", ELSE },
	{ "exists", EXISTS },
	{ "false", FALSE },
	{ "in", IN },
	{ "include", INCLUDE },
	{ "keep", KEEP },
	{ "key", KEY },
	{ "length", LENGTH },
	{ "mask", MASK },
	{ "not", NOT },
	{ "null", NUL },
	{ "on", ON },
	{ "or", OR },
	{ "output", OUTPUT },
	{ "param", PARAM },
	{ "policy", POLICY },
	{ "prefix", PREFIX },
	{ "pseudonymize", PSEUDONYMIZE },
	{ "redact", REDACT },
	{ "rename", RENAME },
	{ "replace", REPLACE },
	{ "round", ROUND },
	{ "rule", RULE },
	{ "sample", SAMPLE },
	{ "select", SELECT },
	{ "set", SET },
	{ "shift", SHIFT },
	{ "to", TO },
	{ "tokenize", TOKENIZE },
	{ "true", TRUE },
	{ "truncate", TRUNCATE },
	{ "using", USING },
	{ "when", WHEN },
	{ "with", WITH },
	{ "within", WITHIN },
};

const char *const dsl_statement_words[] = {
	"policy", "include", "param", "output", "select", "drop", "sample",
	"rule", "on", "set", "delete", "rename", "copy", "keep", "mask",
	"pseudonymize", "replace", "truncate", "redact", "round", "bucket",
	"shift", "tokenize", NULL,
};

const char *const dsl_option_words[] = {
	"keep", "with", "as", "length", "to", "else", "matching", "using",
	"by", "within", "prefix", "key", NULL,
};

int dsl_keyword(const char *word, size_t len)
{
	size_t lo = 0, hi = sizeof keywords / sizeof keywords[0];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strncmp(word, keywords[mid].word, len);

		if (c == 0 && keywords[mid].word[len] != '\0')
			c = -1;
		if (c == 0)
			return keywords[mid].token;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

char *dsl_lex_copy(const struct dsl_source *s)
{
	char *t = scrub_malloc(s->len + 2);

	if (t != NULL) {
		memcpy(t, s->text, s->len);
		t[s->len] = t[s->len + 1] = '\0';
	}
	return t;
}

void dsl_lex_start(void *scanner, char *copy, size_t len)
{
	/* Grow flex's buffer stack to its working size first (it allocates
	 * one slot, then eight more): the buffer made next is then pushed
	 * without allocating, so no failure can strand it. */
	dsl_lx_switch_to_buffer(NULL, scanner);
	dsl_lx_switch_to_buffer(NULL, scanner);
	dsl_lx_scan_buffer(copy, len + 2, scanner);
}

/* The offset just after the last character that is not white space. */
uint32_t dsl_lex_text_end(const struct dsl_parser *ps)
{
	const char *t = ps->ctx->sources[ps->file].text;
	uint32_t end = ps->pos;

	while (end > 0 && (t[end - 1] == ' ' || t[end - 1] == '\t' ||
			   t[end - 1] == '\r' || t[end - 1] == '\n'))
		end--;
	return end;
}

struct dsl_diag *dsl_lex_error(struct dsl_parser *ps, struct dsl_loc loc,
			       const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return dsl_diag(ps->ctx, DSL_ERROR, dsl_span_of(ps, loc), "syntax",
			"%s", msg);
}

void dsl_lex_fatal(void *scanner, const char *msg)
{
	struct dsl_parser *ps = dsl_lxget_extra(scanner);

	dsl_diag(ps->ctx, DSL_ERROR, (struct dsl_span){ UINT32_MAX, 0, 0 },
		 "internal", "lexer: %s", msg);
	longjmp(ps->fatal, 1);
}

/* Decode the JSON string literal text[0..len) (quotes included) whose
 * first byte is at `start`. The lexer guarantees the quotes and that each
 * backslash has a following character. */
int dsl_lex_string(struct dsl_parser *ps, const char *text, size_t len,
		   uint32_t start, struct dsl_str *out)
{
	char *o = dsl_alloc(ps->arena, len);
	size_t n = 0;

	if (o == NULL)
		return -1;
	for (size_t i = 1; i + 1 < len; i++) {
		struct dsl_loc at = { start + (uint32_t)i,
				      start + (uint32_t)i + 2 };
		uint32_t cp;
		size_t k;

		if ((unsigned char)text[i] < 0x20) {
			at.end = at.start + 1;
			dsl_lex_error(ps, at,
				      "control character in string");
			return -1;
		}
		if (text[i] != '\\') {
			o[n++] = text[i];
			continue;
		}
		switch (text[++i]) {
		case '"':
		case '\\':
		case '/':
			o[n++] = text[i];
			continue;
		case 'b':
			o[n++] = '\b';
			continue;
		case 'f':
			o[n++] = '\f';
			continue;
		case 'n':
			o[n++] = '\n';
			continue;
		case 'r':
			o[n++] = '\r';
			continue;
		case 't':
			o[n++] = '\t';
			continue;
		case 'u':
			break;
		default:
			dsl_lex_error(ps, at, "invalid escape '\\%c' in string",
				      text[i]);
			return -1;
		}
		/* The escape starts at the backslash, one byte back. */
		k = json_u_escape(text + i - 1, len - i + 1, &cp);
		at.end = at.start + 6;
		if (k == 0) {
			at.end = at.start + 2;
			dsl_lex_error(ps, at, "\\u needs four hex digits");
			return -1;
		}
		i += k - 2;
		if (cp >= 0xD800 && cp <= 0xDFFF) {
			dsl_lex_error(ps, at, "lone surrogate in string");
			return -1;
		}
		n += json_put_utf8(o + n, cp);
	}
	o[n] = '\0';
	out->s = o;
	out->len = n;
	return 0;
}

/* `.items.2fa`: a name that starts with a digit is quoted in a path
 * (`.items."2fa"`); all digits may also have been meant as an index. */
void dsl_lex_digit_name(struct dsl_parser *ps, const char *text,
			size_t len, uint32_t start)
{
	size_t dot = len;
	int digits = 1;
	struct dsl_loc at;
	struct dsl_diag *d;

	while (text[dot - 1] != '.')
		dot--;
	for (size_t i = dot; i < len; i++)
		digits &= text[i] >= '0' && text[i] <= '9';
	at.start = start + (uint32_t)dot;
	at.end = start + (uint32_t)len;
	d = dsl_lex_error(ps, at, "a name in a path cannot start with a "
			  "digit");
	/* The index follows the path before the dot, or the root: `.[0]`. */
	if (digits)
		dsl_diag_hint(ps->ctx, d, "did you mean '%.*s[%.*s]' (an "
			      "index) or '%.*s\"%.*s\"' (a name)?",
			      (int)(dot > 1 ? dot - 1 : dot), text,
			      (int)(len - dot), text + dot, (int)dot, text,
			      (int)(len - dot), text + dot);
	else
		dsl_diag_hint(ps->ctx, d, "quote it: did you mean "
			      "'%.*s\"%.*s\"'?", (int)dot, text,
			      (int)(len - dot), text + dot);
}

const char *dsl_lex_first_u8(const char *word)
{
	while ((unsigned char)*word < 0x80)
		word++;
	return word;
}

size_t dsl_lex_u8_len(const char *s)
{
	size_t n = 1;

	while ((s[n] & 0xC0) == 0x80)
		n++;
	return n;
}

/* Is the bare segment text[i..j) (no quotes) other than ASCII? */
static int non_ascii(const char *text, size_t i, size_t j)
{
	for (; i < j; i++)
		if ((unsigned char)text[i] >= 0x80)
			return 1;
	return 0;
}

/* Past the quoted string that starts at text[i] ('"'). */
static size_t past_quoted(const char *text, size_t len, size_t i)
{
	for (i++; i < len && text[i] != '"'; i++)
		if (text[i] == '\\')
			i++;
	return i < len ? i + 1 : len;
}

void dsl_lex_bare_unicode(struct dsl_parser *ps, const char *text,
			  size_t len, uint32_t start)
{
	struct buf fix;
	struct dsl_loc at = { 0, 0 };
	struct dsl_diag *d;
	size_t i = 0;

	/* The path again with each such name quoted, for the hint. */
	buf_init(&fix, 4 * len + 16);
	while (i < len) {
		size_t j = i + 1;

		if (text[i] == '[') {
			while (j < len && text[j] != ']')
				j = text[j] == '"' ? past_quoted(text, len, j)
						   : j + 1;
			j = j < len ? j + 1 : len;
			buf_put(&fix, text + i, j - i);
		} else if (j < len && text[j] == '"') {
			j = past_quoted(text, len, j);
			buf_put(&fix, text + i, j - i);
		} else {
			while (j < len && text[j] != '.' && text[j] != '[')
				j++;
			if (!non_ascii(text, i + 1, j)) {
				buf_put(&fix, text + i, j - i);
			} else {
				if (at.end == 0) {
					at.start = start + (uint32_t)i + 1;
					at.end = start + (uint32_t)j;
				}
				buf_puts(&fix, ".\"");
				buf_put(&fix, text + i + 1, j - i - 1);
				buf_putc(&fix, '"');
			}
		}
		i = j;
	}
	d = dsl_lex_error(ps, at, "a name with characters other than ASCII "
			  "letters, digits, '_' and '-' must be quoted");
	if (!buf_failed(&fix))
		dsl_diag_hint(ps->ctx, d, "did you mean '%.*s'?",
			      (int)fix.len, fix.data);
	buf_free(&fix);
}

/* 'text': JSON strings are in double quotes. The text is taken as it
 * is, escapes and all, so that parsing can go on. */
int dsl_lex_single_quoted(struct dsl_parser *ps, const char *text,
			  size_t len, struct dsl_loc loc,
			  struct dsl_str *out)
{
	size_t body = len > 1 && text[len - 1] == '\'' ? len - 2 : len - 1;

	dsl_diag_hint(ps->ctx, dsl_lex_error(ps, loc, "strings are written "
					     "in double quotes"),
		      "did you mean \"%.*s\"?", (int)body, text + 1);
	out->s = dsl_strndup(ps->arena, text + 1, body);
	out->len = body;
	return out->s ? STRING : LEXERROR;
}

/* `&&`, `||` and `!` are written `and`, `or` and `not`. */
int dsl_lex_c_operator(struct dsl_parser *ps, const char *text,
		       struct dsl_loc loc)
{
	int tok = text[0] == '&' ? AND : text[0] == '|' ? OR : NOT;

	dsl_diag_hint(ps->ctx, dsl_lex_error(ps, loc, "'%s' is not an "
					     "operator", text),
		      "did you mean '%s'?", tok == AND ? "and" : tok == OR
		      ? "or" : "not");
	return tok;
}

/* Split a path token into segments; see the PATH pattern in lexer.l. */
struct dsl_path *dsl_lex_path(struct dsl_parser *ps, const char *text,
			      size_t len, uint32_t start)
{
	struct dsl_path *p = dsl_alloc(ps->arena, sizeof *p);
	size_t i = 0, cap = 0;

	if (p == NULL)
		return NULL;
	p->span = (struct dsl_span){ ps->file, start, start + (uint32_t)len };
	for (size_t k = 0; k < len; k++)
		cap += text[k] == '.' || text[k] == '[';
	p->segs = dsl_alloc(ps->arena, (cap + 1) * sizeof *p->segs);
	if (p->segs == NULL)
		return NULL;

	while (i < len) {
		struct dsl_seg *s = &p->segs[p->n];
		size_t j = i + 1;

		s->span.file = ps->file;
		s->span.start = start + (uint32_t)i;
		if (text[i] == '.' && j == len) {
			/* A lone trailing "." is the root: no segment. */
			break;
		}
		if (text[i] == '.' && text[j] == '[') {
			i = j;	/* ".[0]": the dot only introduces it */
			continue;
		}
		if (text[i] == '.' && text[j] == '*') {
			int deep = j + 1 < len && text[j + 1] == '*';

			s->kind = deep ? SEG_DEEP : SEG_MEMBERS;
			j += deep ? 2 : 1;
		} else if (text[j] == '"') {
			size_t q = j + 1;
			struct dsl_str name;

			while (text[q] != '"')
				q += text[q] == '\\' ? 2 : 1;
			if (dsl_lex_string(ps, text + j, q + 1 - j,
					   start + (uint32_t)j, &name) != 0)
				return NULL;
			s->kind = SEG_KEY;
			s->name = name.s;
			s->len = name.len;
			j = q + 1 + (text[i] == '[');
		} else if (text[i] == '[' && text[j] == '*') {
			s->kind = SEG_ELEMENTS;
			j += 2;
		} else if (text[i] == '[') {
			char *end;

			s->kind = SEG_INDEX;
			s->index = strtoll(text + j, &end, 10);
			j = (size_t)(end - text) + 1;
		} else {
			while (j < len && text[j] != '.' && text[j] != '[')
				j++;
			s->kind = SEG_KEY;
			s->name = dsl_strndup(ps->arena, text + i + 1,
					      j - i - 1);
			s->len = j - i - 1;
			if (s->name == NULL)
				return NULL;
		}
		s->span.end = start + (uint32_t)j;
		p->n++;
		i = j;
	}
	return p;
}

struct dsl_regex *dsl_lex_regex(struct dsl_parser *ps, const char *text,
				size_t len, uint32_t start)
{
	struct dsl_regex *re = dsl_alloc(ps->arena, sizeof *re);
	size_t close = len - 1;

	if (re == NULL)
		return NULL;
	while (text[close] != '/')
		close--;
	if (len - close - 1 >= sizeof re->flags) {
		struct dsl_loc at = { start + (uint32_t)close + 1,
				      start + (uint32_t)len };

		dsl_lex_error(ps, at, "too many regular expression flags");
		return NULL;
	}
	re->source = dsl_strndup(ps->arena, text + 1, close - 1);
	if (re->source == NULL)
		return NULL;
	re->len = close - 1;
	memcpy(re->flags, text + close + 1, len - close - 1);
	re->span = (struct dsl_span){ ps->file, start, start + (uint32_t)len };
	return re;
}
