/* fmt.c - canonical formatting of a policy file (see fmt.h).
 *
 * Each statement is first written flat, on one line; if that does not
 * fit in WIDTH columns it is written again, broken the way its kind
 * breaks. Comments are taken from the source as the statements go by.
 */
#include "fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WIDTH 80
/* The indentation of a block, and of a continuation line. */
#define STEP 4

struct fmt {
	const struct dsl_source *src;
	const struct dsl_span *com;
	size_t ncom, next;	/* comments; the first not yet written */
	uint32_t last;		/* end of the source written so far */
	struct buf *out;
	size_t col;		/* column of the next character written */
};

/* ---- writing ------------------------------------------------------------- */

static void put(struct fmt *f, const char *s, size_t n)
{
	buf_put(f->out, s, n);
	f->col += dsl_utf8_chars(s, n);
}

static void puts_(struct fmt *f, const char *s)
{
	put(f, s, strlen(s));
}

static void newline(struct fmt *f, size_t indent)
{
	buf_putc(f->out, '\n');
	for (size_t i = 0; i < indent; i++)
		buf_putc(f->out, ' ');
	f->col = indent;
}

static void span(struct fmt *f, struct dsl_span sp)
{
	put(f, f->src->text + sp.start, sp.end - sp.start);
}

static int fits(const struct fmt *f, size_t n)
{
	return f->col + n <= WIDTH;
}

/* Write the flat form of something into a scratch buffer to measure it,
 * then copy it: one code path for both. */
typedef void (*flat_fn)(struct fmt *f, const void *x);

static size_t flat_width(struct fmt *f, flat_fn fn, const void *x,
			 struct buf *tmp)
{
	struct fmt g = *f;

	buf_init(tmp, 1u << 20);
	g.out = tmp;
	g.col = 0;
	fn(&g, x);
	return g.col;
}

static void copy_flat(struct fmt *f, const struct buf *tmp, size_t width)
{
	buf_put(f->out, tmp->data, tmp->len);
	f->col += width;
}

/* ---- flat forms ---------------------------------------------------------- */

static void json_flat(struct fmt *f, const void *x)
{
	const struct dsl_json *j = x;

	switch (j->kind) {
	case DJ_OBJECT:
	case DJ_ARRAY:
		puts_(f, j->kind == DJ_OBJECT ? "{" : "[");
		for (size_t i = 0; i < j->items.n; i++) {
			const struct dsl_json *m = j->items.items[i];

			if (i)
				puts_(f, ", ");
			if (j->kind == DJ_OBJECT) {
				span(f, m->key_span);
				puts_(f, ": ");
			}
			json_flat(f, m);
		}
		puts_(f, j->kind == DJ_OBJECT ? "}" : "]");
		break;
	case DJ_PARAM:
		puts_(f, "$");
		puts_(f, j->text);
		break;
	default:
		span(f, j->span);
		break;
	}
}

static void path_flat(struct fmt *f, const void *x)
{
	const struct dsl_path *p = x;
	size_t before = f->out->len;

	/* A path starts with a dot: ".[0]", which messages write "[0]". */
	if (p->n && (p->segs[0].kind == SEG_INDEX ||
		     p->segs[0].kind == SEG_ELEMENTS))
		buf_putc(f->out, '.');
	dsl_path_format(p, f->out);
	f->col += dsl_utf8_chars(f->out->data + before, f->out->len - before);
}

enum { P_OR = 1, P_AND, P_NOT, P_ATOM };

static int prec(const struct dsl_expr *e)
{
	return e->kind == EX_OR ? P_OR : e->kind == EX_AND ? P_AND
	       : e->kind == EX_NOT ? P_NOT : P_ATOM;
}

static const char *const cmp_text[] = {
	[CMP_EQ] = " == ", [CMP_NE] = " != ", [CMP_LT] = " < ",
	[CMP_LE] = " <= ", [CMP_GT] = " > ", [CMP_GE] = " >= ",
};

static void expr_flat(struct fmt *f, const void *x);

/* An operand of a binary or `not`: in parentheses when it binds less
 * tightly than its parent (the parser keeps no parentheses). */
static void sub_flat(struct fmt *f, const struct dsl_expr *e, int parent)
{
	int paren = prec(e) < parent;

	if (paren)
		puts_(f, "(");
	expr_flat(f, e);
	if (paren)
		puts_(f, ")");
}

static void expr_flat(struct fmt *f, const void *x)
{
	const struct dsl_expr *e = x;

	switch (e->kind) {
	case EX_OR:
	case EX_AND:
		sub_flat(f, e->a, prec(e));
		puts_(f, e->kind == EX_OR ? " or " : " and ");
		sub_flat(f, e->b, prec(e) + 1);
		break;
	case EX_NOT:
		puts_(f, "not ");
		sub_flat(f, e->a, P_NOT);
		break;
	case EX_CMP:
		expr_flat(f, e->a);
		puts_(f, cmp_text[e->cmp]);
		expr_flat(f, e->b);
		break;
	case EX_IN:
		expr_flat(f, e->a);
		puts_(f, " in ");
		json_flat(f, e->json);
		break;
	case EX_MATCHES:
		expr_flat(f, e->a);
		puts_(f, " matches ");
		span(f, e->re->span);
		break;
	case EX_EXISTS:
		puts_(f, "exists ");
		path_flat(f, e->path);
		break;
	case EX_PATH:
		path_flat(f, e->path);
		break;
	case EX_PARAM:
		puts_(f, "$");
		puts_(f, e->name);
		break;
	case EX_LITERAL:
	case EX_PATTERN:
		json_flat(f, e->json);
		break;
	default:
		/* A kind newer than this printer: as written. */
		span(f, e->span);
		break;
	}
}

/* The items of an array flat, `first` before the first one and `sep`
 * before each other one: `using a, b`, `to /24, /48`. */
static void items_flat(struct fmt *f, const struct dsl_json *arr,
		       const char *first, const char *sep)
{
	for (size_t i = 0; i < arr->items.n; i++) {
		puts_(f, i ? sep : first);
		json_flat(f, arr->items.items[i]);
	}
}

/* The words of one option. A kind without a case, or an option whose
 * parts are not the ones its case knows, is copied as written. */
static void opt_text(struct fmt *f, const struct dsl_opt *o)
{
	char num[32];

	switch (o->kind) {
	case OPT_KEEP_FIRST:
	case OPT_KEEP_LAST:
	case OPT_LENGTH:
		snprintf(num, sizeof num, "%s %lld", o->kind == OPT_LENGTH
			 ? "length" : o->kind == OPT_KEEP_FIRST ? "keep first"
			 : "keep last", (long long)o->num);
		puts_(f, num);
		return;
	case OPT_WITH:
		/* with VALUE, or redact's with label|mask|pseudonym|fake */
		if (o->value == NULL && o->word == NULL)
			break;
		puts_(f, "with ");
		if (o->value)
			json_flat(f, o->value);
		else
			puts_(f, o->word);
		return;
	case OPT_AS:
	case OPT_TO_NUMBER:
	case OPT_BY_NUMBER:
	case OPT_PREFIX_TEXT:
	case OPT_KEY_ID:
		if (o->value == NULL)
			break;
		puts_(f, o->kind == OPT_AS ? "as " : o->kind == OPT_TO_NUMBER
		      ? "to " : o->kind == OPT_BY_NUMBER ? "by "
		      : o->kind == OPT_PREFIX_TEXT ? "prefix " : "key ");
		json_flat(f, o->value);
		return;
	case OPT_BY_PATH:
		if (o->path == NULL)
			break;
		puts_(f, "by ");
		path_flat(f, o->path);
		return;
	case OPT_WITHIN:
		if (o->word == NULL)
			break;
		snprintf(num, sizeof num, "within %lld ", (long long)o->num);
		puts_(f, num);
		puts_(f, o->word);
		return;
	case OPT_USING:
	case OPT_PREFIX:
		if (o->value == NULL || o->value->kind != DJ_ARRAY)
			break;
		if (o->kind == OPT_USING) {
			puts_(f, "using ");
			items_flat(f, o->value, "", ", ");
		} else {
			puts_(f, "to ");
			items_flat(f, o->value, "/", ", /");
		}
		return;
	case OPT_ELSE:
	case OPT_KEYS:
		if (o->word == NULL)
			break;
		puts_(f, o->kind == OPT_ELSE ? "else " : "and ");
		puts_(f, o->word);
		return;
	case OPT_MATCHING:
		if (o->re == NULL)
			break;
		puts_(f, "matching ");
		span(f, o->re->span);
		return;
	default:
		break;
	}
	span(f, o->span);
}

static void opt_flat(struct fmt *f, const void *x)
{
	opt_text(f, x);
}

/* Write `x` flat if it fits before column WIDTH - reserve; else return
 * 0 having written nothing. */
static int try_flat(struct fmt *f, flat_fn fn, const void *x,
		    size_t reserve)
{
	struct buf tmp;
	size_t w = flat_width(f, fn, x, &tmp);
	int ok = fits(f, w + reserve);

	if (ok)
		copy_flat(f, &tmp, w);
	buf_free(&tmp);
	return ok;
}

static void flat(struct fmt *f, flat_fn fn, const void *x)
{
	struct buf tmp;
	size_t w = flat_width(f, fn, x, &tmp);

	copy_flat(f, &tmp, w);
	buf_free(&tmp);
}

/* ---- broken forms -------------------------------------------------------- */

/* A JSON value: flat if it fits before column WIDTH - reserve, else an
 * object or array over several lines, one member a line. */
static void json_value(struct fmt *f, const struct dsl_json *j,
		       size_t indent, size_t reserve)
{
	if ((j->kind != DJ_OBJECT && j->kind != DJ_ARRAY) || j->items.n == 0) {
		flat(f, json_flat, j);
		return;
	}
	if (try_flat(f, json_flat, j, reserve))
		return;
	puts_(f, j->kind == DJ_OBJECT ? "{" : "[");
	for (size_t i = 0; i < j->items.n; i++) {
		const struct dsl_json *m = j->items.items[i];
		int last = i + 1 == j->items.n;

		newline(f, indent + STEP);
		if (j->kind == DJ_OBJECT) {
			span(f, m->key_span);
			puts_(f, ": ");
		}
		json_value(f, m, indent + STEP, last ? 0 : 1);
		if (!last)
			puts_(f, ",");
	}
	newline(f, indent);
	puts_(f, j->kind == DJ_OBJECT ? "}" : "]");
}

/* The operands of a chain of one operator, a and b and c: the left
 * spine, as the parser builds it (a right operand of the same operator
 * was parenthesized, and stays so). Returns their number. */
static size_t chain(const struct dsl_expr *e, const struct dsl_expr **out,
		    size_t max)
{
	const struct dsl_expr *x;
	size_t k = 0, i;

	if (e->kind != EX_AND && e->kind != EX_OR)
		return 0;
	for (x = e; x->kind == e->kind; x = x->a)
		k++;
	if (k + 1 > max)
		return 0;
	/* x is now the leftmost operand; the right ones fill in backwards. */
	out[0] = x;
	i = k;
	for (x = e; x->kind == e->kind; x = x->a)
		out[i--] = x->b;
	return k + 1;
}

/* A condition: flat if it fits; a pattern one member a line; a chain of
 * `and` or `or`, one operand a line. */
static void cond(struct fmt *f, const struct dsl_expr *e, size_t indent,
		 size_t reserve)
{
	/* Room for the longest chain the parser lets through. */
	const struct dsl_expr *ops[DSL_MAX_COND_DEPTH + 1];
	size_t n;

	if (try_flat(f, expr_flat, e, reserve))
		return;
	if (e->kind == EX_PATTERN) {
		json_value(f, e->json, indent, reserve);
		return;
	}
	n = chain(e, ops, sizeof ops / sizeof ops[0]);
	if (n == 0) {
		flat(f, expr_flat, e);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (i) {
			newline(f, indent + STEP);
			puts_(f, e->kind == EX_OR ? "or " : "and ");
		}
		if (ops[i]->kind == EX_PATTERN)
			json_value(f, ops[i]->json, indent + STEP,
				   i + 1 == n ? reserve : 0);
		else
			sub_flat(f, ops[i], prec(e) + (i > 0));
	}
}

/* A comma-separated list (paths, detector names), filling lines,
 * continued under its first item. */
static void fill(struct fmt *f, flat_fn fn, const struct dsl_list *l)
{
	size_t align = f->col;

	for (size_t i = 0; i < l->n; i++) {
		struct buf tmp;
		size_t w = flat_width(f, fn, l->items[i], &tmp);

		if (i) {
			puts_(f, ",");
			if (fits(f, 1 + w + (i + 1 < l->n)))
				puts_(f, " ");
			else
				newline(f, align);
		}
		copy_flat(f, &tmp, w);
		buf_free(&tmp);
	}
}

static void paths(struct fmt *f, const struct dsl_list *l)
{
	fill(f, path_flat, l);
}

/* Does option o belong with the one before it: an `else`, or the
 * numbers of redact's `with mask` and `with pseudonym`? */
static int follows(const struct dsl_stmt *s, size_t i)
{
	const struct dsl_opt *o = s->opts.items[i];

	if (i == 0)
		return 0;
	return o->kind == OPT_ELSE || (s->kind == ST_REDACT &&
				       (o->kind == OPT_KEEP_FIRST ||
					o->kind == OPT_KEEP_LAST ||
					o->kind == OPT_LENGTH));
}

/* Options after the paths: on the same line if they all fit, else one a
 * line (one that follows the option before it stays on its line when it
 * fits; a `using` list too long for its line fills lines of its own). */
static void opts(struct fmt *f, const struct dsl_stmt *s, size_t indent)
{
	struct buf tmp;
	size_t total = 0, w;
	int one_line;

	for (size_t i = 0; i < s->opts.n; i++) {
		total += 1 + flat_width(f, opt_flat, s->opts.items[i], &tmp);
		buf_free(&tmp);
	}
	one_line = fits(f, total);
	for (size_t i = 0; i < s->opts.n; i++) {
		const struct dsl_opt *o = s->opts.items[i];

		w = flat_width(f, opt_flat, o, &tmp);
		if (one_line || (follows(s, i) && fits(f, 1 + w)))
			puts_(f, " ");
		else
			newline(f, indent + STEP);
		if (o->kind == OPT_USING && !fits(f, w) && o->value &&
		    o->value->kind == DJ_ARRAY) {
			puts_(f, "using ");
			fill(f, json_flat, &o->value->items);
		} else {
			copy_flat(f, &tmp, w);
		}
		buf_free(&tmp);
	}
}

/* ---- statements ---------------------------------------------------------- */

typedef void (*stmt_fn)(struct fmt *f, const struct dsl_stmt *s,
			size_t indent);

static void keyword(struct fmt *f, const struct dsl_stmt *s)
{
	puts_(f, dsl_stmt_keyword(s->kind));
}

/* policy "x", include "x", output mode, param name = value */
static void header(struct fmt *f, const struct dsl_stmt *s, size_t indent)
{
	(void)indent;
	keyword(f, s);
	puts_(f, " ");
	span(f, s->name_span);
	if (s->kind == ST_PARAM) {
		puts_(f, " = ");
		json_flat(f, s->value);
	}
}

static void select_(struct fmt *f, const struct dsl_stmt *s, size_t indent)
{
	keyword(f, s);
	puts_(f, " ");
	cond(f, s->cond, indent, 0);
}

static void drop(struct fmt *f, const struct dsl_stmt *s, size_t indent)
{
	keyword(f, s);
	if (s->name) {
		puts_(f, " ");
		span(f, s->name_span);
	}
	if (s->cond) {
		puts_(f, " when ");
		cond(f, s->cond, indent, 0);
	}
}

static void sample(struct fmt *f, const struct dsl_stmt *s, size_t indent)
{
	(void)indent;
	puts_(f, "sample ");
	expr_flat(f, s->rate);
	puts_(f, "% by ");
	paths(f, &s->paths);
}

/* All the actions that take a list of paths and options. */
static void action(struct fmt *f, const struct dsl_stmt *s, size_t indent)
{
	keyword(f, s);
	puts_(f, " ");
	paths(f, &s->paths);
	opts(f, s, indent);
}

static void set(struct fmt *f, const struct dsl_stmt *s, size_t indent)
{
	puts_(f, "set ");
	path_flat(f, s->paths.items[0]);
	puts_(f, " = ");
	json_value(f, s->value, indent, 0);
}

static void move(struct fmt *f, const struct dsl_stmt *s, size_t indent)
{
	(void)indent;
	keyword(f, s);
	puts_(f, " ");
	path_flat(f, s->paths.items[0]);
	puts_(f, " to ");
	path_flat(f, s->dest);
}

static void rule(struct fmt *f, const struct dsl_stmt *s, size_t indent);

/* The printer of each statement kind; a kind without one (a statement
 * newer than this table) is copied as written. */
static const stmt_fn printers[] = {
	[ST_POLICY] = header,
	[ST_INCLUDE] = header,
	[ST_PARAM] = header,
	[ST_OUTPUT] = header,
	[ST_SELECT] = select_,
	[ST_DROP] = drop,
	[ST_SAMPLE] = sample,
	[ST_RULE] = rule,
	[ST_SET] = set,
	[ST_DELETE] = action,
	[ST_RENAME] = move,
	[ST_COPY] = move,
	[ST_KEEP] = action,
	[ST_MASK] = action,
	[ST_PSEUDONYMIZE] = action,
	[ST_REPLACE] = action,
	[ST_TRUNCATE] = action,
	[ST_REDACT] = action,
	[ST_ROUND] = action,
	[ST_BUCKET] = action,
	[ST_SHIFT] = action,
	[ST_TOKENIZE] = action,
};

/* ---- comments and layout ------------------------------------------------- */

static unsigned newlines(const struct fmt *f, uint32_t from, uint32_t to)
{
	unsigned n = 0;

	for (uint32_t i = from; i < to && i < f->src->len; i++)
		n += f->src->text[i] == '\n';
	return n;
}

/* A blank line before an item at `start` in the source if the source
 * had one there (never before the first item of a block). */
static void blank(struct fmt *f, uint32_t start, int *first)
{
	if (!*first && newlines(f, f->last, start) >= 2)
		buf_putc(f->out, '\n');
	*first = 0;
}

static void pad(struct fmt *f, size_t indent)
{
	for (size_t i = 0; i < indent; i++)
		buf_putc(f->out, ' ');
	f->col = indent;
}

/* The comments that start before `limit`, each on a line of its own;
 * with `spaced`, after a blank line where the source had one. */
static void comments_before(struct fmt *f, uint32_t limit, size_t indent,
			    int *first, int spaced)
{
	while (f->next < f->ncom && f->com[f->next].start < limit) {
		struct dsl_span c = f->com[f->next++];

		if (spaced)
			blank(f, c.start, first);
		pad(f, indent);
		span(f, c);
		buf_putc(f->out, '\n');
		f->last = c.end;
	}
}

/* A comment after `end` on the same source line goes at the end of the
 * line just written. */
static void trailing(struct fmt *f, uint32_t end, uint32_t limit)
{
	const struct dsl_span *c;

	if (f->next >= f->ncom)
		return;
	c = &f->com[f->next];
	if (c->start >= limit || newlines(f, end, c->start))
		return;
	puts_(f, " ");
	span(f, *c);
	f->last = c->end;
	f->next++;
}

static void stmts(struct fmt *f, const struct dsl_list *l, size_t indent,
		  uint32_t end);

/* Where a rule's '{' is: the first one after its condition or name that
 * is not in a comment. */
static uint32_t brace(const struct fmt *f, const struct dsl_stmt *s)
{
	uint32_t i = s->cond ? s->cond->span.end : s->name_span.end;
	size_t k = f->next;

	while (i < s->span.end) {
		while (k < f->ncom && f->com[k].end <= i)
			k++;
		if (k < f->ncom && f->com[k].start <= i)
			i = f->com[k].end;
		else if (f->src->text[i] == '{')
			return i;
		else
			i++;
	}
	return s->span.end;
}

static void rule(struct fmt *f, const struct dsl_stmt *s, size_t indent)
{
	uint32_t open = brace(f, s), close = s->span.end - 1;

	puts_(f, s->implicit_name ? "on " : "rule ");
	if (!s->implicit_name)
		span(f, s->name_span);
	if (s->cond) {
		if (!s->implicit_name)
			puts_(f, " when ");
		cond(f, s->cond, indent, 2);
	}
	puts_(f, " {");
	f->last = open + 1;
	trailing(f, open + 1, s->body.n ? ((const struct dsl_stmt *)
		 s->body.items[0])->span.start : close);
	buf_putc(f->out, '\n');
	stmts(f, &s->body, indent + STEP, close);
	pad(f, indent);
	puts_(f, "}");
}

/* One statement of a list that ends at `end` (a rule's '}'). */
static void statement(struct fmt *f, const struct dsl_stmt *s, size_t indent,
		      uint32_t end, int *first)
{
	stmt_fn print = (size_t)s->kind < sizeof printers / sizeof printers[0]
			? printers[s->kind] : NULL;
	uint32_t inner = s->kind == ST_RULE ? brace(f, s) : s->span.end;

	comments_before(f, s->span.start, indent, first, 1);
	blank(f, s->span.start, first);
	/* Comments inside the statement (but not in a rule's body) move
	 * to just before it. */
	comments_before(f, inner, indent, first, 0);
	pad(f, indent);
	if (print)
		print(f, s, indent);
	else
		span(f, s->span);
	f->last = s->span.end;
	trailing(f, s->span.end, end);
	buf_putc(f->out, '\n');
}

static void stmts(struct fmt *f, const struct dsl_list *l, size_t indent,
		  uint32_t end)
{
	int first = 1;

	for (size_t i = 0; i < l->n; i++)
		statement(f, l->items[i], indent, end, &first);
	comments_before(f, end, indent, &first, 1);
}

void cc_format(const struct dsl_ctx *ctx, const struct dsl_file *file,
	       const struct dsl_span *comments, size_t ncomments,
	       struct buf *out)
{
	struct fmt f;

	memset(&f, 0, sizeof f);
	f.src = &ctx->sources[file->source];
	f.com = comments;
	f.ncom = ncomments;
	f.out = out;
	stmts(&f, &file->stmts, 0, UINT32_MAX);
}
