/* pathrel.c - relations between policy paths (see pathrel.h). */
#include "pathrel.h"

#include <string.h>

static int same_key(const struct dsl_seg *a, const struct dsl_seg *b)
{
	return a->len == b->len && memcmp(a->name, b->name, a->len) == 0;
}

/* Does segment q select every location segment p selects? */
static int seg_covers(const struct dsl_seg *q, const struct dsl_seg *p)
{
	switch (q->kind) {
	case SEG_KEY:
		return p->kind == SEG_KEY && same_key(q, p);
	case SEG_INDEX:
		return p->kind == SEG_INDEX && p->index == q->index;
	case SEG_ELEMENTS:
		return p->kind == SEG_INDEX || p->kind == SEG_ELEMENTS;
	case SEG_MEMBERS:
		return p->kind == SEG_KEY || p->kind == SEG_MEMBERS;
	case SEG_DEEP:
		break;
	}
	return 0;
}

int cc_path_covers(const struct dsl_seg *q, size_t nq,
		   const struct dsl_seg *p, size_t np)
{
	for (size_t i = 0; i < nq; i++) {
		/* A trailing `**` takes everything below what led to it. */
		if (q[i].kind == SEG_DEEP)
			return i + 1 == nq && i <= np;
		if (i >= np || !seg_covers(&q[i], &p[i]))
			return 0;
	}
	return 1;
}

/* Could segments a and b select the same location? Names only meet
 * names, indexes indexes: an object is never an array. */
static int seg_meets(const struct dsl_seg *a, const struct dsl_seg *b)
{
	int a_obj = a->kind == SEG_KEY || a->kind == SEG_MEMBERS;
	int b_obj = b->kind == SEG_KEY || b->kind == SEG_MEMBERS;

	if (a_obj != b_obj)
		return 0;
	if (a->kind == SEG_KEY && b->kind == SEG_KEY)
		return same_key(a, b);
	if (a->kind == SEG_INDEX && b->kind == SEG_INDEX)
		/* [-1] may well be [2]. */
		return a->index == b->index || a->index < 0 || b->index < 0;
	return 1;
}

int cc_path_may_overlap(const struct dsl_seg *a, size_t na,
			const struct dsl_seg *b, size_t nb)
{
	size_t n = na < nb ? na : nb;

	for (size_t i = 0; i < n; i++) {
		if (a[i].kind == SEG_DEEP || b[i].kind == SEG_DEEP)
			return 1;
		if (!seg_meets(&a[i], &b[i]))
			return 0;
	}
	return 1;
}

int cc_path_same(const struct dsl_path *a, const struct dsl_path *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct dsl_seg *x = &a->segs[i], *y = &b->segs[i];

		if (x->kind != y->kind ||
		    (x->kind == SEG_KEY && !same_key(x, y)) ||
		    (x->kind == SEG_INDEX && x->index != y->index))
			return 0;
	}
	return 1;
}

struct dsl_path *cc_keys_path(struct dsl_arena *a,
			      const struct dsl_json *const *keys, size_t n)
{
	struct dsl_path *p = dsl_alloc(a, sizeof *p);

	if (p == NULL || n == 0 ||
	    (p->segs = dsl_alloc(a, n * sizeof *p->segs)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		p->segs[i].kind = SEG_KEY;
		p->segs[i].name = keys[i]->key;
		p->segs[i].len = keys[i]->keylen;
		p->segs[i].span = keys[i]->key_span;
	}
	p->n = n;
	p->span = keys[0]->key_span;
	p->span.end = keys[n - 1]->key_span.end;
	return p;
}
