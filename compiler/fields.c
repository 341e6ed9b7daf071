/* fields.c - the field report (see fields.h).
 *
 * The statements are walked once, in the order they run, and each is
 * applied to every field known so far; a copy adds a field, which later
 * statements then see too.
 */
#include "fields.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vm/alloc.h"
#include "pathrel.h"

enum { NO, YES, MAYBE };

struct fx {
	struct cc *c;
	struct cc_fields *f;
	const struct cc_schema *schema;
	int stopped;		/* every event is dropped from here on */
};

const char *cc_fclass_name(enum cc_fclass k)
{
	static const char *const names[] = {
		"passes", "kept", "transformed", "redacted", "removed",
		"dropped",
	};

	return names[k];
}

/* ---- fields -------------------------------------------------------------- */

static struct cc_field *add_field(struct fx *x, struct dsl_path *p,
				  unsigned types)
{
	struct cc_fields *f = x->f;
	struct cc_field *v;

	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		struct cc_field *g = scrub_realloc(f->v, cap * sizeof *g);

		if (g == NULL) {
			f->failed = 1;
			return NULL;
		}
		f->v = g;
		f->cap = cap;
	}
	v = &f->v[f->n++];
	memset(v, 0, sizeof *v);
	v->path = p;
	v->types = types;
	buf_init(&v->how, 1u << 16);
	return v;
}

static struct dsl_path *path_new(struct fx *x, size_t n)
{
	struct dsl_path *p = dsl_alloc(&x->f->arena, sizeof *p);

	if (p == NULL || (p->segs = dsl_alloc(&x->f->arena, (n ? n : 1) *
					       sizeof *p->segs)) == NULL) {
		x->f->failed = 1;
		return NULL;
	}
	p->n = n;
	return p;
}

/* `dest` followed by the segments of `p` past its first `skip`. */
static struct dsl_path *rebase(struct fx *x, const struct dsl_path *dest,
			       const struct dsl_path *p, size_t skip)
{
	struct dsl_path *q = path_new(x, dest->n + p->n - skip);

	if (q == NULL)
		return NULL;
	memcpy(q->segs, dest->segs, dest->n * sizeof *q->segs);
	memcpy(q->segs + dest->n, p->segs + skip,
	       (p->n - skip) * sizeof *q->segs);
	return q;
}

/* Every leaf of the schema: a field without listed members; an array's
 * elements as [*]. */
static void schema_leaves(struct fx *x, const struct cc_snode *n,
			  struct dsl_seg *segs, size_t depth)
{
	struct dsl_path *p;

	if (depth >= 64 || x->f->failed)
		return;
	if (n->members) {
		for (const struct cc_snode *m = n->members; m; m = m->next) {
			segs[depth].kind = SEG_KEY;
			segs[depth].name = (char *)m->name;
			segs[depth].len = m->len;
			schema_leaves(x, m, segs, depth + 1);
		}
		return;
	}
	if (n->items && depth > 0) {
		segs[depth].kind = SEG_ELEMENTS;
		schema_leaves(x, n->items, segs, depth + 1);
		return;
	}
	if (depth == 0 || (p = path_new(x, depth)) == NULL)
		return;
	memcpy(p->segs, segs, depth * sizeof *segs);
	add_field(x, p, n->types);
}

/* Without a schema: each path an action names, once. */
static void named_paths(struct fx *x, const struct dsl_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		const struct dsl_stmt *s = list->items[i];

		if (s->kind == ST_RULE) {
			named_paths(x, &s->body);
			continue;
		}
		if (s->kind == ST_SELECT || s->kind == ST_DROP ||
		    s->kind == ST_SAMPLE)
			continue;
		for (size_t k = 0; k <= s->paths.n; k++) {
			struct dsl_path *p = k < s->paths.n ? s->paths.items[k]
					     : s->dest;
			size_t j;

			if (p == NULL || p->n == 0)
				continue;
			for (j = 0; j < x->f->n; j++)
				if (cc_path_same(x->f->v[j].path, p))
					break;
			if (j == x->f->n)
				add_field(x, p, 0);
		}
	}
}

/* ---- conditions, as far as the schema decides them ----------------------- */

static int not3(int v)
{
	return v == MAYBE ? MAYBE : !v;
}

static int and3(int a, int b)
{
	return a == NO || b == NO ? NO : a == YES && b == YES ? YES : MAYBE;
}

static int or3(int a, int b)
{
	return a == YES || b == YES ? YES : a == NO && b == NO ? NO : MAYBE;
}

/* Look up a path in the schema; *n is the field when found. */
static enum cc_slook find(const struct fx *x, const struct dsl_seg *segs,
			  size_t n, int through, const struct cc_snode **node)
{
	struct cc_slookup r;

	cc_schema_lookup(x->schema, segs, n, through, &r);
	*node = r.status == CC_S_FOUND ? r.node : NULL;
	return r.status;
}

/* Does a field the schema fixes to `node->values` pass `alts`? */
static int values_pass(const struct cc_snode *node,
		       const struct dsl_json *alts)
{
	int any = NO, all = YES;

	for (size_t i = 0; i < node->nvalues; i++) {
		struct dsl_json v;
		int best = NO;

		memset(&v, 0, sizeof v);
		v.kind = DJ_STRING;
		v.text = (char *)node->values[i];
		v.len = strlen(node->values[i]);
		for (size_t k = 0; k < alts->items.n && best != YES; k++) {
			int r = cc_matcher_passes(&v, alts->items.items[k]);

			if (r != NO)
				best = r;
		}
		any = or3(any, best);
		all = and3(all, best);
	}
	return all == YES ? YES : any == NO ? NO : MAYBE;
}

/* Does a pattern field's list pass when the field is absent? Only
 * {"exists": false} does. */
static int absent_passes(const struct dsl_json *alts)
{
	for (size_t i = 0; i < alts->items.n; i++) {
		const struct dsl_json *a = alts->items.items[i], *op;

		if (a->kind != DJ_OBJECT || a->items.n != 1)
			continue;
		op = a->items.items[0];
		if (op->kind == DJ_FALSE && op->keylen == 6 &&
		    memcmp(op->key, "exists", 6) == 0)
			return YES;
	}
	return NO;
}

static int pattern_eval(const struct fx *x, const struct dsl_json *obj,
			const struct dsl_json **keys, size_t depth);

static int member_eval(const struct fx *x, const struct dsl_json *m,
		       const struct dsl_json **keys, size_t depth)
{
	struct dsl_seg segs[64];
	const struct cc_snode *node;
	enum cc_slook st;
	int r = NO;

	if (m->keylen == 3 && memcmp(m->key, "$or", 3) == 0) {
		for (size_t i = 0; i < m->items.n; i++)
			r = or3(r, pattern_eval(x, m->items.items[i], keys,
						depth));
		return r;
	}
	if (depth >= 63)
		return MAYBE;
	keys[depth] = m;
	if (m->kind == DJ_OBJECT)
		return pattern_eval(x, m, keys, depth + 1);
	for (size_t i = 0; i <= depth; i++) {
		segs[i].kind = SEG_KEY;
		segs[i].name = keys[i]->key;
		segs[i].len = keys[i]->keylen;
	}
	st = find(x, segs, depth + 1, 1, &node);
	if (st == CC_S_MISSING)
		return absent_passes(m);
	if (node && node->nvalues && m->kind == DJ_ARRAY)
		return values_pass(node, m);
	return MAYBE;
}

static int pattern_eval(const struct fx *x, const struct dsl_json *obj,
			const struct dsl_json **keys, size_t depth)
{
	int r = YES;

	if (obj->kind != DJ_OBJECT)
		return MAYBE;
	for (size_t i = 0; i < obj->items.n && r != NO; i++)
		r = and3(r, member_eval(x, obj->items.items[i], keys, depth));
	return r;
}

/* `.f == "v"`, `.f != "v"`, `.f in [...]` on a field the schema fixes. */
static int compare_eval(const struct fx *x, const struct dsl_expr *e)
{
	const struct cc_snode *node;
	const struct dsl_path *p = e->a->path;
	struct dsl_json list;
	enum cc_slook st;
	int r;

	if (e->a->kind != EX_PATH)
		return MAYBE;
	st = find(x, p->segs, p->n, 0, &node);
	if (st == CC_S_MISSING)
		return NO;	/* nothing selected: every comparison fails */
	if (node == NULL || node->nvalues == 0)
		return MAYBE;
	if (e->kind == EX_IN)
		return values_pass(node, e->json);
	if (e->b->kind != EX_LITERAL || (e->cmp != CMP_EQ && e->cmp != CMP_NE))
		return MAYBE;
	memset(&list, 0, sizeof list);
	list.kind = DJ_ARRAY;
	list.items.items = (void **)&e->b->json;
	list.items.n = 1;
	r = values_pass(node, &list);
	return e->cmp == CMP_EQ ? r : r == YES && node->nvalues == 1 ? NO
	       : r == NO ? YES : MAYBE;
}

static int eval(const struct fx *x, const struct dsl_expr *e)
{
	const struct dsl_json *keys[64];
	const struct cc_snode *node;

	if (e == NULL)
		return YES;
	if (x->schema == NULL)
		return MAYBE;
	switch (e->kind) {
	case EX_AND:
		return and3(eval(x, e->a), eval(x, e->b));
	case EX_OR:
		return or3(eval(x, e->a), eval(x, e->b));
	case EX_NOT:
		return not3(eval(x, e->a));
	case EX_PATTERN:
		return pattern_eval(x, e->json, keys, 0);
	case EX_EXISTS:
		return find(x, e->path->segs, e->path->n, 0, &node)
		       == CC_S_MISSING ? NO : MAYBE;
	case EX_CMP:
	case EX_IN:
		return compare_eval(x, e);
	default:
		return MAYBE;
	}
}

/* ---- what an action does to one field ------------------------------------ */

struct ctx {
	int maybe;		/* inside a rule the schema does not decide */
	const char *rule;	/* the innermost rule's name, or NULL */
};

static void note(struct fx *x, struct cc_field *v, const struct dsl_stmt *s,
		 const struct ctx *k, const char *what)
{
	unsigned line, col;
	char at[64];

	dsl_line_col(x->c->ctx, s->kw.file, s->kw.start, &line, &col);
	if (v->how.len)
		buf_puts(&v->how, "; ");
	buf_puts(&v->how, what);
	snprintf(at, sizeof at, " (line %u", line);
	buf_puts(&v->how, at);
	if (k->rule) {
		buf_puts(&v->how, ", rule '");
		buf_puts(&v->how, k->rule);
		buf_puts(&v->how, "'");
	}
	buf_puts(&v->how, ")");
}

/* Set the field's class to what `to` makes of it; conditionally inside
 * a rule the schema does not decide. */
static void become(struct cc_field *v, enum cc_fclass (*to)(enum cc_fclass),
		   const struct ctx *k)
{
	v->best = to(v->best);
	if (!k->maybe)
		v->worst = to(v->worst);
}

static enum cc_fclass to_removed(enum cc_fclass c)
{
	(void)c;
	return CC_F_REMOVED;
}

static enum cc_fclass to_redacted(enum cc_fclass c)
{
	return c == CC_F_REMOVED ? c : CC_F_REDACTED;
}

static enum cc_fclass to_transformed(enum cc_fclass c)
{
	(void)c;
	return CC_F_TRANSFORMED;
}

/* Moved, copied or cut short: transformed, unless already scrubbed or
 * removed (a cut pseudonym is still a pseudonym). */
static enum cc_fclass to_altered(enum cc_fclass c)
{
	return c == CC_F_PASSES || c == CC_F_KEPT ? CC_F_TRANSFORMED : c;
}

static enum cc_fclass to_kept(enum cc_fclass c)
{
	return c == CC_F_PASSES ? CC_F_KEPT : c;
}

static int wildcard_end(const struct dsl_path *p)
{
	return p->n && p->segs[p->n - 1].kind != SEG_KEY &&
	       p->segs[p->n - 1].kind != SEG_INDEX;
}

static const struct dsl_opt *find_opt(const struct dsl_stmt *s,
				      enum dsl_opt_kind k)
{
	for (size_t i = 0; i < s->opts.n; i++)
		if (((const struct dsl_opt *)s->opts.items[i])->kind == k)
			return s->opts.items[i];
	return NULL;
}

static const char *else_word(const struct dsl_stmt *s)
{
	const struct dsl_opt *o = find_opt(s, OPT_ELSE);

	return o ? o->word : "reject";
}

/* What a value operator does to a field it reaches. */
struct vop {
	unsigned takes;		/* CC_T_* it works on; 0: any value */
	unsigned skips;		/* through a wildcard, values of these
				 * types may pass unchanged: it is a
				 * filter */
	enum cc_fclass (*to)(enum cc_fclass);
	struct buf what;	/* the note */
	char mem[512];
};

/* On a field it names, redact says which detectors (`using NAME, ...`
 * as written); as a safety net through a wildcard it is on every string
 * of the report, and its line says which. */
static void redact_text(struct vop *o, const struct dsl_stmt *s, int wild)
{
	const struct dsl_opt *u = find_opt(s, OPT_USING);

	buf_puts(&o->what, wild ? "filtered by detectors" : "redact using ");
	for (size_t i = 0; !wild && u && u->value &&
	     i < u->value->items.n; i++) {
		const struct dsl_json *n = u->value->items.items[i];

		buf_puts(&o->what, i ? ", " : "");
		buf_put(&o->what, n->text, n->len);
	}
	if (find_opt(s, OPT_KEYS))
		buf_puts(&o->what, ", keys too");
}

/* A number option as written: round's step, bucket's width. */
static void step_text(struct vop *o, const struct dsl_stmt *s,
		      enum dsl_opt_kind k, const char *lead)
{
	const struct dsl_opt *n = find_opt(s, k);

	buf_puts(&o->what, lead);
	if (n && n->value)
		buf_put(&o->what, n->value->text, n->value->len);
}

static void shift_text(struct vop *o, const struct dsl_stmt *s)
{
	const struct dsl_opt *in = find_opt(s, OPT_WITHIN);
	const struct dsl_opt *by = find_opt(s, OPT_BY_PATH);
	char n[64];

	buf_puts(&o->what, "shift");
	if (in) {
		snprintf(n, sizeof n, " within %lld ", (long long)in->num);
		buf_puts(&o->what, n);
		buf_puts(&o->what, in->word);
	}
	if (by && by->path) {
		buf_puts(&o->what, " by ");
		dsl_path_format(by->path, &o->what);
	}
}

/* Fill in what statement s does through path p. Scrubbing operators
 * redact; a `truncate to N` keeps the first N characters as they were,
 * so it only transforms; redact and a regex replace change only what
 * they find, and round and bucket pass over a string that is not a
 * number when a wildcard reaches it. */
static void describe(struct vop *o, const struct dsl_stmt *s,
		     const struct dsl_path *p)
{
	int wild = wildcard_end(p);

	o->takes = CC_T_STRING;
	o->skips = 0;
	o->to = to_redacted;
	buf_init_fixed(&o->what, o->mem, sizeof o->mem - 4);
	switch (s->kind) {
	case ST_REPLACE:
		if (find_opt(s, OPT_MATCHING) == NULL) {
			o->takes = 0;
			buf_puts(&o->what, "replace with a constant");
			break;
		}
		o->skips = CC_T_STRING;
		buf_puts(&o->what, wild ? "filtered by a regex replace"
			 : "replace matching a regex");
		break;
	case ST_REDACT:
		o->skips = CC_T_STRING;
		redact_text(o, s, wild);
		break;
	case ST_ROUND:
	case ST_BUCKET:
		o->takes = CC_T_NUMBER | CC_T_STRING;
		o->skips = CC_T_STRING;
		step_text(o, s, s->kind == ST_ROUND ? OPT_TO_NUMBER
			  : OPT_BY_NUMBER, s->kind == ST_ROUND ? "round to "
			  : "bucket by ");
		break;
	case ST_SHIFT:
		shift_text(o, s);
		break;
	case ST_TRUNCATE:
		if (find_opt(s, OPT_TO_NUMBER)) {
			o->to = to_altered;
			step_text(o, s, OPT_TO_NUMBER, "truncate to ");
			buf_puts(&o->what, " characters");
			break;
		}
		/* fall through */
	default:
		buf_puts(&o->what, dsl_stmt_keyword(s->kind));
		break;
	}
}

/* The note, ending in "..." if it was too long. */
static const char *vop_text(struct vop *o)
{
	if (buf_failed(&o->what))
		memcpy(o->mem + o->what.len, "...", 4);
	else
		o->mem[o->what.len] = '\0';
	return o->mem;
}

/* A value operator (mask, redact, round...): P reaches the field
 * itself. */
static void value_op(struct fx *x, struct cc_field *v,
		     const struct dsl_stmt *s, const struct dsl_path *p,
		     const struct ctx *k)
{
	const char *kw = dsl_stmt_keyword(s->kind);
	struct vop o;
	char what[96];

	describe(&o, s, p);
	if (o.takes && v->types && !(v->types & o.takes)) {
		const char *e = else_word(s);

		/* A wildcard skips what it does not take. */
		if (wildcard_end(p))
			return;
		snprintf(what, sizeof what, "%s: not %s, so %s", kw,
			 o.takes & CC_T_NUMBER ? "a number" : "a string",
			 strcmp(e, "null") == 0 ? "set to null" :
			 strcmp(e, "delete") == 0 ? "removed"
			 : "the event is rejected");
		become(v, strcmp(e, "delete") == 0 ? to_removed : to_redacted,
		       k);
		note(x, v, s, k, what);
		return;
	}
	/* A filter through a wildcard only changes what it finds: on a
	 * field it names, that is the intent; here, a safety net. */
	if (wildcard_end(p) && (v->types ? v->types & o.skips : o.skips)) {
		if (s->kind == ST_ROUND || s->kind == ST_BUCKET)
			buf_puts(&o.what, " if it is a number");
		note(x, v, s, k, vop_text(&o));
		return;
	}
	become(v, o.to, k);
	note(x, v, s, k, vop_text(&o));
}

/* Is p a field of one name at each level (array elements aside)? */
static int one_place(const struct dsl_path *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->segs[i].kind == SEG_MEMBERS ||
		    p->segs[i].kind == SEG_DEEP)
			return 0;
	return 1;
}

/* Does p reach field v itself (not only something around it)? */
static int reaches(const struct dsl_path *p, const struct cc_field *v)
{
	return cc_covers(p, v->path) &&
	       (p->n == v->path->n || (p->n && p->segs[p->n - 1].kind ==
					SEG_DEEP));
}

static void keep_op(struct fx *x, struct cc_field *v,
		    const struct dsl_stmt *s, const struct ctx *k)
{
	int overlap = 0;

	for (size_t i = 0; i < s->paths.n; i++) {
		const struct dsl_path *p = s->paths.items[i];

		if (v->path && (cc_covers(p, v->path) ||
				cc_covers(v->path, p))) {
			become(v, to_kept, k);
			note(x, v, s, k, "keep");
			return;
		}
		overlap |= v->path && cc_overlap(p, v->path);
	}
	if (overlap) {
		note(x, v, s, k, "maybe kept by keep");
		return;
	}
	become(v, to_removed, k);
	note(x, v, s, k, "not on the keep list");
}

/* rename and copy: a field at or under the source goes along. */
static void move_op(struct fx *x, size_t i, const struct dsl_stmt *s,
		    const struct ctx *k)
{
	const struct dsl_path *from = s->paths.items[0];
	struct cc_field *v = &x->f->v[i], *c;
	struct dsl_path *to;
	char what[256];
	struct buf b;

	if (v->path == NULL || !cc_covers(from, v->path))
		return;
	to = rebase(x, s->dest, v->path, from->n);
	if (to == NULL)
		return;
	buf_init_fixed(&b, what, sizeof what - 1);
	buf_puts(&b, s->kind == ST_RENAME ? "moved to " : "copied to ");
	dsl_path_format(to, &b);
	what[buf_failed(&b) ? sizeof what - 1 : b.len] = '\0';
	if (s->kind == ST_RENAME && !k->maybe) {
		note(x, v, s, k, what);
		v->path = to;
		become(v, to_altered, k);
		return;
	}
	/* A copy, or a move that may not happen: the value may be in both
	 * places. */
	note(x, v, s, k, what);
	c = add_field(x, to, v->types);
	if (c == NULL)
		return;
	v = &x->f->v[i];	/* add_field may have moved the array */
	c->best = v->best;
	c->worst = v->worst;
	c->added = 1;
	buf_init_fixed(&b, what, sizeof what - 1);
	buf_puts(&b, s->kind == ST_RENAME ? "moved from " : "copy of ");
	dsl_path_format(v->path, &b);
	what[buf_failed(&b) ? sizeof what - 1 : b.len] = '\0';
	note(x, c, s, k, what);
	become(c, to_altered, k);
}

/* `set` makes its field if no field is there yet. */
static void set_op(struct fx *x, const struct dsl_stmt *s,
		   const struct ctx *k)
{
	struct dsl_path *p = s->paths.items[0];
	struct cc_field *v;

	for (size_t i = 0; i < x->f->n; i++) {
		v = &x->f->v[i];
		if (v->path && cc_covers(p, v->path)) {
			become(v, to_transformed, k);
			note(x, v, s, k, "set to a constant");
			if (cc_path_same(p, v->path))
				return;
		}
	}
	v = add_field(x, p, 0);
	if (v == NULL)
		return;
	v->added = 1;
	v->best = v->worst = CC_F_TRANSFORMED;
	note(x, v, s, k, "added: set to a constant");
}

static void path_op(struct fx *x, struct cc_field *v,
		    const struct dsl_stmt *s, const struct dsl_path *p,
		    const struct ctx *k)
{
	char what[64];

	/* Nothing acts on a field that is gone (only set makes it anew). */
	if (v->path == NULL || (v->best == CC_F_REMOVED &&
				v->worst == CC_F_REMOVED))
		return;
	if (!cc_covers(p, v->path)) {
		/* "maybe" is for a field that is one place: a wildcard
		 * field of the report overlaps too much to say. */
		if (cc_overlap(p, v->path) && one_place(v->path)) {
			snprintf(what, sizeof what, "maybe %s",
				 dsl_stmt_keyword(s->kind));
			note(x, v, s, k, what);
		}
		return;
	}
	switch (s->kind) {
	case ST_DELETE:
		become(v, to_removed, k);
		note(x, v, s, k, "delete");
		return;
	case ST_REPLACE:
		/* A constant through a wildcard replaces the scalars at
		 * any depth below what it reaches: the field itself. */
		if (!find_opt(s, OPT_MATCHING) && wildcard_end(p)) {
			value_op(x, v, s, p, k);
			return;
		}
		if (!find_opt(s, OPT_MATCHING) && !reaches(p, v)) {
			become(v, to_redacted, k);
			note(x, v, s, k, "replaced with what is around it");
			return;
		}
		/* fall through */
	case ST_MASK:
	case ST_PSEUDONYMIZE:
	case ST_TRUNCATE:
	case ST_REDACT:
	case ST_ROUND:
	case ST_BUCKET:
	case ST_SHIFT:
	case ST_TOKENIZE:
		if (reaches(p, v))
			value_op(x, v, s, p, k);
		return;
	default:
		/* A statement this report does not know: say it is there,
		 * claim nothing. */
		snprintf(what, sizeof what, "%s (not classified by this "
			 "report)", dsl_stmt_keyword(s->kind));
		note(x, v, s, k, what);
		return;
	}
}

static void action(struct fx *x, const struct dsl_stmt *s,
		   const struct ctx *k)
{
	size_t n = x->f->n;

	switch (s->kind) {
	case ST_SET:
		set_op(x, s, k);
		return;
	case ST_RENAME:
	case ST_COPY:
		for (size_t i = 0; i < n; i++)
			move_op(x, i, s, k);
		return;
	case ST_KEEP:
		for (size_t i = 0; i < n; i++)
			keep_op(x, &x->f->v[i], s, k);
		return;
	default:
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < s->paths.n; j++)
				path_op(x, &x->f->v[i], s, s->paths.items[j],
					k);
	}
}

/* ---- statements ---------------------------------------------------------- */

static void drop_all(struct fx *x, const struct dsl_stmt *s, const char *why)
{
	struct ctx k = { 0, NULL };

	for (size_t i = 0; i < x->f->n; i++) {
		x->f->v[i].best = x->f->v[i].worst = CC_F_DROPPED;
		note(x, &x->f->v[i], s, &k, why);
	}
	x->stopped = 1;
}

/* An `on` rule's name, as the compiler gives it: "line N". */
static const char *line_name(struct fx *x, const struct dsl_stmt *s)
{
	unsigned line, col;
	char name[32];
	const char *copy;

	dsl_line_col(x->c->ctx, s->span.file, s->span.start, &line, &col);
	snprintf(name, sizeof name, "line %u", line);
	copy = dsl_strndup(&x->f->arena, name, strlen(name));
	if (copy == NULL)
		x->f->failed = 1;
	return copy ? copy : "on";
}

static void walk(struct fx *x, const struct dsl_list *list,
		 const struct ctx *k)
{
	for (size_t i = 0; i < list->n && !x->stopped; i++) {
		const struct dsl_stmt *s = list->items[i];
		struct ctx inner = *k;
		int t;

		switch (s->kind) {
		case ST_POLICY:
		case ST_INCLUDE:
		case ST_PARAM:
		case ST_OUTPUT:
		case ST_SAMPLE:
			break;
		case ST_SELECT:
			if (!k->maybe && eval(x, s->cond) == NO)
				drop_all(x, s, "by the select");
			break;
		case ST_DROP:
			if (!k->maybe && eval(x, s->cond) == YES)
				drop_all(x, s, "by the drop");
			break;
		case ST_RULE:
			t = eval(x, s->cond);
			if (t == NO)
				break;
			inner.maybe = k->maybe || t == MAYBE;
			inner.rule = s->implicit_name ? line_name(x, s)
				     : s->name;
			walk(x, &s->body, &inner);
			break;
		default:
			action(x, s, k);
			break;
		}
	}
}

int cc_fields(struct cc *c, const struct cc_schema *schema,
	      struct cc_fields *out)
{
	struct fx x;
	struct ctx k = { 0, NULL };
	struct dsl_seg segs[64];

	memset(out, 0, sizeof *out);
	out->schema = schema;
	memset(&x, 0, sizeof x);
	x.c = c;
	x.f = out;
	x.schema = schema;
	if (schema)
		schema_leaves(&x, schema->root, segs, 0);
	else
		named_paths(&x, &c->stmts);
	if (!schema)
		add_field(&x, NULL, 0);
	walk(&x, &c->stmts, &k);
	for (size_t i = 0; i < out->n; i++)
		if (buf_failed(&out->v[i].how))
			out->failed = 1;
	return out->failed ? -1 : 0;
}

void cc_fields_free(struct cc_fields *f)
{
	for (size_t i = 0; i < f->n; i++)
		buf_free(&f->v[i].how);
	free(f->v);
	dsl_arena_free(&f->arena);
	memset(f, 0, sizeof *f);
}
