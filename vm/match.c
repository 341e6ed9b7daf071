/* match.c - EventBridge event-pattern fields, and sampling.
 *
 * The compiler turns an event pattern into bytecode: one MATCH instruction
 * per field, joined by jumps for the pattern's ANDs and $ors. A MATCH
 * selects the field's values (looking through arrays, as EventBridge does)
 * and tests them against the field's matcher constant: a list of
 * comparisons, any of which may match any value.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "exec.h"

#define WORD(c, i, w) vm_u32((c)->items + 16 * (i) + 4 * (w))

/* ---- loading-time checks ------------------------------------------------- */

static int kind_is(const struct vm_program *p, uint32_t k, uint8_t kind)
{
	return k < p->nconsts && p->consts[k].kind == kind;
}

static int list_of(const struct vm_program *p, uint32_t k, int numbers_ok)
{
	const struct vm_const *l;

	if (!kind_is(p, k, VM_K_LIST))
		return 0;
	l = &p->consts[k];
	for (uint32_t i = 0; i < l->count; i++) {
		uint8_t kind = p->consts[vm_u32(l->items + 4 * i)].kind;

		if (kind != VM_K_STRING && !(numbers_ok && kind == VM_K_NUMBER))
			return 0;
	}
	return l->count > 0;
}

/* Numeric matching is documented for -5.0e9 to 5.0e9 with six digits
 * after the decimal point. Within that range numbers compare as
 * EventBridge's matcher compares them: as the integer 1e6 x (5e9 + v),
 * rounded down (event-ruler's ComparableNumber), so 0.0000001 equals 0.
 * The arithmetic is IEEE double, as there. */
static int in_numeric_range(double v)
{
	return v >= -5.0e9 && v <= 5.0e9;
}

static int64_t comparable(double v)
{
	return (int64_t)(1e6 * (5.0e9 + v));
}

/* A numeric bound: a number in numeric matching's range (the compiler
 * refuses others, as EventBridge does). */
static int bound_ok(const struct vm_program *p, uint32_t k)
{
	return kind_is(p, k, VM_K_NUMBER) && in_numeric_range(p->consts[k].num);
}

static int numop_ok(uint32_t op, int may_be_none)
{
	return (op >= VM_NUM_EQ && op <= VM_NUM_GE) ||
	       (may_be_none && op == VM_NUM_NONE);
}

static int entry_ok(const struct vm_program *p, uint32_t kind, uint32_t a,
		    uint32_t b, uint32_t x)
{
	switch (kind) {
	case VM_MATCH_EXACT:
		return a < p->nconsts && p->consts[a].kind >= VM_K_NULL &&
		       p->consts[a].kind <= VM_K_STRING;
	case VM_MATCH_PREFIX:
	case VM_MATCH_SUFFIX:
	case VM_MATCH_WILDCARD:
	case VM_MATCH_CIDR:
		return kind_is(p, a, VM_K_STRING);
	case VM_MATCH_PREFIX_CI:
	case VM_MATCH_SUFFIX_CI:
	case VM_MATCH_EQUALS_CI:
		return kind_is(p, a, VM_K_STRING) && kind_is(p, b, VM_K_REGEX);
	case VM_MATCH_NUMERIC:
		return numop_ok(a & 0xFF, 0) && numop_ok(a >> 8 & 0xFF, 1) &&
		       a >> 16 == 0 && bound_ok(p, b) &&
		       ((a >> 8) == VM_NUM_NONE ? x == VM_NONE
						: bound_ok(p, x));
	case VM_MATCH_EXISTS:
		return a <= 1;
	case VM_MATCH_BUT_VALUES:
		return list_of(p, a, 1);
	case VM_MATCH_BUT_EQUALS_CI:
		return list_of(p, a, 0) && kind_is(p, b, VM_K_REGEX);
	case VM_MATCH_BUT_PREFIX:
	case VM_MATCH_BUT_SUFFIX:
	case VM_MATCH_BUT_WILDCARD:
		return list_of(p, a, 0);
	}
	return 0;
}

int vm_check_matcher(const struct vm_program *p, const struct vm_const *c,
		     struct vm_error *err)
{
	for (uint32_t i = 0; i < c->count; i++) {
		uint32_t kind = WORD(c, i, 0);

		if (!entry_ok(p, kind, WORD(c, i, 1), WORD(c, i, 2),
			      WORD(c, i, 3))) {
			snprintf(err->msg, sizeof err->msg, "CONS section: "
				 "matcher entry %u (kind %u) is malformed", i,
				 kind);
			return -1;
		}
	}
	return 0;
}

#define NODE(c, at, w) vm_u32((c)->items + 4 * ((at) + (w)))

/* Check the node at word `at`; returns the word after it, or 0. */
static uint32_t check_node(const struct vm_program *p, const struct vm_const *c,
			   uint32_t at, int depth, int root)
{
	uint32_t kind, key, x;

	if (depth > VM_PATTERN_MAX_NEST || c->count - at < 3)
		return 0;
	kind = NODE(c, at, 0);
	key = NODE(c, at, 1);
	x = NODE(c, at, 2);
	/* Terms have keys, $or alternatives and the root have none. */
	if (key != VM_NONE && !kind_is(p, key, VM_K_STRING))
		return 0;
	if ((root || kind == VM_PT_OR) && key != VM_NONE)
		return 0;
	at += 3;
	if (kind == VM_PT_FIELD)
		return key != VM_NONE && kind_is(p, x, VM_K_MATCHER) ? at : 0;
	if ((kind != VM_PT_OBJ && kind != VM_PT_OR) || x == 0)
		return 0;
	for (uint32_t i = 0; i < x && at; i++) {
		if (kind == VM_PT_OR && (c->count - at < 3 ||
					 NODE(c, at, 0) != VM_PT_OBJ ||
					 NODE(c, at, 1) != VM_NONE))
			return 0;
		if (kind == VM_PT_OBJ && c->count - at >= 3 &&
		    NODE(c, at, 0) != VM_PT_OR && NODE(c, at, 1) == VM_NONE)
			return 0;
		at = check_node(p, c, at, depth + 1, 0);
	}
	return at;
}

int vm_check_pattern(const struct vm_program *p, const struct vm_const *c,
		     struct vm_error *err)
{
	if (c->count < 3 || NODE(c, 0, 0) != VM_PT_OBJ ||
	    check_node(p, c, 0, 0, 1) != c->count) {
		snprintf(err->msg, sizeof err->msg, "CONS section: pattern "
			 "tree is malformed");
		return -1;
	}
	return 0;
}

/* ---- comparisons --------------------------------------------------------- */

static int has_prefix(const char *s, size_t n, const struct vm_const *p)
{
	return p->len <= n && memcmp(s, p->data, p->len) == 0;
}

static int has_suffix(const char *s, size_t n, const struct vm_const *p)
{
	return p->len <= n && memcmp(s + n - p->len, p->data, p->len) == 0;
}

/* `*` matches any run of characters; `\*` and `\\` are literal. The
 * backtracking is the classic linear one: only the last star is resumed. */
static int wildcard(const char *s, size_t n, const char *w, size_t wn)
{
	size_t si = 0, wi = 0, star_w = (size_t)-1, star_s = 0;

	while (si < n) {
		if (wi < wn && w[wi] == '*') {
			star_w = ++wi;
			star_s = si;
			continue;
		}
		if (wi < wn) {
			char want = w[wi];
			size_t step = 1;

			if (want == '\\' && wi + 1 < wn) {
				want = w[wi + 1];
				step = 2;
			}
			if (want == s[si]) {
				wi += step;
				si++;
				continue;
			}
		}
		if (star_w == (size_t)-1)
			return 0;
		wi = star_w;
		si = ++star_s;
	}
	while (wi < wn && w[wi] == '*')
		wi++;
	return wi == wn;
}

/* Ignoring case is a regex the compiler wrote (see pattern.c). */
static int ci_match(struct vm_exec *ex, const char *s, size_t n,
		    const struct vm_const *re)
{
	uint32_t limit;
	int rc;

	if (vm_charge(ex, 1 + n / 16) != 0)
		return -1;
	limit = vm_regex_budget(ex, n);
	rc = pcre2_match(re->re, (PCRE2_SPTR)s, n, 0, PCRE2_NO_UTF_CHECK,
			 ex->md, ex->mctx);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	return vm_regex_failed(ex, "pattern match", rc, limit);
}

/* Equal numbers for anything-but: as numeric matching compares them,
 * within its range; exactly, outside it. */
static int same_number(double a, double b)
{
	if (in_numeric_range(a) && in_numeric_range(b))
		return comparable(a) == comparable(b);
	return a == b;
}

/* Both v and the bound are in range: the verifier checked the bounds
 * (bound_ok), and the caller v; out of range, the conversion overflows. */
static int numeric_op(double v, uint32_t op, double bound)
{
	int64_t x = comparable(v), y = comparable(bound);

	switch (op) {
	case VM_NUM_EQ:
		return x == y;
	case VM_NUM_LT:
		return x < y;
	case VM_NUM_LE:
		return x <= y;
	case VM_NUM_GT:
		return x > y;
	case VM_NUM_GE:
		return x >= y;
	}
	return 1;
}

static int in_cidr(const char *s, size_t n, const struct vm_const *net)
{
	const char *slash = memchr(net->data, '/', net->len);
	unsigned char a[16], b[16];
	int na, nb;
	long bits;

	if (slash == NULL)
		return 0;
	na = vm_parse_cidr_ip(s, n, a);
	nb = vm_parse_cidr_ip(net->data, (size_t)(slash - net->data), b);
	bits = strtol(slash + 1, NULL, 10);
	if (na == 0 || na != nb || bits < 0 || bits > na * 8)
		return 0;
	for (long i = 0; i < bits; i++)
		if ((a[i / 8] ^ b[i / 8]) & (0x80u >> (i % 8)))
			return 0;
	return 1;
}

/* Work units to test a string of n bytes against entry (kind, a): its
 * length, and for wildcards the backtracking bound n x pattern length. */
static uint64_t wildcard_cost(const struct vm_program *p, uint32_t kind,
			      uint32_t a, size_t n)
{
	const struct vm_const *l;
	uint64_t w = 0;

	/* Word a is a constant index only for some kinds. */
	if (kind == VM_MATCH_WILDCARD) {
		w = p->consts[a].len;
	} else if (kind == VM_MATCH_BUT_WILDCARD) {
		l = &p->consts[a];
		for (uint32_t i = 0; i < l->count; i++)
			w += p->consts[vm_u32(l->items + 4 * i)].len;
	}
	return ((uint64_t)n + 1) * (w + 1) / 64;
}

/* Is string s related by `kind` to some string of list `l`? */
static int any_in_list(struct vm_exec *ex, const struct vm_const *l,
		       const char *s, size_t n, uint32_t kind)
{
	for (uint32_t i = 0; i < l->count; i++) {
		const struct vm_const *c =
			&ex->p->consts[vm_u32(l->items + 4 * i)];

		if (kind == VM_MATCH_BUT_PREFIX ? has_prefix(s, n, c) :
		    kind == VM_MATCH_BUT_SUFFIX ? has_suffix(s, n, c) :
		    wildcard(s, n, c->data, c->len))
			return 1;
	}
	return 0;
}

/* anything-but a list of values: strings by bytes, numbers by value;
 * a value of another type is never in the list. */
static int but_values(struct vm_exec *ex, const struct vm_const *l,
		      json_ref r, const char *s, size_t n)
{
	enum json_type t = json_type_of(&ex->doc, r);

	for (uint32_t k = 0; k < l->count; k++) {
		const struct vm_const *c =
			&ex->p->consts[vm_u32(l->items + 4 * k)];

		if (t == JSON_STRING && c->kind == VM_K_STRING &&
		    c->len == n && memcmp(c->data, s, n) == 0)
			return 0;
		if (t == JSON_NUMBER && c->kind == VM_K_NUMBER &&
		    same_number(json_number(&ex->doc, r), c->num))
			return 0;
	}
	return 1;
}

/* Does leaf value `r` satisfy entry `i` of matcher `m`? */
static int entry_matches(struct vm_exec *ex, const struct vm_const *m,
			 uint32_t i, json_ref r)
{
	const struct vm_program *p = ex->p;
	struct json_doc *d = &ex->doc;
	uint32_t kind = WORD(m, i, 0), a = WORD(m, i, 1), b = WORD(m, i, 2);
	enum json_type t = json_type_of(d, r);
	const char *s = NULL;
	size_t n = 0;

	if (t == JSON_STRING) {
		s = json_string(d, r, &n);
		if (s == NULL)
			return vm_doc_failed(ex);
		if (vm_charge(ex, wildcard_cost(p, kind, a, n)) != 0)
			return -1;
	}
	switch (kind) {
	case VM_MATCH_EXACT:
		return vm_value_is_const(ex, r, &p->consts[a]);
	case VM_MATCH_PREFIX:
		return s && has_prefix(s, n, &p->consts[a]);
	case VM_MATCH_SUFFIX:
		return s && has_suffix(s, n, &p->consts[a]);
	case VM_MATCH_PREFIX_CI:
	case VM_MATCH_SUFFIX_CI:
	case VM_MATCH_EQUALS_CI:
		return s ? ci_match(ex, s, n, &p->consts[b]) : 0;
	case VM_MATCH_WILDCARD:
		return s && wildcard(s, n, p->consts[a].data,
				     p->consts[a].len);
	case VM_MATCH_CIDR:
		return s && in_cidr(s, n, &p->consts[a]);
	case VM_MATCH_NUMERIC: {
		double v;

		/* Numeric matching is documented for this range only. */
		if (t != JSON_NUMBER)
			return 0;
		v = json_number(d, r);
		if (!in_numeric_range(v))
			return 0;
		return numeric_op(v, a & 0xFF, p->consts[b].num) &&
		       ((a >> 8) == VM_NUM_NONE ||
			numeric_op(v, a >> 8, p->consts[WORD(m, i, 3)].num));
	}
	case VM_MATCH_BUT_VALUES:
		return but_values(ex, &p->consts[a], r, s, n);
	case VM_MATCH_BUT_EQUALS_CI: {
		int hit;

		if (s == NULL)
			return 1;
		hit = ci_match(ex, s, n, &p->consts[b]);
		return hit < 0 ? -1 : !hit;
	}
	case VM_MATCH_BUT_PREFIX:
	case VM_MATCH_BUT_SUFFIX:
	case VM_MATCH_BUT_WILDCARD:
		return s == NULL || !any_in_list(ex, &p->consts[a], s, n, kind);
	}
	return 0;
}

/* A field's values (ex->set[first..first+count]) against its matcher.
 * *pos: some value matches a test that needs a value (exists: true
 * included); *neg: the field has no value and allows that (exists:
 * false). Only leaves count: an object is not a value. */
static int field(struct vm_exec *ex, const struct vm_const *m, uint32_t first,
		 uint32_t count, int *pos, int *neg)
{
	struct json_doc *d = &ex->doc;
	uint32_t leaves = 0;

	/* The selection may be a cached one: pay for the pass over it. */
	if (vm_charge(ex, count / 64) != 0)
		return -1;
	for (uint32_t i = 0; i < count; i++)
		leaves += json_type_of(d, ex->set[first + i]) != JSON_OBJECT;
	*pos = *neg = 0;
	for (uint32_t e = 0; e < m->count; e++)
		if (WORD(m, e, 0) == VM_MATCH_EXISTS && WORD(m, e, 1) == 0)
			*neg = leaves == 0;
	for (uint32_t e = 0; e < m->count && !*pos; e++) {
		if (WORD(m, e, 0) == VM_MATCH_EXISTS) {
			*pos = WORD(m, e, 1) == 1 && leaves > 0;
			continue;
		}
		for (uint32_t i = 0; i < count && !*pos; i++) {
			json_ref r = ex->set[first + i];
			int hit;

			if (json_type_of(d, r) == JSON_OBJECT)
				continue;
			if (vm_charge(ex, 1) != 0)
				return -1;
			hit = entry_matches(ex, m, e, r);
			if (hit < 0)
				return -1;
			*pos = hit;
		}
	}
	return 0;
}

int vm_match(struct vm_exec *ex, uint32_t path, const struct vm_const *m)
{
	uint32_t first, count;
	int pos, neg;

	if (vm_load_path(ex, path, &first, &count) != 0 ||
	    field(ex, m, first, count, &pos, &neg) != 0)
		return -1;
	return pos || neg;
}

/* ---- patterns over arrays of objects ------------------------------------- */

/* When an array lies on the way to a pattern object with several terms,
 * the terms must hold in one element, as EventBridge matches arrays
 * (event-ruler's array-consistent matching). The object holds when some
 * element satisfies a combination of its terms with at least one field
 * that needs a value ("positive"); a combination of exists: false fields
 * only is judged over all elements at once, so that {"a": [{"exists":
 * false}]} under an array still means that no element has an a. In a
 * positive combination, exists: false means absent from that element.
 * Tree nodes are word offsets into the PATTERN constant. */

struct tree {
	struct vm_exec *ex;
	const struct vm_const *c;
};

/* The word after node `at` and its subtree. */
static uint32_t skip(const struct tree *t, uint32_t at)
{
	uint32_t n = NODE(t->c, at, 0) == VM_PT_FIELD ? 0 : NODE(t->c, at, 2);

	at += 3;
	while (n--)
		at = skip(t, at);
	return at;
}

/* Push, for each object of set[from..to), its values under node `at`'s
 * key (arrays crossed); objects only when `objects`. */
static int under(const struct tree *t, uint32_t at, uint32_t from, uint32_t to,
		 int objects)
{
	struct vm_exec *ex = t->ex;
	const struct vm_const *key = &ex->p->consts[NODE(t->c, at, 1)];

	for (uint32_t i = from; i < to; i++) {
		uint32_t base = ex->set_len, f, n;

		if (json_type_of(&ex->doc, ex->set[i]) != JSON_OBJECT)
			continue;
		if (vm_pattern_values(ex, ex->set[i], key->data, key->len, &f,
				      &n) != 0)
			return -1;
		if (!objects)
			continue;
		ex->set_len = base;
		for (uint32_t k = f; k < f + n; k++)
			if (json_type_of(&ex->doc, ex->set[k]) == JSON_OBJECT)
				ex->set[ex->set_len++] = ex->set[k];
	}
	return 0;
}

static int neg(const struct tree *t, uint32_t at, uint32_t from, uint32_t to);

/* Negative-only combinations of the terms of OBJ `at`, with every
 * absence judged over all the objects set[from..to). */
static int neg_terms(const struct tree *t, uint32_t at, uint32_t from,
		     uint32_t to)
{
	uint32_t n = NODE(t->c, at, 2);

	at += 3;
	while (n--) {
		int r = neg(t, at, from, to);

		if (r <= 0)
			return r;
		at = skip(t, at);
	}
	return 1;
}

static int neg(const struct tree *t, uint32_t at, uint32_t from, uint32_t to)
{
	struct vm_exec *ex = t->ex;
	uint32_t kind = NODE(t->c, at, 0), base = ex->set_len;
	int r = 0, p, q;

	if (vm_charge(ex, 1) != 0)
		return -1;
	if (kind == VM_PT_OR) {
		uint32_t n = NODE(t->c, at, 2), alt = at + 3;

		for (; n-- && r == 0; alt = skip(t, alt))
			r = neg_terms(t, alt, from, to);
		return r;
	}
	if (under(t, at, from, to, kind == VM_PT_OBJ) != 0)
		return -1;
	if (kind == VM_PT_OBJ)
		r = neg_terms(t, at, base, ex->set_len);
	else if (field(ex, &ex->p->consts[NODE(t->c, at, 2)], base,
		       ex->set_len - base, &p, &q) != 0)
		r = -1;
	else
		r = q;
	ex->set_len = base;
	return r;
}

static int pos_obj(const struct tree *t, uint32_t at, json_ref m);

/* An $or term at element m: some alternative holds positively (*p), or
 * negatively with its absences judged in m (*n). */
static int term_or(const struct tree *t, uint32_t at, json_ref m, int *p,
		   int *n)
{
	struct vm_exec *ex = t->ex;
	uint32_t k = NODE(t->c, at, 2), alt = at + 3, base = ex->set_len;
	int r;

	for (; k-- && !*p; alt = skip(t, alt)) {
		r = pos_obj(t, alt, m);
		if (r < 0)
			return -1;
		*p = r;
		if (*n)
			continue;
		if (vm_set_push(ex, m) != 0)
			return -1;
		r = neg_terms(t, alt, base, base + 1);
		ex->set_len = base;
		if (r < 0)
			return -1;
		*n = r;
	}
	return 0;
}

/* Term `at` of an object at element m: does it hold through a positive
 * combination (*p), through a negative-only one (*n)? */
static int term(const struct tree *t, uint32_t at, json_ref m, int *p, int *n)
{
	struct vm_exec *ex = t->ex;
	uint32_t kind = NODE(t->c, at, 0), base = ex->set_len;
	int r;

	*p = *n = 0;
	if (kind == VM_PT_OR)
		return term_or(t, at, m, p, n);
	if (vm_set_push(ex, m) != 0 || under(t, at, base, base + 1, 0) != 0)
		return -1;
	if (kind == VM_PT_FIELD) {
		r = field(ex, &ex->p->consts[NODE(t->c, at, 2)], base + 1,
			  ex->set_len - base - 1, p, n);
	} else {
		r = 0;
		for (uint32_t i = base + 1; i < ex->set_len && r == 0; i++)
			if (json_type_of(&ex->doc, ex->set[i]) == JSON_OBJECT)
				r = pos_obj(t, at, ex->set[i]);
		*p = r == 1;
		if (r >= 0)
			r = neg(t, at, base, base + 1);
		*n = r == 1;
	}
	ex->set_len = base;
	return r < 0 ? -1 : 0;
}

/* Does a positive combination of OBJ `at`'s terms hold at element m? */
static int pos_obj(const struct tree *t, uint32_t at, json_ref m)
{
	uint32_t n = NODE(t->c, at, 2);
	int any = 0, p, q;

	if (vm_charge(t->ex, 1) != 0)
		return -1;
	at += 3;
	while (n--) {
		if (term(t, at, m, &p, &q) != 0)
			return -1;
		if (!p && !q)
			return 0;
		any |= p;
		at = skip(t, at);
	}
	return any;
}

int vm_match_pattern(struct vm_exec *ex, uint32_t path,
		     const struct vm_const *c)
{
	struct tree t = { ex, c };
	uint32_t first, count, base;
	int r = 0;

	if (vm_load_path(ex, path, &first, &count) != 0)
		return -1;
	/* A cache miss appends the path's values and caches them: the
	 * scratch space above them is ours, they are not. */
	base = ex->set_len;
	for (uint32_t i = first; i < first + count && r == 0; i++)
		if (json_type_of(&ex->doc, ex->set[i]) == JSON_OBJECT)
			r = pos_obj(&t, 0, ex->set[i]);
	if (r == 0) {
		/* Judge absences over all the objects at the path. */
		for (uint32_t i = first; i < first + count && r == 0; i++)
			r = vm_set_push(ex, ex->set[i]);
		if (r == 0)
			r = neg_terms(&t, 0, base, ex->set_len);
	}
	ex->set_len = base;
	return r;
}

/* ---- sampling ------------------------------------------------------------ */

/* Keep an event when XXH3-64 (seed 0) of its key's UTF-8 bytes, modulo
 * 10000, is below rate x 100. The key is the first string value found at
 * the listed paths, in order; an event without one is not in the sample. */
int vm_sample(struct vm_exec *ex, const struct vm_const *rate,
	      const struct vm_const *paths)
{
	uint64_t threshold = (uint64_t)llround(rate->num * 100.0);

	for (uint32_t i = 0; i < paths->count; i++) {
		uint32_t first, count;

		if (vm_load_path(ex, vm_u32(paths->items + 4 * i), &first,
				 &count) != 0)
			return -1;
		for (uint32_t k = 0; k < count; k++) {
			json_ref r = ex->set[first + k];
			const char *s;
			size_t n;

			if (vm_charge(ex, 1) != 0)
				return -1;
			if (json_type_of(&ex->doc, r) != JSON_STRING)
				continue;
			s = json_string(&ex->doc, r, &n);
			if (s == NULL)
				return vm_doc_failed(ex);
			if (vm_charge(ex, n / 64) != 0)
				return -1;
			return XXH3_64bits(s, n) % 10000 < threshold;
		}
	}
	return 0;
}
