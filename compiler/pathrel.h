/* pathrel.h - how two policy paths relate, without an event at hand.
 *
 * Both questions are answered conservatively, for warnings that must not
 * cry wolf and a field report that must not claim a field is scrubbed
 * when it may not be: "covers" only says yes when it is sure, "may
 * overlap" only says no when it is sure.
 */
#ifndef SCRUB_CC_PATHREL_H
#define SCRUB_CC_PATHREL_H

#include <stddef.h>

#include "../dsl/ast.h"

/* Is every value `p` selects one that `q` selects, or inside one? */
int cc_path_covers(const struct dsl_seg *q, size_t nq,
		   const struct dsl_seg *p, size_t np);

/* Could a value selected by `a` be the same as, inside or around a value
 * selected by `b`? */
int cc_path_may_overlap(const struct dsl_seg *a, size_t na,
			const struct dsl_seg *b, size_t nb);

/* Do two paths name the same single location (fields and indexes)? */
int cc_path_same(const struct dsl_path *a, const struct dsl_path *b);

/* An event pattern's field as a path: one name per nested key, each
 * segment's span its key's. NULL when out of memory. */
struct dsl_path *cc_keys_path(struct dsl_arena *a,
			      const struct dsl_json *const *keys, size_t n);

/* Shorthands for whole paths. */
static inline int cc_covers(const struct dsl_path *q, const struct dsl_path *p)
{
	return cc_path_covers(q->segs, q->n, p->segs, p->n);
}

static inline int cc_overlap(const struct dsl_path *a, const struct dsl_path *b)
{
	return cc_path_may_overlap(a->segs, a->n, b->segs, b->n);
}

#endif
