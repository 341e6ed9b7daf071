/* warn_match.c - conditions that can never hold.
 *
 * A select lets through only the events that pass it. When it lists a
 * field's exact values ({"source": ["a", "b"]}, .source == "a",
 * .source in [...]), or says the field must be absent, every later
 * condition on that field can be held against those values: a rule,
 * drop or select that needs a value none of them has can never hold.
 * A rule's own condition does the same for the statements inside it.
 *
 * Only fields that hold one value are reasoned about: an array matches
 * when any element does, so two conditions on one can both hold. The
 * envelope fields are always scalars; with schemas, so is a field that
 * every schema types as something other than an array and reaches
 * through objects only. Where a matcher's outcome is not certain, it is
 * taken to match: a warning here is always a real contradiction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vm/alloc.h"
#include "cc.h"
#include "pathrel.h"
#include "schema.h"

/* What a condition says about one field. */
struct fact {
	const struct dsl_path *path;	/* names only */
	const struct dsl_json *alts;	/* a pattern's list of matchers, or
					 * the values of == and in */
	int exists;			/* `exists PATH`: alts is NULL */
	struct dsl_span span;
	const struct dsl_stmt *s;
};

struct facts {
	struct fact *v;
	size_t n, cap;
};

struct wm {
	struct cc *c;
	struct facts known;	/* from the selects and rules around */
};

enum { NO, YES, MAYBE };

static void push_fact(struct wm *m, struct facts *f, const struct fact *x)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		struct fact *grown = scrub_realloc(f->v, cap * sizeof *grown);

		if (grown == NULL) {
			m->c->ctx->oom = 1;
			return;
		}
		f->v = grown;
		f->cap = cap;
	}
	f->v[f->n++] = *x;
}

/* ---- what a condition says ----------------------------------------------- */

static int is_key(const struct dsl_json *j, const char *k)
{
	return j->key && j->keylen == strlen(k) &&
	       memcmp(j->key, k, j->keylen) == 0;
}

/* Is v one of the arrays in `list`? */
static int listed(const struct dsl_list *list, const struct dsl_json *v)
{
	for (size_t i = 0; list && i < list->n; i++)
		if (list->items[i] == v)
			return 1;
	return 0;
}

/* `replaced`: the fields an $or alternative can replace, which say
 * nothing certain (cc_pattern_replaced). */
static void pattern_facts(struct wm *m, const struct dsl_stmt *s,
			  const struct dsl_list *replaced,
			  const struct dsl_json *obj,
			  const struct dsl_json **keys, size_t depth,
			  struct facts *out)
{
	for (size_t i = 0; i < obj->items.n && depth < 64; i++) {
		const struct dsl_json *f = obj->items.items[i];
		struct fact x;

		/* Alternatives say nothing certain about any one field. */
		if (is_key(f, "$or"))
			continue;
		keys[depth] = f;
		if (f->kind == DJ_OBJECT) {
			pattern_facts(m, s, replaced, f, keys, depth + 1,
				      out);
			continue;
		}
		if (f->kind != DJ_ARRAY || listed(replaced, f))
			continue;
		memset(&x, 0, sizeof x);
		x.path = cc_keys_path(&m->c->arena, keys, depth + 1);
		x.alts = f;
		x.span = f->key_span;
		x.s = s;
		if (x.path == NULL)
			m->c->ctx->oom = 1;
		else
			push_fact(m, out, &x);
	}
}

static int names_only(const struct dsl_path *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->segs[i].kind != SEG_KEY)
			return 0;
	return p->n > 0;
}

/* `.f == V` as the list [V]. */
static const struct dsl_json *one_value(struct wm *m,
					const struct dsl_json *v)
{
	struct dsl_json *list = dsl_alloc(&m->c->arena, sizeof *list);

	if (list == NULL || dsl_list_push(&m->c->arena, &list->items,
					  (void *)v) != 0) {
		m->c->ctx->oom = 1;
		return NULL;
	}
	list->kind = DJ_ARRAY;
	list->span = v->span;
	return list;
}

/* The facts a condition implies: those of its conjuncts. */
static void expr_facts(struct wm *m, const struct dsl_stmt *s,
		       const struct dsl_expr *e, struct facts *out)
{
	const struct dsl_json *keys[64];
	const struct dsl_list *replaced;
	struct fact x;

	if (e == NULL)
		return;
	memset(&x, 0, sizeof x);
	x.s = s;
	x.span = e->span;
	switch (e->kind) {
	case EX_AND:
		expr_facts(m, s, e->a, out);
		expr_facts(m, s, e->b, out);
		return;
	case EX_PATTERN:
		if (e->json->kind != DJ_OBJECT)
			return;
		replaced = cc_pattern_replaced(m->c, e->json);
		if (replaced == NULL)
			m->c->ctx->oom = 1;
		else
			pattern_facts(m, s, replaced, e->json, keys, 0, out);
		return;
	case EX_EXISTS:
		x.path = e->path;
		x.exists = 1;
		break;
	case EX_CMP:
		if (e->cmp != CMP_EQ || e->a->kind != EX_PATH ||
		    e->b->kind != EX_LITERAL)
			return;
		x.path = e->a->path;
		x.alts = one_value(m, e->b->json);
		break;
	case EX_IN:
		if (e->a->kind != EX_PATH)
			return;
		x.path = e->a->path;
		x.alts = e->json;
		break;
	default:
		return;
	}
	if (names_only(x.path) && (x.exists || x.alts))
		push_fact(m, out, &x);
}

/* ---- one value against one matcher --------------------------------------- */

static int same_value(const struct dsl_json *a, const struct dsl_json *b)
{
	if (a->kind != b->kind)
		return NO;
	if (a->kind == DJ_STRING)
		return a->len == b->len && memcmp(a->text, b->text, a->len) == 0
		       ? YES : NO;
	if (a->kind == DJ_NUMBER)
		/* Same value, maybe not the same spelling. */
		return strtod(a->text, NULL) == strtod(b->text, NULL)
		       ? MAYBE : NO;
	return YES;
}

static int ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

static int lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

/* Does s[0..n) hold t at offset `at`, with or without case? */
static int holds_at(const char *s, size_t at, const struct dsl_json *t,
		    int nocase)
{
	if (nocase && !(ascii(s, at + t->len) && ascii(t->text, t->len)))
		return MAYBE;
	for (size_t i = 0; i < t->len; i++)
		if (nocase ? lower(s[at + i]) != lower(t->text[i])
			   : s[at + i] != t->text[i])
			return NO;
	return YES;
}

/* {"prefix": ...} or {"suffix": ...}: the string t or
 * {"equals-ignore-case": t}. */
static int affix(const struct dsl_json *v, const struct dsl_json *arg,
		 int suffix)
{
	int nocase = arg->kind == DJ_OBJECT && arg->items.n == 1 &&
		     is_key(arg->items.items[0], "equals-ignore-case");
	const struct dsl_json *t = nocase ? arg->items.items[0] : arg;

	if (v->kind != DJ_STRING)
		return NO;
	if (t->kind != DJ_STRING)
		return MAYBE;
	if (t->len > v->len)
		return NO;
	return holds_at(v->text, suffix ? v->len - t->len : 0, t, nocase);
}

/* EventBridge wildcards: '*' is any run, '\*' and '\\' are literal. */
static int glob(const char *p, size_t pn, const char *s, size_t sn)
{
	size_t i = 0, j = 0, star = (size_t)-1, mark = 0;

	while (j < sn) {
		if (i < pn && p[i] == '*') {
			star = i++;
			mark = j;
		} else if (i < pn && (p[i] == '\\' ? i + 1 < pn &&
				      p[i + 1] == s[j] : p[i] == s[j])) {
			i += p[i] == '\\' ? 2 : 1;
			j++;
		} else if (star != (size_t)-1) {
			i = star + 1;
			j = ++mark;
		} else {
			return NO;
		}
	}
	while (i < pn && p[i] == '*')
		i++;
	return i == pn ? YES : NO;
}

static int compare(double v, const struct dsl_json *op, double x)
{
	if (op->kind != DJ_STRING)
		return MAYBE;
	if (op->len == 1 && op->text[0] == '=')
		return v == x;
	if (op->len == 1 && op->text[0] == '<')
		return v < x;
	if (op->len == 1 && op->text[0] == '>')
		return v > x;
	if (op->len == 2 && op->text[0] == '<')
		return v <= x;
	if (op->len == 2 && op->text[0] == '>')
		return v >= x;
	return MAYBE;
}

static int numeric(const struct dsl_json *v, const struct dsl_json *arg)
{
	double x = v->kind == DJ_NUMBER ? strtod(v->text, NULL) : 0;

	if (v->kind != DJ_NUMBER)
		return NO;
	for (size_t i = 0; i + 1 < arg->items.n; i += 2) {
		const struct dsl_json *op = arg->items.items[i];
		const struct dsl_json *n = arg->items.items[i + 1];
		int r;

		if (n->kind != DJ_NUMBER)
			return MAYBE;
		r = compare(x, op, strtod(n->text, NULL));
		if (r != YES)
			return r;
	}
	return YES;
}

static int anything_but(const struct dsl_json *v, const struct dsl_json *arg)
{
	const struct dsl_json *in;

	switch (arg->kind) {
	case DJ_STRING:
	case DJ_NUMBER:
		return arg->kind != v->kind ? MAYBE
		       : same_value(arg, v) == YES ? NO : MAYBE;
	case DJ_ARRAY:
		for (size_t i = 0; i < arg->items.n; i++)
			if (same_value(arg->items.items[i], v) == YES)
				return NO;
		return MAYBE;
	case DJ_OBJECT:
		if (arg->items.n != 1)
			return MAYBE;
		in = arg->items.items[0];
		if (is_key(in, "prefix") || is_key(in, "suffix"))
			return affix(v, in, is_key(in, "suffix")) == YES
			       ? NO : MAYBE;
		return MAYBE;
	default:
		return MAYBE;
	}
}

/* Could value v (a literal) pass matcher `a`, one element of a pattern
 * field's list? */
int cc_matcher_passes(const struct dsl_json *v, const struct dsl_json *a)
{
	const struct dsl_json *op;

	if (a->kind != DJ_OBJECT)
		return a->kind == DJ_ARRAY ? MAYBE : same_value(a, v);
	if (a->items.n != 1)
		return MAYBE;
	op = a->items.items[0];
	if (is_key(op, "prefix") || is_key(op, "suffix"))
		return affix(v, op, is_key(op, "suffix"));
	if (is_key(op, "equals-ignore-case"))
		return v->kind != DJ_STRING ? NO : op->kind != DJ_STRING ||
		       op->len != v->len ? (op->kind == DJ_STRING &&
		       ascii(op->text, op->len) && ascii(v->text, v->len)
		       ? NO : MAYBE) : holds_at(v->text, 0, op, 1);
	if (is_key(op, "wildcard"))
		return v->kind != DJ_STRING ? NO : op->kind != DJ_STRING
		       ? MAYBE : glob(op->text, op->len, v->text, v->len);
	if (is_key(op, "numeric"))
		return op->kind == DJ_ARRAY ? numeric(v, op) : MAYBE;
	if (is_key(op, "exists"))
		return op->kind == DJ_FALSE ? NO : YES;
	if (is_key(op, "anything-but"))
		return anything_but(v, op);
	if (is_key(op, "cidr"))
		return v->kind == DJ_STRING ? MAYBE : NO;
	return MAYBE;
}

/* ---- what gets this far -------------------------------------------------- */

enum { ANY, SOME, ABSENT, PRESENT };

struct admitted {
	int kind;
	const struct fact *from;	/* the fact that says, unless ANY */
};

static int only_exists(const struct dsl_json *alts, int want)
{
	if (alts == NULL || alts->kind != DJ_ARRAY || alts->items.n != 1)
		return 0;
	alts = alts->items.items[0];
	return alts->kind == DJ_OBJECT && alts->items.n == 1 &&
	       is_key(alts->items.items[0], "exists") &&
	       ((const struct dsl_json *)alts->items.items[0])->kind ==
	       (want ? DJ_TRUE : DJ_FALSE);
}

static int plain_values(const struct dsl_json *alts)
{
	if (alts == NULL || alts->kind != DJ_ARRAY || alts->items.n == 0)
		return 0;
	for (size_t i = 0; i < alts->items.n; i++) {
		const struct dsl_json *v = alts->items.items[i];

		if (v->kind == DJ_OBJECT || v->kind == DJ_ARRAY ||
		    v->kind == DJ_PARAM)
			return 0;
	}
	return 1;
}

/* What the facts around say the field at `p` can be. With several lists
 * of values, the first names the candidates: a value the others exclude
 * is ruled out when it is tried (see can_hold). */
static struct admitted admitted(const struct wm *m, const struct dsl_path *p)
{
	struct admitted a = { ANY, NULL };

	for (size_t i = 0; i < m->known.n; i++) {
		const struct fact *f = &m->known.v[i];

		if (!cc_path_same(f->path, p))
			continue;
		if (f->exists || only_exists(f->alts, 1)) {
			if (a.kind == ANY) {
				a.kind = PRESENT;
				a.from = f;
			}
		} else if (only_exists(f->alts, 0)) {
			a.kind = ABSENT;
			a.from = f;
		} else if (plain_values(f->alts) &&
			   (a.kind == ANY || a.kind == PRESENT)) {
			a.kind = SOME;
			a.from = f;
		}
	}
	return a;
}

/* The first fact known about field p that v cannot satisfy, or NULL. */
static const struct fact *excluded_by(const struct wm *m,
				      const struct dsl_path *p,
				      const struct dsl_json *v)
{
	for (size_t i = 0; i < m->known.n; i++) {
		const struct fact *f = &m->known.v[i];
		size_t k;

		if (!cc_path_same(f->path, p) || f->alts == NULL ||
		    f->alts->kind != DJ_ARRAY)
			continue;
		for (k = 0; k < f->alts->items.n; k++)
			if (cc_matcher_passes(v, f->alts->items.items[k]) != NO)
				break;
		if (k == f->alts->items.n)
			return f;
	}
	return NULL;
}

static int passes_any(const struct dsl_json *v, const struct dsl_json *alts)
{
	for (size_t k = 0; k < alts->items.n; k++)
		if (cc_matcher_passes(v, alts->items.items[k]) != NO)
			return 1;
	return 0;
}

/* Can the field, as far as the facts around let it be, satisfy t? NULL
 * if it can; else the fact that rules it out. */
static const struct fact *ruled_out(const struct wm *m, const struct fact *t,
				    const struct admitted *a)
{
	const struct fact *by = a->from, *f;
	const struct dsl_json *vals;

	switch (a->kind) {
	case ABSENT:
		return !t->exists && only_exists(t->alts, 0) ? NULL : by;
	case PRESENT:
		return !t->exists && only_exists(t->alts, 0) ? by : NULL;
	case SOME:
		break;
	default:
		return NULL;
	}
	if (t->exists)
		return NULL;
	vals = a->from->alts;
	for (size_t i = 0; i < vals->items.n; i++) {
		const struct dsl_json *v = vals->items.items[i];

		if (!passes_any(v, t->alts))
			continue;
		/* v would do, unless another fact excludes it. */
		f = excluded_by(m, t->path, v);
		if (f == NULL)
			return NULL;
		by = f;
	}
	return by;
}

/* ---- scalar fields ------------------------------------------------------- */

static int scalar_field(const struct cc *c, const struct dsl_path *p)
{
	static const char *const scalars[] = {
		"version", "id", "detail-type", "source", "account", "time",
		"region", "replay-name",
	};
	struct cc_slookup r;

	if (p->n == 1)
		for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++)
			if (strlen(scalars[i]) == p->segs[0].len &&
			    memcmp(scalars[i], p->segs[0].name,
				   p->segs[0].len) == 0)
				return 1;
	if (c->opts.nschemas == 0)
		return 0;
	for (size_t i = 0; i < c->opts.nschemas; i++) {
		for (size_t k = 1; k <= p->n; k++) {
			unsigned t;

			cc_schema_lookup(c->opts.schemas[i], p->segs, k, 0, &r);
			if (r.status != CC_S_FOUND)
				return 0;
			t = r.node->types & ~(unsigned)CC_T_NULL;
			if (t == 0 || (k < p->n && t != CC_T_OBJECT) ||
			    (t & CC_T_ARRAY))
				return 0;
		}
	}
	return 1;
}

/* ---- the warnings -------------------------------------------------------- */

/* The source text of a span, cut at `max` bytes. */
static void quote(const struct cc *c, struct dsl_span sp, struct buf *out,
		  size_t max)
{
	const char *t = c->ctx->sources[sp.file].text + sp.start;
	size_t n = sp.end - sp.start;

	buf_put(out, t, n > max ? max : n);
	if (n > max)
		buf_puts(out, "...");
}

static void say(struct wm *m, const struct fact *t, const struct fact *by,
		const struct admitted *a)
{
	const struct dsl_stmt *s = t->s;
	struct buf msg;

	buf_init(&msg, 4096);
	if (s->kind == ST_RULE && !s->implicit_name) {
		buf_puts(&msg, "rule '");
		buf_puts(&msg, s->name);
		buf_puts(&msg, "' can never match: ");
	} else {
		buf_puts(&msg, s->kind == ST_RULE ? "this rule can never "
			 "match: " : s->kind == ST_DROP ? "this drop never "
			 "happens: " : "this select lets no event through: ");
	}
	dsl_path_format(t->path, &msg);
	if (a->kind == ABSENT) {
		buf_puts(&msg, " is never there here");
	} else if (a->kind == PRESENT) {
		buf_puts(&msg, " is always there here");
	} else {
		buf_puts(&msg, " cannot be ");
		quote(m->c, t->alts->span, &msg, 60);
		buf_puts(&msg, " here");
	}
	buf_putc(&msg, '\0');
	if (!buf_failed(&msg)) {
		dsl_diag(m->c->ctx, DSL_WARNING, t->span, "never-matches",
			 "%s", msg.data);
		dsl_diag(m->c->ctx, DSL_NOTE, by->span, "never-matches",
			 "limited by this %s", by->s->kind == ST_RULE
			 ? "rule's condition" : "select");
	}
	buf_free(&msg);
}

/* Warn when a condition cannot hold where it stands. */
static void check_cond(struct wm *m, const struct dsl_stmt *s)
{
	struct facts mine = { NULL, 0, 0 };
	const struct fact *by;

	expr_facts(m, s, s->cond, &mine);
	for (size_t i = 0; i < mine.n; i++) {
		const struct fact *t = &mine.v[i];
		struct admitted a;

		if (!scalar_field(m->c, t->path))
			continue;
		a = admitted(m, t->path);
		by = ruled_out(m, t, &a);
		if (by) {
			say(m, t, by, &a);
			break;
		}
	}
	free(mine.v);
}

static void walk(struct wm *m, const struct dsl_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		const struct dsl_stmt *s = list->items[i];
		size_t saved = m->known.n;

		switch (s->kind) {
		case ST_SELECT:
			check_cond(m, s);
			/* What passes a select is all that gets further. */
			expr_facts(m, s, s->cond, &m->known);
			break;
		case ST_DROP:
			check_cond(m, s);
			break;
		case ST_RULE:
			check_cond(m, s);
			expr_facts(m, s, s->cond, &m->known);
			walk(m, &s->body);
			m->known.n = saved;
			break;
		default:
			break;
		}
	}
}

void cc_warn_matches(struct cc *c)
{
	struct wm m;

	memset(&m, 0, sizeof m);
	m.c = c;
	walk(&m, &c->stmts);
	free(m.known.v);
}
