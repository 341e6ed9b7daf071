/* match.c - EventBridge event-pattern fields, and sampling.
 *
 * The compiler turns an event pattern into bytecode: one MATCH instruction
 * per field, joined by jumps for the pattern's ANDs and $ors. A MATCH
 * selects the field's values (looking through arrays, as EventBridge does)
 * and tests them against the field's matcher constant: a list of
 * comparisons, any of which may match any value.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "exec.h"

#define WORD(c, i, w) vm_u32((c)->items + 16 * (i) + 4 * (w))

/* ---- loading-time checks ----------------------------------------------- */

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
	return 1;
}

static int numop_ok(uint32_t op, int may_be_none)
{
	return (op >= VM_NUM_EQ && op <= VM_NUM_GE) ||
	       (may_be_none && op == VM_NUM_NONE);
}

int vm_check_matcher(const struct vm_program *p, const struct vm_const *c,
		     struct vm_error *err)
{
	for (uint32_t i = 0; i < c->count; i++) {
		uint32_t kind = WORD(c, i, 0), a = WORD(c, i, 1);
		uint32_t b = WORD(c, i, 2), x = WORD(c, i, 3);
		int ok;

		switch (kind) {
		case VM_MATCH_EXACT:
			ok = a < p->nconsts &&
			     p->consts[a].kind >= VM_K_NULL &&
			     p->consts[a].kind <= VM_K_STRING;
			break;
		case VM_MATCH_PREFIX:
		case VM_MATCH_SUFFIX:
		case VM_MATCH_PREFIX_CI:
		case VM_MATCH_SUFFIX_CI:
		case VM_MATCH_EQUALS_CI:
		case VM_MATCH_WILDCARD:
		case VM_MATCH_CIDR:
			ok = kind_is(p, a, VM_K_STRING);
			break;
		case VM_MATCH_NUMERIC:
			ok = numop_ok(a & 0xFF, 0) &&
			     numop_ok(a >> 8 & 0xFF, 1) && a >> 16 == 0 &&
			     kind_is(p, b, VM_K_NUMBER) &&
			     ((a >> 8) == VM_NUM_NONE ? x == VM_NONE
						      : kind_is(p, x,
								VM_K_NUMBER));
			break;
		case VM_MATCH_EXISTS:
			ok = a <= 1;
			break;
		case VM_MATCH_BUT_VALUES:
			ok = list_of(p, a, 1);
			break;
		case VM_MATCH_BUT_PREFIX:
		case VM_MATCH_BUT_SUFFIX:
		case VM_MATCH_BUT_EQUALS_CI:
		case VM_MATCH_BUT_WILDCARD:
			ok = list_of(p, a, 0);
			break;
		default:
			ok = 0;
			break;
		}
		if (!ok) {
			snprintf(err->msg, sizeof err->msg, "CONS section: "
				 "matcher entry %u (kind %u) is malformed", i,
				 kind);
			return -1;
		}
	}
	return 0;
}

/* ---- comparisons ------------------------------------------------------------ */

static int ascii_ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
			return 0;
	return 1;
}

static int has_prefix(const char *s, size_t n, const struct vm_const *p,
		      int ci)
{
	if (p->len > n)
		return 0;
	return ci ? ascii_ieq(s, p->data, p->len)
		  : memcmp(s, p->data, p->len) == 0;
}

static int has_suffix(const char *s, size_t n, const struct vm_const *p,
		      int ci)
{
	if (p->len > n)
		return 0;
	return ci ? ascii_ieq(s + n - p->len, p->data, p->len)
		  : memcmp(s + n - p->len, p->data, p->len) == 0;
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

static int numeric_op(double v, uint32_t op, double bound)
{
	switch (op) {
	case VM_NUM_EQ:
		return v == bound;
	case VM_NUM_LT:
		return v < bound;
	case VM_NUM_LE:
		return v <= bound;
	case VM_NUM_GT:
		return v > bound;
	case VM_NUM_GE:
		return v >= bound;
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
	na = vm_parse_ip(s, n, a);
	nb = vm_parse_ip(net->data, (size_t)(slash - net->data), b);
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

/* Is any string of list `l` related to s by `test`? */
static int any_in_list(struct vm_exec *ex, const struct vm_const *l,
		       const char *s, size_t n, int kind)
{
	for (uint32_t i = 0; i < l->count; i++) {
		const struct vm_const *c =
			&ex->p->consts[vm_u32(l->items + 4 * i)];
		int hit;

		switch (kind) {
		case VM_MATCH_BUT_PREFIX:
			hit = has_prefix(s, n, c, 0);
			break;
		case VM_MATCH_BUT_SUFFIX:
			hit = has_suffix(s, n, c, 0);
			break;
		case VM_MATCH_BUT_EQUALS_CI:
			hit = c->len == n && ascii_ieq(s, c->data, n);
			break;
		default:
			hit = wildcard(s, n, c->data, c->len);
			break;
		}
		if (hit)
			return 1;
	}
	return 0;
}

/* Does leaf value `r` satisfy entry `i` of matcher `m`? */
static int entry_matches(struct vm_exec *ex, const struct vm_const *m,
			 uint32_t i, json_ref r)
{
	const struct vm_program *p = ex->p;
	struct json_doc *d = &ex->doc;
	uint32_t kind = WORD(m, i, 0), a = WORD(m, i, 1);
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
	case VM_MATCH_PREFIX_CI:
		return s && has_prefix(s, n, &p->consts[a],
				       kind == VM_MATCH_PREFIX_CI);
	case VM_MATCH_SUFFIX:
	case VM_MATCH_SUFFIX_CI:
		return s && has_suffix(s, n, &p->consts[a],
				       kind == VM_MATCH_SUFFIX_CI);
	case VM_MATCH_EQUALS_CI:
		return s && p->consts[a].len == n &&
		       ascii_ieq(s, p->consts[a].data, n);
	case VM_MATCH_WILDCARD:
		return s && wildcard(s, n, p->consts[a].data,
				     p->consts[a].len);
	case VM_MATCH_CIDR:
		return s && in_cidr(s, n, &p->consts[a]);
	case VM_MATCH_NUMERIC: {
		double v;

		if (t != JSON_NUMBER)
			return 0;
		v = json_number(d, r);
		return numeric_op(v, a & 0xFF, p->consts[WORD(m, i, 2)].num) &&
		       ((a >> 8) == VM_NUM_NONE ||
			numeric_op(v, a >> 8, p->consts[WORD(m, i, 3)].num));
	}
	case VM_MATCH_BUT_VALUES: {
		const struct vm_const *l = &p->consts[a];

		for (uint32_t k = 0; k < l->count; k++) {
			int eq = vm_value_is_const(
				ex, r, &p->consts[vm_u32(l->items + 4 * k)]);

			if (eq != 0)
				return eq < 0 ? -1 : 0;
		}
		return 1;
	}
	case VM_MATCH_BUT_PREFIX:
	case VM_MATCH_BUT_SUFFIX:
	case VM_MATCH_BUT_EQUALS_CI:
	case VM_MATCH_BUT_WILDCARD:
		return s && !any_in_list(ex, &p->consts[a], s, n, (int)kind);
	}
	return 0;
}

int vm_match(struct vm_exec *ex, uint32_t path, const struct vm_const *m)
{
	struct json_doc *d = &ex->doc;
	uint32_t first, count, leaves = 0;

	if (vm_load_path(ex, path, &first, &count) != 0)
		return -1;
	/* Only leaves count: an object is not a value a pattern compares.
	 * The selection may be a cached one: pay for the pass over it. */
	if (vm_charge(ex, count / 64) != 0)
		return -1;
	for (uint32_t i = 0; i < count; i++)
		leaves += json_type_of(d, ex->set[first + i]) != JSON_OBJECT;

	for (uint32_t e = 0; e < m->count; e++) {
		if (WORD(m, e, 0) == VM_MATCH_EXISTS) {
			if ((leaves > 0) == (WORD(m, e, 1) == 1))
				return 1;
			continue;
		}
		for (uint32_t i = 0; i < count; i++) {
			json_ref r = ex->set[first + i];
			int hit;

			if (json_type_of(d, r) == JSON_OBJECT)
				continue;
			if (vm_charge(ex, 1) != 0)
				return -1;
			hit = entry_matches(ex, m, e, r);
			if (hit != 0)
				return hit;
		}
	}
	return 0;
}

/* ---- sampling ------------------------------------------------------------------ */

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
