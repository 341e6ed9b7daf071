/* check.c - names, types and options: everything the grammar lets
 * through that the policy still cannot mean. Each error points at the
 * smallest span that explains it; checking goes on after an error so one
 * run reports them all. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "../vm/alloc.h"
#include "../vm/detect.h"
#include "../vm/program.h"
#include "../vm/runtime_names.h"
#include "cc.h"

static struct dsl_diag *err(struct cc *c, struct dsl_span at,
			    const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static struct dsl_diag *err(struct cc *c, struct dsl_span at,
			    const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return dsl_diag(c->ctx, DSL_ERROR, at, code, "%s", msg);
}

static struct dsl_span span_join(struct dsl_span a, struct dsl_span b)
{
	a.end = b.end > a.end ? b.end : a.end;
	return a;
}

/* ---- parameters ---------------------------------------------------------- */

struct cc_param *cc_find_param(struct cc *c, const char *name)
{
	for (size_t i = 0; i < c->nparams; i++)
		if (strcmp(c->params[i].decl->name, name) == 0)
			return &c->params[i];
	return NULL;
}

static void param_hint(struct cc *c, struct dsl_diag *d, const char *name)
{
	const char **names = scrub_calloc(c->nparams + 1, sizeof *names);
	const char *near;

	if (names == NULL)
		return;
	for (size_t i = 0; i < c->nparams; i++)
		names[i] = c->params[i].decl->name;
	near = dsl_nearest(name, strlen(name), names);
	if (near)
		dsl_diag_hint(c->ctx, d, "did you mean '$%s'?", near);
	free(names);
}

static struct cc_param *use_param(struct cc *c, const char *name,
				  struct dsl_span at)
{
	struct cc_param *p = cc_find_param(c, name);

	if (p == NULL)
		param_hint(c, err(c, at, "unknown-param",
				  "unknown parameter '$%s'", name), name);
	return p;
}

static int valid_param_name(const char *s)
{
	for (size_t i = 0; s[i]; i++)
		if (s[i] == '-')
			return 0;
	return 1;
}

/* Hosts without a command line set parameter NAME from SCRUB_<NAME in
 * upper case>: two names that differ only in case would share one. */
static int case_clash(struct cc *c, const struct dsl_stmt *s)
{
	char where[160], env[80];
	unsigned line, col;
	size_t i, k;

	for (i = 0; i < c->nparams; i++)
		if (strcasecmp(c->params[i].decl->name, s->name) == 0)
			break;
	if (i == c->nparams)
		return 0;
	dsl_line_col(c->ctx, c->params[i].decl->name_span.file,
		     c->params[i].decl->name_span.start, &line, &col);
	if (c->params[i].decl->name_span.file == s->name_span.file)
		snprintf(where, sizeof where, "line %u", line);
	else
		snprintf(where, sizeof where, "%s:%u", c->ctx->sources[
			 c->params[i].decl->name_span.file].name, line);
	for (k = 0; s->name[k] && k + 1 < sizeof env; k++)
		env[k] = (char)toupper((unsigned char)s->name[k]);
	env[k] = '\0';
	err(c, s->name_span, "duplicate-param", "parameter '%s' differs from "
	    "'%s' (%s) only in case; SCRUB_%s would set both", s->name,
	    c->params[i].decl->name, where, env);
	return 1;
}

static void collect_params(struct cc *c)
{
	for (size_t i = 0; i < c->stmts.n; i++) {
		const struct dsl_stmt *s = c->stmts.items[i];
		struct cc_param *grown;

		if (s->kind != ST_PARAM)
			continue;
		if (!valid_param_name(s->name)) {
			err(c, s->name_span, "param-name", "parameter names "
			    "use letters, digits and '_' only");
			continue;
		}
		if (s->value->kind == DJ_NULL) {
			err(c, s->value->span, "type", "a parameter's default "
			    "is a string, a number, true or false");
			continue;
		}
		if (scrub_runtime_name(s->name)) {
			err(c, s->name_span, "param-name", "'%s' is reserved "
			    "for scrub's own settings (SCRUB_%s)", s->name,
			    scrub_runtime_name(s->name));
			continue;
		}
		if (cc_find_param(c, s->name)) {
			err(c, s->name_span, "duplicate-param", "parameter "
			    "'%s' is declared twice", s->name);
			continue;
		}
		if (case_clash(c, s))
			continue;
		grown = scrub_realloc(c->params,
				      (c->nparams + 1) * sizeof *grown);
		if (grown == NULL) {
			c->ctx->oom = 1;
			return;
		}
		c->params = grown;
		memset(&c->params[c->nparams], 0, sizeof *grown);
		c->params[c->nparams++].decl = s;
	}
}

/* ---- paths --------------------------------------------------------------- */

static int count_deep(const struct dsl_path *p)
{
	int n = 0;

	for (size_t i = 0; i < p->n; i++)
		n += p->segs[i].kind == SEG_DEEP;
	return n;
}

static int definite(const struct dsl_path *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->segs[i].kind != SEG_KEY && p->segs[i].kind != SEG_INDEX)
			return 0;
	return 1;
}

static void check_path(struct cc *c, const struct dsl_path *p)
{
	if (count_deep(p) > 1)
		err(c, p->span, "path", "a path can have at most one '**'");
	for (size_t i = 0; i < p->n; i++)
		if (p->segs[i].kind == SEG_INDEX &&
		    (p->segs[i].index > INT32_MAX ||
		     p->segs[i].index < -(int64_t)INT32_MAX))
			err(c, p->segs[i].span, "path", "array index out of "
			    "range");
}

/* Paths an action writes to (set, rename and copy destinations). */
static void check_target(struct cc *c, const struct dsl_path *p,
			 const char *action, int need_definite)
{
	check_path(c, p);
	if (p->n == 0) {
		err(c, p->span, "path", "%s cannot replace the whole event",
		    action);
		return;
	}
	if (count_deep(p) > 0) {
		err(c, p->span, "path", "%s needs a path without '**'",
		    action);
		return;
	}
	if (need_definite && !definite(p))
		err(c, p->span, "path", "%s needs a definite path: fields and "
		    "indexes only, no [*] or .*", action);
}

/* ---- expressions --------------------------------------------------------- */

static int regex_flags(struct cc *c, const struct dsl_regex *re,
		       uint32_t *opts)
{
	*opts = PCRE2_UTF | PCRE2_NEVER_BACKSLASH_C;
	for (const char *f = re->flags; *f; f++) {
		switch (*f) {
		case 'i':
			*opts |= PCRE2_CASELESS;
			break;
		case 'm':
			*opts |= PCRE2_MULTILINE;
			break;
		case 's':
			*opts |= PCRE2_DOTALL;
			break;
		case 'x':
			*opts |= PCRE2_EXTENDED;
			break;
		default:
			err(c, re->span, "regex", "unknown regular expression "
			    "flag '%c' (use i, m, s or x)", *f);
			return -1;
		}
	}
	return 0;
}

/* Compile the regex once here so that its errors point into the policy.
 * Returns its number of capture groups, or -1. */
static int check_regex(struct cc *c, const struct dsl_regex *re)
{
	uint32_t opts, groups = 0;
	int code;
	PCRE2_SIZE off;
	pcre2_code *p;

	if (regex_flags(c, re, &opts) != 0)
		return -1;
	p = pcre2_compile((PCRE2_SPTR)re->source, re->len, opts, &code, &off,
			  NULL);
	if (p == NULL) {
		PCRE2_UCHAR msg[160];
		struct dsl_span at = re->span;

		pcre2_get_error_message(code, msg, sizeof msg);
		/* Point at the offending character: after the slash. */
		at.start = re->span.start + 1 + (uint32_t)(off < re->len ?
							    off : re->len);
		at.end = at.start + 1;
		err(c, at, "regex", "invalid regular expression: %s",
		    (char *)msg);
		return -1;
	}
	pcre2_pattern_info(p, PCRE2_INFO_CAPTURECOUNT, &groups);
	pcre2_code_free(p);
	return (int)groups;
}

static void check_operand(struct cc *c, const struct dsl_expr *e)
{
	if (e->kind == EX_PATH)
		check_path(c, e->path);
	else if (e->kind == EX_PARAM)
		use_param(c, e->name, e->span);
}

static void check_expr(struct cc *c, const struct dsl_expr *e)
{
	if (e == NULL)
		return;
	switch (e->kind) {
	case EX_OR:
	case EX_AND:
		check_expr(c, e->a);
		check_expr(c, e->b);
		break;
	case EX_NOT:
		check_expr(c, e->a);
		break;
	case EX_CMP:
		check_operand(c, e->a);
		check_operand(c, e->b);
		break;
	case EX_IN:
		check_operand(c, e->a);
		for (size_t i = 0; i < e->json->items.n; i++) {
			const struct dsl_json *j = e->json->items.items[i];

			if (j->kind == DJ_ARRAY || j->kind == DJ_OBJECT)
				err(c, j->span, "type", "'in' lists plain "
				    "values: strings, numbers, true, false, "
				    "null");
		}
		if (e->json->items.n == 0)
			err(c, e->json->span, "type", "'in' needs at least one "
			    "value");
		break;
	case EX_MATCHES:
		check_operand(c, e->a);
		check_regex(c, e->re);
		break;
	case EX_EXISTS:
		check_path(c, e->path);
		break;
	case EX_PATTERN:
		cc_check_pattern(c, e->json);
		break;
	case EX_PATH:
	case EX_LITERAL:
	case EX_PARAM:
		/* A bare value is not a condition. */
		err(c, e->span, "type", "expected a condition, such as "
		    "'.field == value' or 'exists .field'");
		break;
	}
}

/* ---- options ------------------------------------------------------------- */

static const char *opt_name(enum dsl_opt_kind k)
{
	switch (k) {
	case OPT_KEEP_FIRST:
		return "keep first";
	case OPT_KEEP_LAST:
		return "keep last";
	case OPT_WITH:
		return "with";
	case OPT_AS:
		return "as";
	case OPT_LENGTH:
		return "length";
	case OPT_PREFIX:
		return "to";
	case OPT_ELSE:
		return "else";
	case OPT_MATCHING:
		return "matching";
	case OPT_USING:
		return "using";
	case OPT_KEYS:
		return "and";
	case OPT_TO_NUMBER:
		return "to";
	case OPT_BY_NUMBER:
	case OPT_BY_PATH:
		return "by";
	case OPT_WITHIN:
		return "within";
	case OPT_PREFIX_TEXT:
		return "prefix";
	case OPT_KEY_ID:
		return "key";
	}
	return "?";
}

/* The option of kind `k`, checking it appears at most once. */
static const struct dsl_opt *opt(struct cc *c, const struct dsl_stmt *s,
				 enum dsl_opt_kind k)
{
	const struct dsl_opt *found = NULL;

	for (size_t i = 0; i < s->opts.n; i++) {
		const struct dsl_opt *o = s->opts.items[i];

		if (o->kind != k)
			continue;
		if (found)
			err(c, o->span, "option", "'%s' given twice",
			    opt_name(k));
		else
			found = o;
	}
	return found;
}

/* Refuse options that the statement does not take. */
static void only_opts(struct cc *c, const struct dsl_stmt *s,
		      unsigned allowed)
{
	for (size_t i = 0; i < s->opts.n; i++) {
		const struct dsl_opt *o = s->opts.items[i];

		if (!(allowed & 1u << o->kind))
			err(c, o->span, "option", "'%s' does not apply to %s",
			    opt_name(o->kind), dsl_stmt_keyword(s->kind));
	}
}

#define O(k) (1u << (k))

static void check_else(struct cc *c, const struct dsl_stmt *s)
{
	static const char *const words[] = { "null", "delete", "reject",
					     NULL };
	const struct dsl_opt *o = opt(c, s, OPT_ELSE);
	const char *near;
	struct dsl_diag *d;

	if (o == NULL || strcmp(o->word, "null") == 0 ||
	    strcmp(o->word, "delete") == 0 || strcmp(o->word, "reject") == 0)
		return;
	d = err(c, o->span, "option", "'else %s': expected null, delete or "
		"reject", o->word);
	near = dsl_nearest(o->word, strlen(o->word), words);
	if (near)
		dsl_diag_hint(c->ctx, d, "did you mean 'else %s'?", near);
}

static int is_text(const struct dsl_json *j)
{
	return j && j->kind == DJ_STRING;
}

/* `$1`, `${name}` and `$$` in a replacement, as PCRE2 reads them. */
static void check_replacement(struct cc *c, const struct dsl_json *with,
			      int groups)
{
	for (size_t i = 0; i < with->len; i++) {
		size_t j = i + 1;
		long n = 0;

		if (with->text[i] != '$')
			continue;
		if (j < with->len && with->text[j] == '$') {
			i = j;
			continue;
		}
		if (j < with->len && with->text[j] == '{')
			j++;
		if (j >= with->len || with->text[j] < '0' ||
		    with->text[j] > '9') {
			err(c, with->span, "replacement", "'$' in a "
			    "replacement starts a group number such as $1; "
			    "write $$ for a dollar sign");
			return;
		}
		while (j < with->len && with->text[j] >= '0' &&
		       with->text[j] <= '9' && n < 100000)
			n = n * 10 + (with->text[j++] - '0');
		if (n > groups) {
			err(c, with->span, "replacement", "the replacement "
			    "refers to group %ld but the expression has %d",
			    n, groups);
			return;
		}
		i = j - 1;
	}
}

static void check_mask(struct cc *c, const struct dsl_stmt *s)
{
	const struct dsl_opt *as = opt(c, s, OPT_AS);
	const struct dsl_opt *with = opt(c, s, OPT_WITH);
	const struct dsl_opt *first = opt(c, s, OPT_KEEP_FIRST);
	const struct dsl_opt *last = opt(c, s, OPT_KEEP_LAST);

	only_opts(c, s, O(OPT_AS) | O(OPT_WITH) | O(OPT_KEEP_FIRST) |
		  O(OPT_KEEP_LAST) | O(OPT_ELSE));
	/* Each masked character becomes this one: two would lengthen the
	 * value, and the masked value's length is what it keeps. */
	if (with && (!is_text(with->value) ||
		     dsl_utf8_chars(with->value->text, with->value->len) != 1))
		err(c, with->span, "option", "mask 'with' takes one "
		    "character");
	if (as && (first || last))
		err(c, span_join(first ? first->span : last->span,
				 first ? first->span : last->span),
		    "option", "'keep' and 'as' do not combine: the template "
		    "says what is kept");
	if (as && !memchr(as->value->text, '#', as->value->len))
		err(c, as->value->span, "option", "a mask template shows "
		    "kept digits as '#', and this one has none");
	if ((first && first->num > 1000000) || (last && last->num > 1000000))
		err(c, (first ? first : last)->span, "option",
		    "keep count out of range");
}

static void check_replace(struct cc *c, const struct dsl_stmt *s)
{
	const struct dsl_opt *m = opt(c, s, OPT_MATCHING);
	const struct dsl_opt *with = opt(c, s, OPT_WITH);
	int groups;

	if (with == NULL) {
		err(c, s->kw, "option", "replace needs 'with VALUE'");
		return;
	}
	if (with->value == NULL) {
		err(c, with->span, "option", "replace takes 'with VALUE', "
		    "not 'with %s'", with->word);
		return;
	}
	if (m == NULL) {
		only_opts(c, s, O(OPT_WITH));
		if (with->value->kind == DJ_PARAM)
			use_param(c, with->value->text, with->value->span);
		return;
	}
	only_opts(c, s, O(OPT_WITH) | O(OPT_MATCHING) | O(OPT_ELSE));
	groups = check_regex(c, m->re);
	if (!is_text(with->value)) {
		err(c, with->value->span, "type", "a regex replacement is a "
		    "string");
		return;
	}
	if (groups >= 0)
		check_replacement(c, with->value, groups);
}

/* A number literal that is a whole number within [lo, hi]. */
static int whole_in(const struct dsl_json *n, long lo, long hi)
{
	char *end;
	long v;

	if (n->len > 10 || memchr(n->text, '.', n->len) ||
	    memchr(n->text, 'e', n->len) || memchr(n->text, 'E', n->len))
		return 0;
	v = strtol(n->text, &end, 10);
	return *end == '\0' && v >= lo && v <= hi;
}

static void check_truncate(struct cc *c, const struct dsl_stmt *s)
{
	const struct dsl_opt *to = opt(c, s, OPT_PREFIX);
	const struct dsl_opt *chars = opt(c, s, OPT_TO_NUMBER);

	only_opts(c, s, O(OPT_PREFIX) | O(OPT_TO_NUMBER) | O(OPT_ELSE));
	if (chars != NULL) {
		if (to != NULL)
			err(c, to->span, "option", "truncate cuts strings "
			    "('to N') or IP addresses ('to /N'), not both");
		else if (!whole_in(chars->value, 0, 1000000))
			err(c, chars->value->span, "range", "truncate keeps a "
			    "whole number of characters, 0 to 1000000");
		return;
	}
	if (to == NULL) {
		err(c, s->kw, "option", "truncate needs a length: 'to N' "
		    "(characters), 'to /24' (IPv4) or 'to /24, /48' (IPv4, "
		    "IPv6)");
		return;
	}
	if (to->value->items.n > 2) {
		err(c, to->span, "option", "at most two prefixes: IPv4, then "
		    "IPv6");
		return;
	}
	for (size_t i = 0; i < to->value->items.n; i++) {
		const struct dsl_json *n = to->value->items.items[i];
		long max = i == 0 ? 32 : 128;
		char *end;
		long v = strtol(n->text, &end, 10);

		if (*end != '\0' || v < 0 || v > max)
			err(c, n->span, "option", "an %s prefix is a whole "
			    "number from 0 to %ld", i == 0 ? "IPv4" : "IPv6",
			    max);
	}
}

/* ---- detectors and whole-value operators --------------------------------- */

/* `using NAME, ...`: detectors and groups, each known. */
static void check_using(struct cc *c, const struct dsl_stmt *s)
{
	const struct dsl_opt *u = opt(c, s, OPT_USING);

	if (u == NULL) {
		err(c, s->kw, "option", "redact needs 'using DETECTOR, ...' "
		    "(a detector or pii, secrets, all)");
		return;
	}
	for (size_t i = 0; i < u->value->items.n; i++) {
		const struct dsl_json *n = u->value->items.items[i];
		const char *near;

		if (vm_detect_lookup(n->text, n->len))
			continue;
		near = dsl_nearest(n->text, n->len, vm_detect_words());
		if (near)
			dsl_diag_hint(c->ctx, err(c, n->span, "detector",
						  "unknown detector '%s'",
						  n->text),
				      "did you mean '%s'?", near);
		else
			err(c, n->span, "detector", "unknown detector '%s' "
			    "(see the README for the list)", n->text);
	}
}

/* What replaces a finding: `with "TEXT"`, or a kind of replacement. */
static void check_redact_with(struct cc *c, const struct dsl_stmt *s)
{
	static const char *const kinds[] = { "label", "mask", "pseudonym",
					     "fake", NULL };
	const struct dsl_opt *with = opt(c, s, OPT_WITH);
	const char *word = with ? with->word : NULL, *near;
	unsigned allowed = 0;

	if (with && with->value && !is_text(with->value))
		err(c, with->value->span, "type", "redact 'with' takes a "
		    "string or label, mask, pseudonym, fake");
	if (word && strcmp(word, "label") && strcmp(word, "mask") &&
	    strcmp(word, "pseudonym") && strcmp(word, "fake")) {
		near = dsl_nearest(word, strlen(word), kinds);
		if (near)
			dsl_diag_hint(c->ctx, err(c, with->span, "option",
						  "unknown replacement '%s'",
						  word),
				      "did you mean 'with %s'?", near);
		else
			err(c, with->span, "option", "unknown replacement "
			    "'%s': use a string or label, mask, pseudonym, "
			    "fake", word);
		return;
	}
	if (word && strcmp(word, "mask") == 0)
		allowed = O(OPT_KEEP_FIRST) | O(OPT_KEEP_LAST);
	if (word && strcmp(word, "pseudonym") == 0)
		allowed = O(OPT_LENGTH);
	/* The numbers of one kind of replacement, given to another. */
	for (size_t i = 0; i < s->opts.n; i++) {
		const struct dsl_opt *o = s->opts.items[i];

		if (o->kind != OPT_KEEP_FIRST && o->kind != OPT_KEEP_LAST &&
		    o->kind != OPT_LENGTH)
			continue;
		if (!(allowed & O(o->kind)))
			err(c, o->span, "option", "'%s' goes with 'with %s'",
			    opt_name(o->kind), o->kind == OPT_LENGTH
			    ? "pseudonym" : "mask");
		allowed |= O(o->kind);
	}
	only_opts(c, s, O(OPT_USING) | O(OPT_WITH) | O(OPT_KEYS) |
		  O(OPT_ELSE) | allowed);
}

static void check_redact(struct cc *c, const struct dsl_stmt *s)
{
	const struct dsl_opt *keys = opt(c, s, OPT_KEYS);
	const struct dsl_opt *len = opt(c, s, OPT_LENGTH);
	const struct dsl_opt *first = opt(c, s, OPT_KEEP_FIRST);
	const struct dsl_opt *last = opt(c, s, OPT_KEEP_LAST);

	check_using(c, s);
	check_redact_with(c, s);
	if (keys && strcmp(keys->word, "keys") != 0)
		err(c, keys->span, "option", "expected 'and keys'");
	if (len && (len->num < 1 || len->num > 64))
		err(c, len->span, "range", "a pseudonym is 1 to 64 hex "
		    "digits long");
	if ((first && first->num > 1000000) || (last && last->num > 1000000))
		err(c, (first ? first : last)->span, "option",
		    "keep count out of range");
}

/* round PATH to N / bucket PATH by N: a positive step, no exponent. */
static void check_step(struct cc *c, const struct dsl_stmt *s,
		       enum dsl_opt_kind k)
{
	const struct dsl_opt *o = opt(c, s, k);

	only_opts(c, s, O(k) | O(OPT_ELSE));
	if (o == NULL) {
		err(c, s->kw, "option", "%s needs a step, such as '%s 10'",
		    dsl_stmt_keyword(s->kind),
		    k == OPT_TO_NUMBER ? "to" : "by");
		return;
	}
	if (o->value->text[0] == '-' || strtod(o->value->text, NULL) <= 0 ||
	    memchr(o->value->text, 'e', o->value->len) ||
	    memchr(o->value->text, 'E', o->value->len))
		err(c, o->value->span, "range", "the step is a positive "
		    "number written without an exponent, such as 10 or "
		    "0.01");
}

static void check_shift(struct cc *c, const struct dsl_stmt *s)
{
	const struct dsl_opt *within = opt(c, s, OPT_WITHIN);
	const struct dsl_opt *by = opt(c, s, OPT_BY_PATH);

	only_opts(c, s, O(OPT_WITHIN) | O(OPT_BY_PATH) | O(OPT_ELSE));
	if (within == NULL)
		err(c, s->kw, "option", "shift needs a range: 'within 30 "
		    "days'");
	else if (strcmp(within->word, "days") && strcmp(within->word, "day"))
		err(c, within->span, "option", "shift moves dates by days: "
		    "'within %lld days'", (long long)within->num);
	else if (within->num < 1 || within->num > 36500)
		err(c, within->span, "range", "shift moves dates by 1 to "
		    "36500 days");
	if (by == NULL)
		err(c, s->kw, "option", "shift needs the entity whose dates "
		    "move together: 'by .detail.customer.id'");
	else
		check_path(c, by->path);
}

/* A key id is written into every token: letters and digits only. */
static void check_tokenize(struct cc *c, const struct dsl_stmt *s)
{
	const struct dsl_opt *key = opt(c, s, OPT_KEY_ID);
	const struct dsl_opt *prefix = opt(c, s, OPT_PREFIX_TEXT);
	const struct dsl_opt *len = opt(c, s, OPT_LENGTH);
	int ok = key != NULL && key->value->len >= 1 && key->value->len <= 32;

	only_opts(c, s, O(OPT_KEY_ID) | O(OPT_PREFIX_TEXT) | O(OPT_LENGTH) |
		  O(OPT_ELSE));
	for (size_t i = 0; ok && i < key->value->len; i++) {
		char ch = key->value->text[i];

		ok = (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' &&
						  (ch | 0x20) <= 'z');
	}
	if (key == NULL)
		err(c, s->kw, "option", "tokenize needs the id of the key, "
		    "written into each token: 'key \"k1\"'");
	else if (!ok)
		err(c, key->value->span, "option", "a key id is 1 to 32 "
		    "letters and digits");
	if (prefix && prefix->value->len > 64)
		err(c, prefix->value->span, "option", "a token prefix is at "
		    "most 64 bytes");
	if (len && (len->num < 1 || len->num > 51))
		err(c, len->span, "range", "a token is 1 to 51 base32 "
		    "characters long");
}

/* ---- statements ---------------------------------------------------------- */

static void check_stmts(struct cc *c, const struct dsl_list *stmts,
			int top);

static void check_rate(struct cc *c, const struct dsl_stmt *s)
{
	const struct dsl_expr *r = s->rate;
	double v;

	if (r->kind == EX_PARAM) {
		struct cc_param *p = use_param(c, r->name, r->span);

		if (p == NULL)
			return;
		if (p->decl->value->kind != DJ_NUMBER) {
			err(c, r->span, "type", "'$%s' is a sample rate, so "
			    "its default must be a number", r->name);
			return;
		}
		p->is_rate = 1;
		v = strtod(p->decl->value->text, NULL);
		if (!(v >= 0 && v <= 100))
			err(c, p->decl->value->span, "range", "sample rate %s "
			    "is outside 0..100", p->decl->value->text);
		else if (!vm_number_cents(p->decl->value->text,
					  p->decl->value->len))
			err(c, p->decl->value->span, "range", "sample rate %s "
			    "has more than two decimals", p->decl->value->text);
		return;
	}
	v = strtod(r->json->text, NULL);
	if (!(v >= 0 && v <= 100))
		err(c, r->span, "range", "sample rate %s%% is outside 0..100",
		    r->json->text);
	else if (!vm_number_cents(r->json->text, r->json->len))
		err(c, r->span, "range", "sample rate %s%% has more than two "
		    "decimals", r->json->text);
}

static void add_rule_name(struct cc *c, const struct dsl_stmt *s)
{
	struct cc_rule_name *grown;

	for (size_t i = 0; i < c->nrules; i++) {
		if (strcmp(c->rules[i].name, s->name) != 0)
			continue;
		err(c, s->name_span, "duplicate-rule", "duplicate rule name "
		    "'%s'", s->name);
		dsl_diag(c->ctx, DSL_NOTE, c->rules[i].span, "duplicate-rule",
			 "first defined here");
		return;
	}
	grown = scrub_realloc(c->rules, (c->nrules + 1) * sizeof *grown);
	if (grown == NULL) {
		c->ctx->oom = 1;
		return;
	}
	c->rules = grown;
	c->rules[c->nrules].name = s->name;
	c->rules[c->nrules].span = s->name_span;
	c->nrules++;
}

static void check_paths(struct cc *c, const struct dsl_stmt *s)
{
	for (size_t i = 0; i < s->paths.n; i++)
		check_path(c, s->paths.items[i]);
}

/* Do the first n segments of a and b name the same place as written
 * (an index counted from the end may still meet one from the start:
 * the VM checks that when it runs)? */
static int same_segs(const struct dsl_path *a, const struct dsl_path *b,
		     size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct dsl_seg *x = &a->segs[i], *y = &b->segs[i];

		if (x->kind != y->kind || x->len != y->len ||
		    x->index != y->index ||
		    (x->kind == SEG_KEY && memcmp(x->name, y->name,
						  x->len) != 0))
			return 0;
	}
	return 1;
}

/* rename and copy: the destination cannot be inside the source (the
 * value would have to contain itself), and a copy onto its own source
 * does nothing. */
static void check_move(struct cc *c, const struct dsl_stmt *s)
{
	const struct dsl_path *from = s->paths.items[0], *to = s->dest;

	if (from->n == 0 || from->n > to->n || !same_segs(from, to, from->n))
		return;
	if (from->n < to->n)
		err(c, to->span, "path", "cannot %s a value inside itself",
		    s->kind == ST_RENAME ? "move" : "copy");
	else if (s->kind == ST_COPY)
		err(c, to->span, "path", "cannot copy a value onto itself");
}

/* How deep `j` nests objects and arrays, adding its values to *values;
 * counted no further than one past `room` levels and one past
 * VM_JSON_MAX_VALUES values, so the recursion stays within
 * VM_JSON_MAX_NEST + 1 frames. */
static unsigned measure(const struct dsl_json *j, unsigned room,
			size_t *values)
{
	unsigned most = 0;

	++*values;
	if (j->kind != DJ_ARRAY && j->kind != DJ_OBJECT)
		return 0;
	for (size_t i = 0; i < j->items.n && most < room &&
	     *values <= VM_JSON_MAX_VALUES; i++) {
		unsigned d = measure(j->items.items[i], room - 1, values);

		if (d > most)
			most = d;
	}
	return most + 1;
}

/* A value becomes a JSON constant, which the loader refuses past the
 * limits of bytecode.h: say so here, where the value is. */
static void check_value_size(struct cc *c, const struct dsl_json *j)
{
	size_t values = 0;

	if (j == NULL)
		return;
	if (measure(j, VM_JSON_MAX_NEST, &values) > VM_JSON_MAX_NEST)
		err(c, j->span, "limit", "this value nests objects and arrays "
		    "deeper than %d levels, the most an event may have",
		    VM_JSON_MAX_NEST);
	else if (values > VM_JSON_MAX_VALUES)
		err(c, j->span, "limit", "this value holds more than %u "
		    "values, the limit for a literal in a policy",
		    VM_JSON_MAX_VALUES);
}

static void check_values(struct cc *c, const struct dsl_stmt *s)
{
	check_value_size(c, s->value);
	for (size_t i = 0; i < s->opts.n; i++)
		check_value_size(c, ((const struct dsl_opt *)
				     s->opts.items[i])->value);
}

static void check_stmt(struct cc *c, const struct dsl_stmt *s, int top)
{
	check_values(c, s);
	switch (s->kind) {
	case ST_POLICY:
	case ST_INCLUDE:
	case ST_PARAM:
	case ST_OUTPUT:
		if (!top)
			err(c, s->kw, "placement", "'%s' belongs at the top "
			    "of a policy, not inside a rule",
			    dsl_stmt_keyword(s->kind));
		if (s->kind == ST_OUTPUT && strcmp(s->name, "canonical") &&
		    strcmp(s->name, "verbatim"))
			err(c, s->name_span, "option", "output is 'verbatim' "
			    "(the default) or 'canonical'");
		break;
	case ST_SELECT:
		check_expr(c, s->cond);
		break;
	case ST_DROP:
		if (s->name && s->name[0] == '\0')
			err(c, s->name_span, "name", "a drop reason cannot be "
			    "empty");
		check_expr(c, s->cond);
		break;
	case ST_SAMPLE:
		check_rate(c, s);
		check_paths(c, s);
		break;
	case ST_RULE:
		if (!s->implicit_name) {
			if (s->name[0] == '\0')
				err(c, s->name_span, "name", "a rule name "
				    "cannot be empty");
			else
				add_rule_name(c, s);
		}
		check_expr(c, s->cond);
		check_stmts(c, &s->body, 0);
		break;
	case ST_SET:
		check_target(c, s->paths.items[0], "set", 0);
		if (s->value->kind == DJ_PARAM)
			use_param(c, s->value->text, s->value->span);
		break;
	case ST_DELETE:
		check_paths(c, s);
		for (size_t i = 0; i < s->paths.n; i++)
			if (((struct dsl_path *)s->paths.items[i])->n == 0)
				err(c, ((struct dsl_path *)s->paths.items[i])
				    ->span, "path", "delete cannot remove the "
				    "whole event: use drop");
		break;
	case ST_RENAME:
	case ST_COPY:
		check_target(c, s->paths.items[0], dsl_stmt_keyword(s->kind),
			     1);
		check_target(c, s->dest, dsl_stmt_keyword(s->kind), 1);
		check_move(c, s);
		break;
	case ST_KEEP:
		check_paths(c, s);
		break;
	case ST_MASK:
		check_paths(c, s);
		check_mask(c, s);
		check_else(c, s);
		break;
	case ST_PSEUDONYMIZE: {
		const struct dsl_opt *len = opt(c, s, OPT_LENGTH);

		check_paths(c, s);
		only_opts(c, s, O(OPT_LENGTH) | O(OPT_ELSE));
		if (len && (len->num < 1 || len->num > 64))
			err(c, len->span, "range", "a pseudonym is 1 to 64 hex "
			    "digits long");
		check_else(c, s);
		break;
	}
	case ST_REPLACE:
		check_paths(c, s);
		check_replace(c, s);
		check_else(c, s);
		break;
	case ST_TRUNCATE:
		check_paths(c, s);
		check_truncate(c, s);
		check_else(c, s);
		break;
	case ST_REDACT:
		check_paths(c, s);
		check_redact(c, s);
		check_else(c, s);
		break;
	case ST_ROUND:
	case ST_BUCKET:
		check_paths(c, s);
		check_step(c, s, s->kind == ST_ROUND ? OPT_TO_NUMBER
						     : OPT_BY_NUMBER);
		check_else(c, s);
		break;
	case ST_SHIFT:
		check_paths(c, s);
		check_shift(c, s);
		check_else(c, s);
		break;
	case ST_TOKENIZE:
		check_paths(c, s);
		check_tokenize(c, s);
		check_else(c, s);
		break;
	}
}

static void check_stmts(struct cc *c, const struct dsl_list *stmts, int top)
{
	for (size_t i = 0; i < stmts->n; i++)
		check_stmt(c, stmts->items[i], top);
}

void cc_check(struct cc *c)
{
	collect_params(c);
	for (size_t i = 0; i < c->stmts.n; i++) {
		const struct dsl_stmt *s = c->stmts.items[i];

		if (s->kind == ST_OUTPUT && strcmp(s->name, "canonical") == 0)
			c->canonical = 1;
	}
	check_stmts(c, &c->stmts, 1);
}
