/* pattern.c - EventBridge event patterns: validation and lowering.
 *
 * A pattern is a JSON object mirroring the event. Every field it names
 * must match (fields are ANDed); a field's array lists alternatives (ORed);
 * "$or" lists alternative sub-patterns. Each leaf field becomes one MATCH
 * instruction whose matcher constant holds that field's alternatives.
 *
 * Validation follows the EventBridge documentation on event patterns and
 * comparison operators; errors point at the offending part of the
 * pattern inside the policy.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../vm/alloc.h"
#include "../vm/ip.h"
#include "cc.h"

/* EventBridge refuses patterns whose $or alternatives multiply out to more
 * than this many combinations. */
#define MAX_OR_COMBINATIONS 1000

static void perr(struct cc *c, const struct dsl_json *at, const char *msg)
{
	dsl_diag(c->ctx, DSL_ERROR, at->span, "pattern", "%s", msg);
}

static int is_string(const struct dsl_json *j, const char *s)
{
	return j->kind == DJ_STRING && strlen(s) == j->len &&
	       memcmp(j->text, s, j->len) == 0;
}

static int key_is(const struct dsl_json *j, const char *s)
{
	return j->key && strlen(s) == j->keylen &&
	       memcmp(j->key, s, j->keylen) == 0;
}

/* Is this member a "$or" list of alternatives (an array of objects)? */
static int is_or(const struct dsl_json *m)
{
	if (!key_is(m, "$or") || m->kind != DJ_ARRAY)
		return 0;
	for (size_t i = 0; i < m->items.n; i++)
		if (((struct dsl_json *)m->items.items[i])->kind != DJ_OBJECT)
			return 0;
	return 1;
}

/* The member that counts: with duplicate keys, only the last one does. */
static int shadowed(const struct dsl_json *obj, size_t i)
{
	const struct dsl_json *m = obj->items.items[i];

	for (size_t k = i + 1; k < obj->items.n; k++) {
		const struct dsl_json *o = obj->items.items[k];

		if (o->keylen == m->keylen &&
		    memcmp(o->key, m->key, m->keylen) == 0)
			return 1;
	}
	return 0;
}

/* ---- validation ------------------------------------------------------------ */

static int check_wildcard(struct cc *c, const struct dsl_json *w)
{
	for (size_t i = 0; i < w->len; i++) {
		if (w->text[i] == '*' && i + 1 < w->len && w->text[i + 1] == '*') {
			perr(c, w, "a wildcard cannot have consecutive '*'");
			return -1;
		}
		if (w->text[i] == '\\') {
			if (i + 1 >= w->len ||
			    (w->text[i + 1] != '*' && w->text[i + 1] != '\\')) {
				perr(c, w, "in a wildcard, '\\' may only "
					   "escape '*' or '\\'");
				return -1;
			}
			i++;
		}
	}
	return 0;
}

static int check_cidr(struct cc *c, const struct dsl_json *v)
{
	const char *slash;
	unsigned char a[16];
	char *end;
	long bits;
	int n;

	if (v->kind != DJ_STRING) {
		perr(c, v, "cidr takes a string such as \"10.0.0.0/24\"");
		return -1;
	}
	slash = memchr(v->text, '/', v->len);
	n = slash ? vm_parse_ip(v->text, (size_t)(slash - v->text), a) : 0;
	bits = slash ? strtol(slash + 1, &end, 10) : -1;
	if (n == 0 || slash[1] < '0' || slash[1] > '9' ||
	    end != v->text + v->len || bits < 0 || bits > n * 8) {
		perr(c, v, "invalid CIDR block");
		return -1;
	}
	return 0;
}

static int numop(const struct dsl_json *j)
{
	static const char *const ops[] = { NULL, "=", "<", "<=", ">", ">=" };

	for (int i = 1; i <= VM_NUM_GE; i++)
		if (is_string(j, ops[i]))
			return i;
	return 0;
}

static int check_numeric(struct cc *c, const struct dsl_json *v)
{
	const struct dsl_json *op1, *op2;
	int o1, o2;

	if (v->kind != DJ_ARRAY || (v->items.n != 2 && v->items.n != 4)) {
		perr(c, v, "numeric takes [op, number] or [op, number, op, "
			   "number]");
		return -1;
	}
	for (size_t i = 0; i < v->items.n; i++) {
		const struct dsl_json *x = v->items.items[i];

		if (i % 2 == 0 && numop(x) == 0) {
			perr(c, x, "expected one of \"=\", \"<\", \"<=\", "
				   "\">\", \">=\"");
			return -1;
		}
		if (i % 2 == 1 && x->kind != DJ_NUMBER) {
			perr(c, x, "numeric compares with a JSON number");
			return -1;
		}
	}
	if (v->items.n == 2)
		return 0;
	op1 = v->items.items[0];
	op2 = v->items.items[2];
	o1 = numop(op1);
	o2 = numop(op2);
	if (o1 == VM_NUM_EQ || o2 == VM_NUM_EQ ||
	    !((o1 == VM_NUM_GT || o1 == VM_NUM_GE) &&
	      (o2 == VM_NUM_LT || o2 == VM_NUM_LE))) {
		perr(c, op2, "a numeric range is a lower bound (\">\" or "
			     "\">=\") then an upper bound (\"<\" or \"<=\")");
		return -1;
	}
	if (strtod(((struct dsl_json *)v->items.items[1])->text, NULL) >=
	    strtod(((struct dsl_json *)v->items.items[3])->text, NULL)) {
		perr(c, v, "the numeric range is empty (lower bound not "
			   "below the upper one)");
		return -1;
	}
	return 0;
}

/* A string, or with allow_list a non-empty array of strings. */
static int strings(struct cc *c, const struct dsl_json *v, int allow_list,
		   const char *what)
{
	if (v->kind == DJ_STRING)
		return 0;
	if (allow_list && v->kind == DJ_ARRAY && v->items.n > 0) {
		for (size_t i = 0; i < v->items.n; i++)
			if (((struct dsl_json *)v->items.items[i])->kind !=
			    DJ_STRING)
				break;
			else if (i + 1 == v->items.n)
				return 0;
	}
	perr(c, v, what);
	return -1;
}

static int check_anything_but(struct cc *c, const struct dsl_json *v)
{
	const struct dsl_json *inner;

	switch (v->kind) {
	case DJ_STRING:
	case DJ_NUMBER:
		return 0;
	case DJ_ARRAY: {
		int kinds = 0;

		for (size_t i = 0; i < v->items.n; i++) {
			const struct dsl_json *x = v->items.items[i];

			if (x->kind == DJ_STRING)
				kinds |= 1;
			else if (x->kind == DJ_NUMBER)
				kinds |= 2;
			else
				kinds |= 4;
		}
		if (v->items.n == 0 || (kinds != 1 && kinds != 2)) {
			perr(c, v, "anything-but takes a list of strings or "
				   "a list of numbers");
			return -1;
		}
		return 0;
	}
	case DJ_OBJECT:
		if (v->items.n != 1)
			break;
		inner = v->items.items[0];
		if (key_is(inner, "prefix") || key_is(inner, "suffix") ||
		    key_is(inner, "equals-ignore-case"))
			return strings(c, inner, 1, "expected a string or a "
					  "list of strings");
		if (key_is(inner, "wildcard")) {
			if (strings(c, inner, 1, "expected a string or a "
				    "list of strings") != 0)
				return -1;
			if (inner->kind == DJ_STRING)
				return check_wildcard(c, inner);
			for (size_t i = 0; i < inner->items.n; i++)
				if (check_wildcard(c, inner->items.items[i]))
					return -1;
			return 0;
		}
		break;
	default:
		break;
	}
	perr(c, v, "anything-but takes a value, a list, or one of prefix, "
		   "suffix, equals-ignore-case, wildcard");
	return -1;
}

/* One element of a field's array: a value or an operator object. */
static int check_matcher(struct cc *c, const struct dsl_json *el)
{
	const struct dsl_json *op, *v;

	if (el->kind == DJ_ARRAY) {
		perr(c, el, "a pattern value cannot be an array inside the "
			    "field's array");
		return -1;
	}
	if (el->kind != DJ_OBJECT)
		return 0;
	if (el->items.n != 1) {
		perr(c, el, "an operator object has exactly one operator");
		return -1;
	}
	op = el->items.items[0];
	v = op;
	if (key_is(op, "prefix") || key_is(op, "suffix")) {
		if (v->kind == DJ_OBJECT && v->items.n == 1 &&
		    key_is(v->items.items[0], "equals-ignore-case"))
			return strings(c, v->items.items[0], 0,
				       "equals-ignore-case takes a string");
		return strings(c, v, 0, "expected a string (or "
				  "{\"equals-ignore-case\": string})");
	}
	if (key_is(op, "equals-ignore-case"))
		return strings(c, v, 0, "equals-ignore-case takes a string");
	if (key_is(op, "wildcard"))
		return strings(c, v, 0, "wildcard takes a string") ||
		       check_wildcard(c, v);
	if (key_is(op, "anything-but"))
		return check_anything_but(c, v);
	if (key_is(op, "numeric"))
		return check_numeric(c, v);
	if (key_is(op, "exists")) {
		if (v->kind != DJ_TRUE && v->kind != DJ_FALSE) {
			perr(c, v, "exists takes true or false");
			return -1;
		}
		return 0;
	}
	if (key_is(op, "cidr"))
		return check_cidr(c, v);
	dsl_diag(c->ctx, DSL_ERROR, op->key_span, "pattern",
		 "unknown pattern operator '%.*s'", (int)op->keylen, op->key);
	return -1;
}

/* Validate; on success *combos is how many $or combinations it has. */
static int check_object(struct cc *c, const struct dsl_json *obj,
			double *combos)
{
	int bad = 0;

	*combos = 1;
	for (size_t i = 0; i < obj->items.n; i++) {
		const struct dsl_json *m = obj->items.items[i];

		if (shadowed(obj, i))
			continue;
		if (key_is(m, "$or") && m->kind == DJ_ARRAY) {
			double sum = 0;

			if (!is_or(m) || m->items.n < 2) {
				perr(c, m, "$or takes a list of at least two "
					   "patterns");
				bad = 1;
				continue;
			}
			for (size_t k = 0; k < m->items.n; k++) {
				double sub;

				if (check_object(c, m->items.items[k], &sub))
					bad = 1;
				sum += sub;
			}
			*combos *= sum;
			continue;
		}
		if (m->kind == DJ_OBJECT) {
			double sub;

			if (m->items.n == 0) {
				perr(c, m, "an empty object matches nothing: "
					   "name at least one field");
				bad = 1;
			} else if (check_object(c, m, &sub)) {
				bad = 1;
			} else {
				*combos *= sub;
			}
			continue;
		}
		if (m->kind != DJ_ARRAY) {
			dsl_diag(c->ctx, DSL_ERROR, m->span, "pattern",
				 "pattern values are arrays: write "
				 "[%s] instead", m->kind == DJ_STRING ?
				 "\"...\"" : "...");
			bad = 1;
			continue;
		}
		if (m->items.n == 0) {
			perr(c, m, "an empty array matches nothing");
			bad = 1;
			continue;
		}
		for (size_t k = 0; k < m->items.n; k++)
			if (check_matcher(c, m->items.items[k]) != 0)
				bad = 1;
	}
	return bad ? -1 : 0;
}

int cc_check_pattern(struct cc *c, const struct dsl_json *pattern)
{
	double combos;

	if (pattern->kind != DJ_OBJECT) {
		perr(c, pattern, "an event pattern is a JSON object");
		return -1;
	}
	if (check_object(c, pattern, &combos) != 0)
		return -1;
	if (combos > MAX_OR_COMBINATIONS) {
		dsl_diag(c->ctx, DSL_ERROR, pattern->span, "pattern",
			 "$or expands to %.0f combinations; EventBridge "
			 "allows at most %d", combos, MAX_OR_COMBINATIONS);
		return -1;
	}
	return 0;
}

/* ---- lowering ---------------------------------------------------------------- */

/* The keys leading to the current object, for pattern paths. */
struct keys {
	const char *name[64];
	size_t len[64];
	size_t n;
};

static uint32_t string_list(struct cc *c, const struct dsl_json *v)
{
	uint32_t w[256];
	size_t n = 0;

	if (v->kind != DJ_ARRAY) {
		w[n++] = cc_value(&c->emit, v);
	} else {
		for (size_t i = 0; i < v->items.n && n < 256; i++)
			w[n++] = cc_value(&c->emit, v->items.items[i]);
	}
	return cc_words(&c->emit, VM_K_LIST, w, n);
}

/* One alternative of a field as a matcher entry (4 words). */
static void entry(struct cc *c, const struct dsl_json *el, uint32_t *w)
{
	const struct dsl_json *op, *v;

	w[1] = w[2] = w[3] = VM_NONE;
	if (el->kind != DJ_OBJECT) {
		w[0] = VM_MATCH_EXACT;
		w[1] = cc_value(&c->emit, el);
		return;
	}
	op = el->items.items[0];
	v = op;
	if (key_is(op, "prefix") || key_is(op, "suffix")) {
		int ci = v->kind == DJ_OBJECT;

		if (ci)
			v = v->items.items[0];
		w[0] = key_is(op, "prefix")
		       ? (ci ? VM_MATCH_PREFIX_CI : VM_MATCH_PREFIX)
		       : (ci ? VM_MATCH_SUFFIX_CI : VM_MATCH_SUFFIX);
		w[1] = cc_value(&c->emit, v);
	} else if (key_is(op, "equals-ignore-case")) {
		w[0] = VM_MATCH_EQUALS_CI;
		w[1] = cc_value(&c->emit, v);
	} else if (key_is(op, "wildcard")) {
		w[0] = VM_MATCH_WILDCARD;
		w[1] = cc_value(&c->emit, v);
	} else if (key_is(op, "cidr")) {
		w[0] = VM_MATCH_CIDR;
		w[1] = cc_value(&c->emit, v);
	} else if (key_is(op, "exists")) {
		w[0] = VM_MATCH_EXISTS;
		w[1] = v->kind == DJ_TRUE;
	} else if (key_is(op, "numeric")) {
		w[0] = VM_MATCH_NUMERIC;
		w[1] = (uint32_t)numop(v->items.items[0]);
		w[2] = cc_value(&c->emit, v->items.items[1]);
		if (v->items.n == 4) {
			w[1] |= (uint32_t)numop(v->items.items[2]) << 8;
			w[3] = cc_value(&c->emit, v->items.items[3]);
		}
	} else {
		/* anything-but */
		if (v->kind == DJ_OBJECT) {
			const struct dsl_json *in = v->items.items[0];

			w[0] = key_is(in, "prefix") ? VM_MATCH_BUT_PREFIX
			       : key_is(in, "suffix") ? VM_MATCH_BUT_SUFFIX
			       : key_is(in, "wildcard") ? VM_MATCH_BUT_WILDCARD
			       : VM_MATCH_BUT_EQUALS_CI;
			w[1] = string_list(c, in);
		} else {
			w[0] = VM_MATCH_BUT_VALUES;
			w[1] = string_list(c, v);
		}
	}
}

static void lower_field(struct cc *c, const struct dsl_json *m,
			struct keys *k)
{
	uint32_t *w = scrub_malloc(m->items.n * 4 * sizeof *w);
	uint32_t path, matcher;

	if (w == NULL) {
		c->emit.failed = 1;
		return;
	}
	for (size_t i = 0; i < m->items.n; i++)
		entry(c, m->items.items[i], w + 4 * i);
	matcher = cc_words(&c->emit, VM_K_MATCHER, w, m->items.n);
	free(w);
	path = cc_pattern_path(&c->emit, k->name, k->len, k->n);
	cc_op(&c->emit, OP_MATCH, path, matcher);
}

static void lower_object(struct cc *c, const struct dsl_json *obj,
			 struct keys *k);

/* Emit `terms` joined by and/or: each pushes a boolean; a short circuit
 * jumps to the end keeping the deciding value. */
static void join(struct cc *c, enum vm_opcode keep_jump, size_t n,
		 void (*term)(struct cc *, const void *, size_t, void *),
		 const void *arg, void *extra)
{
	uint32_t *jumps = scrub_malloc((n ? n : 1) * sizeof *jumps);
	uint32_t end;

	if (jumps == NULL) {
		c->emit.failed = 1;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		term(c, arg, i, extra);
		if (i + 1 < n)
			jumps[i] = cc_op(&c->emit, keep_jump, 0u);
	}
	end = cc_pc(&c->emit);
	for (size_t i = 0; i + 1 < n; i++)
		cc_patch(&c->emit, jumps[i], end);
	free(jumps);
}

static void or_term(struct cc *c, const void *arg, size_t i, void *extra)
{
	const struct dsl_json *m = arg;

	lower_object(c, m->items.items[i], extra);
}

/* The members that count (not shadowed by a later duplicate). */
static size_t live_members(const struct dsl_json *obj,
			   const struct dsl_json **out)
{
	size_t n = 0;

	for (size_t i = 0; i < obj->items.n; i++)
		if (!shadowed(obj, i))
			out[n++] = obj->items.items[i];
	return n;
}

struct and_arg {
	const struct dsl_json **members;
};

static void and_term(struct cc *c, const void *arg, size_t i, void *extra)
{
	const struct and_arg *a = arg;
	const struct dsl_json *m = a->members[i];
	struct keys *k = extra;

	if (is_or(m)) {
		join(c, OP_JUMP_TRUE_KEEP, m->items.n, or_term, m, k);
		return;
	}
	if (k->n == 64) {
		c->emit.failed = 1;
		return;
	}
	k->name[k->n] = m->key;
	k->len[k->n] = m->keylen;
	k->n++;
	if (m->kind == DJ_OBJECT)
		lower_object(c, m, k);
	else
		lower_field(c, m, k);
	k->n--;
}

static void lower_object(struct cc *c, const struct dsl_json *obj,
			 struct keys *k)
{
	const struct dsl_json **members;
	struct and_arg a;
	size_t n;

	members = scrub_malloc((obj->items.n ? obj->items.n : 1) *
			       sizeof *members);
	if (members == NULL) {
		c->emit.failed = 1;
		return;
	}
	n = live_members(obj, members);
	if (n == 0) {
		/* {} names no field, so every event matches it. */
		cc_op(&c->emit, OP_BOOL, 1u);
	} else {
		a.members = members;
		join(c, OP_JUMP_FALSE_KEEP, n, and_term, &a, k);
	}
	free(members);
}

void cc_lower_pattern(struct cc *c, const struct dsl_json *pattern)
{
	struct keys k;

	k.n = 0;
	lower_object(c, pattern, &k);
}
