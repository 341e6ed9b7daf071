/* pattern.c - EventBridge event patterns: validation and lowering.
 *
 * A pattern is a JSON object mirroring the event. Every field it names
 * must match (fields are ANDed); a field's array lists alternatives (ORed);
 * "$or" lists alternative sub-patterns. Validation follows the EventBridge
 * user guide (event patterns, comparison operators) and, where the guide
 * is silent, the service's own parser (aws/event-ruler's
 * JsonRuleCompiler, whose messages the service returns). Errors point at
 * the offending part of the pattern inside the policy.
 *
 * The pattern is first normalised into a tree (struct pnode): keys are
 * split at dots ({"a.b": ..} names the same field as {"a": {"b": ..}}),
 * objects under one key are merged, and a field named twice keeps its
 * last definition. Each leaf field then becomes one MATCH instruction
 * whose matcher constant holds the field's alternatives; ANDs and $ors
 * become short-circuit jumps. Paths are interned, so every pattern of a
 * policy that reads a field shares its look-up at run time.
 *
 * Fields matched inside an array of objects must come from one element
 * (see README, "Event patterns"). The jump code is exact whenever the
 * event has no array on the way to an object with several fields, so each
 * such object is guarded: ARRAYS tests its path, and only when an array
 * lies on it does PATTERN evaluate the object's tree element by element.
 */
#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>

#include "../vm/alloc.h"
#include "../vm/ip.h"
#include "cc.h"

/* EventBridge refuses patterns whose $or alternatives multiply out to more
 * than this many combinations. */
#define MAX_OR_COMBINATIONS 1000
/* The documented domain of numeric matching. */
#define NUMERIC_LIMIT 5.0e9
#define NUMERIC_DECIMALS 6
/* Fields nested deeper than this are refused (the tree is walked
 * recursively, here and in the VM). */
#define MAX_DEPTH VM_PATTERN_MAX_DEPTH

static const char *const operators[] = {
	"prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but",
	"numeric", "exists", "cidr", NULL,
};

/* Names EventBridge's matcher keeps for operators it has or may add; it
 * refuses them as field names inside $or (event-ruler's
 * RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP), as it does the operators. */
static const char *const reserved_in_or[] = {
	"exactly", "=", "<", "<=", ">", ">=", "regex", "not-wildcard",
	"not-equals-ignore-case", "date-after", "date-on-or-after",
	"date-before", "date-on-or-before", "in-date-range",
	"ip-address-in-range", "ip-address-not-in-range", NULL,
};

/* ---- the normalised tree ------------------------------------------------- */

enum pn_kind { PN_OBJ, PN_FIELD, PN_OR };

struct pnode {
	enum pn_kind kind;
	const char *seg;		/* one key segment; none for an $or
					 * alternative */
	size_t seglen;
	const struct dsl_json *json;	/* FIELD: its array; OR: the
					 * member */
	struct dsl_list kids;		/* OBJ: terms; OR: alternatives */
};

struct pb {				/* building and lowering state */
	struct cc *c;
	int quiet;			/* lowering: already validated */
	int bad;
};

/* Report an error in a pattern; the diagnostic is returned for a hint
 * (NULL when quiet, past the error cap or out of memory). */
static struct dsl_diag *perr(struct pb *b, struct dsl_span at,
			     const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static struct dsl_diag *perr(struct pb *b, struct dsl_span at,
			     const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	b->bad = 1;
	if (b->quiet)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return dsl_diag(b->c->ctx, DSL_ERROR, at, "pattern", "%s", msg);
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

static int is_operator(const struct dsl_json *m)
{
	for (size_t i = 0; operators[i]; i++)
		if (key_is(m, operators[i]))
			return 1;
	return 0;
}

static int is_reserved_in_or(const struct dsl_json *m)
{
	for (size_t i = 0; reserved_in_or[i]; i++)
		if (key_is(m, reserved_in_or[i]))
			return 1;
	return 0;
}

static struct dsl_json *item(const struct dsl_json *j, size_t i)
{
	return j->items.items[i];
}

static struct pnode *kid(const struct pnode *n, size_t i)
{
	return n->kids.items[i];
}

/* Out of memory: the compile fails (sticky), and so does this pattern.
 * Returns -1, for the callers that return it. */
static int no_memory(struct pb *b)
{
	b->c->emit.failed = 1;
	b->bad = 1;
	return -1;
}

static struct pnode *new_node(struct pb *b, enum pn_kind kind,
			      const char *seg, size_t len)
{
	struct pnode *n = dsl_alloc(&b->c->arena, sizeof *n);

	if (n == NULL) {
		no_memory(b);
		return NULL;
	}
	n->kind = kind;
	n->seg = seg;
	n->seglen = len;
	return n;
}

static void add_kid(struct pb *b, struct pnode *parent, struct pnode *n)
{
	if (n && dsl_list_push(&b->c->arena, &parent->kids, n) != 0)
		no_memory(b);
}

/* The child of `o` of this kind named `seg`, created when missing. A field
 * named again replaces the earlier one (the last definition counts). */
static struct pnode *child(struct pb *b, struct pnode *o, enum pn_kind kind,
			   const char *seg, size_t len)
{
	struct pnode *n;

	for (size_t i = 0; i < o->kids.n; i++) {
		n = kid(o, i);
		if (n->kind == kind && n->seglen == len &&
		    memcmp(n->seg, seg, len) == 0)
			return n;
	}
	n = new_node(b, kind, seg, len);
	add_kid(b, o, n);
	return n;
}

/* ---- validation of one field's values ------------------------------------ */

static int check_wildcard(struct pb *b, const struct dsl_json *w)
{
	for (size_t i = 0; i < w->len; i++) {
		if (w->text[i] == '*' && i + 1 < w->len &&
		    w->text[i + 1] == '*') {
			perr(b, w->span, "a wildcard cannot have consecutive "
			     "'*'");
			return -1;
		}
		if (w->text[i] == '\\') {
			if (i + 1 >= w->len || (w->text[i + 1] != '*' &&
						w->text[i + 1] != '\\')) {
				perr(b, w->span, "in a wildcard, '\\' may only "
				     "escape '*' or '\\'");
				return -1;
			}
			i++;
		}
	}
	return 0;
}

/* Parse "ADDRESS/LENGTH" into the address bytes; returns 4 or 16 (the
 * family), or 0 after reporting why not. */
static int parse_cidr(struct pb *b, const struct dsl_json *v,
		      unsigned char a[16], long *bits)
{
	const char *slash = memchr(v->text, '/', v->len);
	const char *end = v->text + v->len;
	int n;

	if (slash == NULL || slash + 1 == end || end - slash > 4) {
		perr(b, v->span, "invalid CIDR block: expected ADDRESS/"
		     "PREFIX-LENGTH, such as \"10.0.0.0/24\"");
		return 0;
	}
	*bits = 0;
	for (const char *p = slash + 1; p < end; p++) {
		if (*p < '0' || *p > '9') {
			perr(b, v->span, "invalid CIDR block: the prefix "
			     "length is not a number");
			return 0;
		}
		*bits = *bits * 10 + (*p - '0');
	}
	n = vm_parse_cidr_ip(v->text, (size_t)(slash - v->text), a);
	if (n == 0 && vm_parse_ip(v->text, (size_t)(slash - v->text), a)) {
		perr(b, v->span, "invalid CIDR block: EventBridge takes an "
		     "IPv6 address in hex digits and colons only, not '%.*s'",
		     (int)(slash - v->text), v->text);
		return 0;
	}
	if (n == 0) {
		perr(b, v->span, "invalid CIDR block: '%.*s' is not an IPv4 "
		     "or IPv6 address", (int)(slash - v->text), v->text);
		return 0;
	}
	return n;
}

/* EventBridge takes prefix lengths below the address size (a /32 or /128
 * names one address: match it as an exact value). Host bits set below
 * the prefix are ignored: "10.0.0.7/24" is the block 10.0.0.0/24, as
 * EventBridge's matcher takes it (event-ruler floors the range). */
static int check_cidr(struct pb *b, const struct dsl_json *v)
{
	unsigned char a[16];
	long bits;
	int n;

	if (v->kind != DJ_STRING) {
		perr(b, v->span, "cidr takes a string such as "
		     "\"10.0.0.0/24\"");
		return -1;
	}
	n = parse_cidr(b, v, a, &bits);
	if (n == 0)
		return -1;
	if (bits >= n * 8 && n == 4 && memchr(v->text, ':', v->len)) {
		perr(b, v->span, "an IPv4-mapped IPv6 address is IPv4 to "
		     "EventBridge: the CIDR prefix length must be below 32");
		return -1;
	}
	if (bits >= n * 8) {
		perr(b, v->span, "a CIDR prefix length must be below %d for "
		     "%s; match a single address as an exact value", n * 8,
		     n == 4 ? "IPv4" : "IPv6");
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

/* Digits after the decimal point a JSON number needs, from its spelling
 * (so 3.018e2 needs 1 and 1.50 needs 1). */
static long decimals(const char *s, size_t n)
{
	size_t i = s[0] == '-', ndig = 0, point = 0, last = 0;
	long exp = 0;
	int seen_point = 0, esign = 1;

	for (; i < n && s[i] != 'e' && s[i] != 'E'; i++) {
		if (s[i] == '.') {
			seen_point = 1;
			continue;
		}
		ndig++;
		if (!seen_point)
			point++;
		if (s[i] != '0')
			last = ndig;
	}
	if (i < n) {
		i++;
		if (s[i] == '-' || s[i] == '+')
			esign = s[i++] == '-' ? -1 : 1;
		for (; i < n && exp < 100000; i++)
			exp = exp * 10 + (s[i] - '0');
	}
	if (last == 0)
		return 0;	/* zero */
	return (long)last - ((long)point + esign * exp) > 0 ?
	       (long)last - ((long)point + esign * exp) : 0;
}

static int check_bound(struct pb *b, const struct dsl_json *x)
{
	if (x->kind != DJ_NUMBER) {
		perr(b, x->span, "numeric compares with a JSON number");
		return -1;
	}
	if (!(fabs(strtod(x->text, NULL)) <= NUMERIC_LIMIT)) {
		perr(b, x->span, "numeric matching is limited to values "
		     "between -5.0e9 and 5.0e9");
		return -1;
	}
	if (decimals(x->text, x->len) > NUMERIC_DECIMALS) {
		perr(b, x->span, "numeric matching has at most %d digits "
		     "after the decimal point", NUMERIC_DECIMALS);
		return -1;
	}
	return 0;
}

static int check_numeric(struct pb *b, const struct dsl_json *v)
{
	int o1, o2;

	if (v->kind != DJ_ARRAY || (v->items.n != 2 && v->items.n != 4)) {
		perr(b, v->span, "numeric takes [OP, NUMBER] or [\">\" or "
		     "\">=\", NUMBER, \"<\" or \"<=\", NUMBER]");
		return -1;
	}
	for (size_t i = 0; i < v->items.n; i++) {
		if (i % 2 == 0 && numop(item(v, i)) == 0) {
			perr(b, item(v, i)->span, "expected one of \"=\", "
			     "\"<\", \"<=\", \">\", \">=\"");
			return -1;
		}
		if (i % 2 == 1 && check_bound(b, item(v, i)) != 0)
			return -1;
	}
	if (v->items.n == 2)
		return 0;
	o1 = numop(item(v, 0));
	o2 = numop(item(v, 2));
	if (!((o1 == VM_NUM_GT || o1 == VM_NUM_GE) &&
	      (o2 == VM_NUM_LT || o2 == VM_NUM_LE))) {
		perr(b, item(v, 2)->span, "a numeric range is a lower bound "
		     "(\">\" or \">=\") then an upper bound (\"<\" or "
		     "\"<=\")");
		return -1;
	}
	if (strtod(item(v, 1)->text, NULL) >= strtod(item(v, 3)->text,
						      NULL)) {
		perr(b, v->span, "a numeric range's lower bound must be "
		     "below its upper bound");
		return -1;
	}
	return 0;
}

/* A string, or a non-empty array of strings. */
static int strings(struct pb *b, const struct dsl_json *v, int nonempty)
{
	if (v->kind == DJ_STRING && (!nonempty || v->len > 0))
		return 0;
	if (v->kind == DJ_ARRAY && v->items.n > 0) {
		size_t i;

		for (i = 0; i < v->items.n; i++)
			if (item(v, i)->kind != DJ_STRING ||
			    (nonempty && item(v, i)->len == 0))
				break;
		if (i == v->items.n)
			return 0;
		v = item(v, i);
	}
	if (nonempty && v->kind == DJ_STRING)
		perr(b, v->span, "anything-but prefix and suffix cannot be "
		     "empty");
	else
		perr(b, v->span, "expected a string or a non-empty list of "
		     "strings");
	return -1;
}

/* EventBridge refuses empty arrays wherever values are listed. */
static int nonempty(struct pb *b, const struct dsl_json *v)
{
	if (v->items.n > 0)
		return 0;
	perr(b, v->span, "empty arrays are not allowed");
	return -1;
}

static int check_but_list(struct pb *b, const struct dsl_json *v)
{
	int kinds = 0;

	if (nonempty(b, v) != 0)
		return -1;
	for (size_t i = 0; i < v->items.n; i++)
		kinds |= item(v, i)->kind == DJ_STRING ? 1 :
			 item(v, i)->kind == DJ_NUMBER ? 2 : 4;
	if (kinds != 1 && kinds != 2) {
		perr(b, v->span, "anything-but takes a list of strings or a "
		     "list of numbers");
		return -1;
	}
	/* Numbers are compared as numeric matching compares them, within
	 * its limits (event-ruler's ComparableNumber). */
	for (size_t i = 0; kinds == 2 && i < v->items.n; i++)
		if (check_bound(b, item(v, i)) != 0)
			return -1;
	return 0;
}

static int check_anything_but(struct pb *b, const struct dsl_json *v)
{
	const struct dsl_json *in;

	switch (v->kind) {
	case DJ_STRING:
		return 0;
	case DJ_NUMBER:
		return check_bound(b, v);
	case DJ_ARRAY:
		return check_but_list(b, v);
	case DJ_OBJECT:
		break;
	default:
		perr(b, v->span, "anything-but takes a string, a number, a "
		     "list of either, or an object with prefix, suffix, "
		     "equals-ignore-case or wildcard");
		return -1;
	}
	if (v->items.n != 1) {
		perr(b, v->span, "an operator object has exactly one "
		     "operator");
		return -1;
	}
	in = item(v, 0);
	if (key_is(in, "prefix") || key_is(in, "suffix"))
		return strings(b, in, 1);
	if (key_is(in, "equals-ignore-case"))
		return strings(b, in, 0);
	if (key_is(in, "wildcard")) {
		if (strings(b, in, 0) != 0)
			return -1;
		if (in->kind == DJ_STRING)
			return check_wildcard(b, in);
		for (size_t i = 0; i < in->items.n; i++)
			if (check_wildcard(b, item(in, i)) != 0)
				return -1;
		return 0;
	}
	perr(b, in->key_span, "anything-but cannot be combined with '%.*s'; "
	     "it takes prefix, suffix, equals-ignore-case or wildcard",
	     (int)in->keylen, in->key);
	return -1;
}

/* prefix and suffix: a string, or {"equals-ignore-case": string}. */
static int check_affix(struct pb *b, const struct dsl_json *v)
{
	if (v->kind == DJ_STRING)
		return 0;
	if (v->kind == DJ_OBJECT && v->items.n == 1 &&
	    key_is(item(v, 0), "equals-ignore-case")) {
		if (item(v, 0)->kind == DJ_STRING)
			return 0;
		perr(b, item(v, 0)->span, "equals-ignore-case takes a "
		     "string");
		return -1;
	}
	perr(b, v->span, "%.*s takes a string or {\"equals-ignore-case\": "
	     "STRING}", (int)v->keylen, v->key);
	return -1;
}

/* One element of a field's array: a value or an operator object. */
static int check_matcher(struct pb *b, const struct dsl_json *el)
{
	const struct dsl_json *op;
	const char *near;
	struct dsl_diag *d;

	if (el->kind == DJ_ARRAY) {
		perr(b, el->span, "a pattern value cannot be an array inside "
		     "the field's array");
		return -1;
	}
	if (el->kind != DJ_OBJECT)
		return 0;
	if (el->items.n != 1) {
		perr(b, el->span, "an operator object has exactly one "
		     "operator");
		return -1;
	}
	op = item(el, 0);
	if (key_is(op, "prefix") || key_is(op, "suffix"))
		return check_affix(b, op);
	if (key_is(op, "equals-ignore-case")) {
		if (op->kind == DJ_STRING)
			return 0;
		perr(b, op->span, "equals-ignore-case takes a string");
		return -1;
	}
	if (key_is(op, "wildcard")) {
		if (op->kind == DJ_STRING)
			return check_wildcard(b, op);
		perr(b, op->span, "wildcard takes a string");
		return -1;
	}
	if (key_is(op, "anything-but"))
		return check_anything_but(b, op);
	if (key_is(op, "numeric"))
		return check_numeric(b, op);
	if (key_is(op, "exists")) {
		if (op->kind == DJ_TRUE || op->kind == DJ_FALSE)
			return 0;
		perr(b, op->span, "exists takes true or false");
		return -1;
	}
	if (key_is(op, "cidr"))
		return check_cidr(b, op);
	near = dsl_nearest(op->key, op->keylen, operators);
	d = perr(b, op->key_span, "unknown pattern operator '%.*s'",
		 (int)op->keylen, op->key);
	if (near)
		dsl_diag_hint(b->c->ctx, d, "did you mean '%s'?", near);
	return -1;
}

static int check_values(struct pb *b, const struct dsl_json *m)
{
	int bad = 0;

	if (nonempty(b, m) != 0)
		return -1;
	for (size_t k = 0; k < m->items.n; k++)
		if (check_matcher(b, item(m, k)) != 0)
			bad = 1;
	return bad ? -1 : 0;
}

/* ---- building the tree --------------------------------------------------- */

static void build(struct pb *b, const struct dsl_json *obj, struct pnode *o,
		  int in_or, int depth);

/* "$or": an array of at least two non-empty pattern objects. */
static void build_or(struct pb *b, const struct dsl_json *m, struct pnode *o,
		     int depth)
{
	struct pnode *or;

	if (m->kind != DJ_ARRAY || m->items.n < 2) {
		perr(b, m->span, "$or takes a list of at least two patterns");
		return;
	}
	or = new_node(b, PN_OR, NULL, 0);
	if (or == NULL)
		return;
	or->json = m;
	for (size_t i = 0; i < m->items.n; i++) {
		const struct dsl_json *alt = item(m, i);
		struct pnode *a;

		if (alt->kind != DJ_OBJECT) {
			perr(b, alt->span, "each $or alternative is a pattern "
			     "object");
			continue;
		}
		a = new_node(b, PN_OBJ, NULL, 0);
		if (a == NULL)
			return;
		build(b, alt, a, 1, depth + 1);
		add_kid(b, or, a);
	}
	add_kid(b, o, or);
}

/* Member `m` of a pattern object, under `o`: its key's segments lead to a
 * field (an array of values) or to an object merged with any other one
 * of the same name. */
static void build_member(struct pb *b, const struct dsl_json *m,
			 struct pnode *o, int in_or, int depth)
{
	const char *k = m->key, *end = m->key + m->keylen, *dot;

	if (m->kind != DJ_ARRAY && m->kind != DJ_OBJECT) {
		perr(b, m->span, "pattern values are arrays: write [%s] "
		     "instead", m->kind == DJ_STRING ? "\"...\"" : "...");
		return;
	}
	if (m->kind == DJ_ARRAY && check_values(b, m) != 0)
		return;
	if (m->kind == DJ_OBJECT && m->items.n == 0) {
		perr(b, m->span, "empty objects are not allowed");
		return;
	}
	for (;;) {
		dot = memchr(k, '.', (size_t)(end - k));
		if (++depth > MAX_DEPTH) {
			perr(b, m->key_span, "pattern fields nested more than "
			     "%d levels deep", MAX_DEPTH);
			return;
		}
		if (dot == NULL)
			break;
		o = child(b, o, PN_OBJ, k, (size_t)(dot - k));
		if (o == NULL)
			return;
		k = dot + 1;
	}
	if (m->kind == DJ_OBJECT) {
		o = child(b, o, PN_OBJ, k, (size_t)(end - k));
		if (o)
			build(b, m, o, in_or, depth);
		return;
	}
	o = child(b, o, PN_FIELD, k, (size_t)(end - k));
	if (o)
		o->json = m;
}

static void build(struct pb *b, const struct dsl_json *obj, struct pnode *o,
		  int in_or, int depth)
{
	if (obj->items.n == 0) {
		perr(b, obj->span, "empty objects are not allowed");
		return;
	}
	for (size_t i = 0; i < obj->items.n; i++) {
		const struct dsl_json *m = item(obj, i);

		if (key_is(m, "$or")) {
			build_or(b, m, o, depth);
			continue;
		}
		/* Inside $or an operator name as a field name is almost
		 * surely a misplaced operator; EventBridge refuses it. */
		if (in_or && is_operator(m)) {
			perr(b, m->key_span, "'%.*s' is an operator and cannot "
			     "name a field inside $or", (int)m->keylen,
			     m->key);
			continue;
		}
		if (in_or && is_reserved_in_or(m)) {
			perr(b, m->key_span, "'%.*s' is reserved by "
			     "EventBridge and cannot name a field inside $or",
			     (int)m->keylen, m->key);
			continue;
		}
		build_member(b, m, o, in_or, depth);
	}
}

/* How many combinations the $ors multiply out to (as EventBridge counts
 * them: alternatives add up, sibling $ors multiply). */
static double combinations(const struct pnode *n)
{
	double r = n->kind == PN_OR ? 0 : 1;

	for (size_t i = 0; i < n->kids.n; i++) {
		if (n->kind == PN_OR)
			r += combinations(kid(n, i));
		else if (kid(n, i)->kind != PN_FIELD)
			r *= combinations(kid(n, i));
	}
	return r;
}

/* ---- $or as EventBridge expands it -------------------------------------- */

/* EventBridge's matcher (event-ruler's JsonRuleCompiler) turns a pattern
 * into branches, one per combination of $or alternatives, each a map from
 * a field's path to its values, filled member by member in order; a field
 * put again replaces the earlier one in every branch it reaches. So a
 * field named both outside and inside an $or alternative takes the
 * alternative's values in that alternative's branches, and the outer ones
 * everywhere when written after the $or. The tree ANDs such fields
 * instead; when the expansion replaced a field and the pattern has an
 * $or, the tree is rebuilt from the branches: an $or of them, each the
 * AND of its fields. */

/* One $or on the way from the pattern's top to a field, and the
 * alternative taken there. */
struct choice {
	const struct dsl_json *or;
	size_t alt;
};

struct bfield {
	const char *path;	/* key segments joined by '.' (segments
				 * hold no dot: keys are split at dots) */
	size_t len;
	const struct dsl_json *json;	/* the field's array */
	const struct choice *choices;	/* the $ors it is inside */
	size_t nchoices;
	int repeated;		/* another field in a branch it can share
				 * has this path too */
};

/* $ors nest no deeper than fields: tree() refused deeper patterns. */
#define MAX_CHOICES MAX_DEPTH

/* Fields over all branches, and comparisons of a field's path with
 * those in its branches, past which a pattern is refused: the
 * expansion's memory and time grow with them. */
#define MAX_EXPANDED_FIELDS 100000
#define MAX_EXPANSION_STEPS 10000000

struct expansion {
	struct pb *b;
	struct dsl_list leaves;	/* every field, in document order */
	struct choice at[MAX_CHOICES];	/* collect()'s way down */
	size_t depth;
	size_t next;		/* the next leaf expand() meets */
	size_t fields;		/* over all branches */
	size_t steps;		/* path comparisons */
	int replaced, too_many;
};

static struct dsl_list *new_list(struct expansion *x)
{
	struct dsl_list *l = dsl_alloc(&x->b->c->arena, sizeof *l);

	if (l == NULL)
		no_memory(x->b);
	return l;
}

static int push(struct expansion *x, struct dsl_list *l, void *item)
{
	if (dsl_list_push(&x->b->c->arena, l, item) == 0)
		return 0;
	return no_memory(x->b);
}

static int same_path(const struct bfield *a, const struct bfield *b)
{
	return a->len == b->len && memcmp(a->path, b->path, a->len) == 0;
}

static int by_path(const void *a, const void *b)
{
	const struct bfield *x = *(const struct bfield *const *)a;
	const struct bfield *y = *(const struct bfield *const *)b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->path, y->path, x->len);
}

/* Every field of obj (at `prefix`), alternatives' included, into
 * x->leaves in the order expand() meets them. */
static int collect(struct expansion *x, const struct dsl_json *obj,
		   const char *prefix, size_t plen)
{
	for (size_t i = 0; i < obj->items.n; i++) {
		const struct dsl_json *m = item(obj, i);
		size_t len = plen + (plen != 0) + m->keylen;
		struct choice *choices;
		struct bfield *f;
		char *path;
		int rc;

		if (key_is(m, "$or")) {
			assert(x->depth < MAX_CHOICES);
			for (size_t k = 0; k < m->items.n; k++) {
				x->at[x->depth++] = (struct choice){ m, k };
				rc = collect(x, item(m, k), prefix, plen);
				x->depth--;
				if (rc != 0)
					return -1;
			}
			continue;
		}
		path = dsl_alloc(&x->b->c->arena, len + 1);
		if (path == NULL)
			return no_memory(x->b);
		memcpy(path, prefix, plen);
		if (plen)
			path[plen] = '.';
		memcpy(path + plen + (plen != 0), m->key, m->keylen);
		if (m->kind == DJ_OBJECT) {
			if (collect(x, m, path, len) != 0)
				return -1;
			continue;
		}
		f = dsl_alloc(&x->b->c->arena, sizeof *f);
		choices = dsl_alloc(&x->b->c->arena,
				    x->depth * sizeof *choices + 1);
		if (f == NULL || choices == NULL)
			return no_memory(x->b);
		memcpy(choices, x->at, x->depth * sizeof *choices);
		*f = (struct bfield){ path, len, m, choices, x->depth, 0 };
		if (push(x, &x->leaves, f) != 0)
			return -1;
	}
	return 0;
}

/* Can fields a and b be in one branch: do they take the same
 * alternative of every $or both are inside? */
static int can_meet(const struct bfield *a, const struct bfield *b)
{
	for (size_t i = 0; i < a->nchoices && i < b->nchoices; i++) {
		if (a->choices[i].or != b->choices[i].or)
			return 1;
		if (a->choices[i].alt != b->choices[i].alt)
			return 0;
	}
	return 1;
}

/* Mark the fields whose path another field they can meet has: only
 * those can replace anything. Returns how many, or -1. */
static long mark_repeated(struct expansion *x)
{
	size_t n = x->leaves.n;
	struct bfield **sorted = scrub_malloc(n * sizeof *sorted + 1);
	long marked = 0;

	if (sorted == NULL)
		return no_memory(x->b);
	memcpy(sorted, x->leaves.items, n * sizeof *sorted);
	qsort(sorted, n, sizeof *sorted, by_path);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n && same_path(sorted[i],
							  sorted[j]); j++) {
			if (!can_meet(sorted[i], sorted[j]))
				continue;
			marked += !sorted[i]->repeated + !sorted[j]->repeated;
			sorted[i]->repeated = sorted[j]->repeated = 1;
		}
	}
	free(sorted);
	return marked;
}

/* Count n more fields over all branches; -1 past the limit. */
static int more_fields(struct expansion *x, size_t n)
{
	x->fields += n;
	if (x->fields <= MAX_EXPANDED_FIELDS)
		return 0;
	x->too_many = 1;
	return -1;
}

/* Put field f into every branch of `branches` (one empty branch first
 * when there is none), replacing a field of the same path. */
static int put_field(struct expansion *x, struct dsl_list *branches,
		     struct bfield *f)
{
	if (branches->n == 0 && push(x, branches, new_list(x)) != 0)
		return -1;
	for (size_t i = 0; i < branches->n; i++) {
		struct dsl_list *br = branches->items[i];
		size_t k;

		if (br == NULL)
			return -1;
		/* Only a repeated path can be in the branch already. */
		k = f->repeated ? 0 : br->n;
		x->steps += br->n - k;
		if (x->steps > MAX_EXPANSION_STEPS) {
			x->too_many = 1;
			return -1;
		}
		while (k < br->n && !same_path(br->items[k], f))
			k++;
		if (k < br->n) {
			br->items[k] = f;
			x->replaced = 1;
		} else if (more_fields(x, 1) != 0 || push(x, br, f) != 0) {
			return -1;
		}
	}
	return 0;
}

static int expand(struct expansion *x, const struct dsl_json *obj,
		  struct dsl_list *branches);

/* "$or": each alternative extends its own copy of the branches so far. */
static int expand_or(struct expansion *x, const struct dsl_json *m,
		     struct dsl_list *branches)
{
	struct dsl_list all = { 0 };

	for (size_t i = 0; i < m->items.n; i++) {
		struct dsl_list mine = { 0 };

		for (size_t k = 0; k < branches->n; k++) {
			struct dsl_list *copy = new_list(x);
			const struct dsl_list *from = branches->items[k];

			if (more_fields(x, from->n) != 0 || copy == NULL ||
			    push(x, &mine, copy) != 0)
				return -1;
			for (size_t j = 0; j < from->n; j++)
				if (push(x, copy, from->items[j]) != 0)
					return -1;
		}
		if (mine.n == 0 && push(x, &mine, new_list(x)) != 0)
			return -1;
		if (expand(x, item(m, i), &mine) != 0)
			return -1;
		for (size_t k = 0; k < mine.n; k++)
			if (push(x, &all, mine.items[k]) != 0)
				return -1;
	}
	*branches = all;
	return 0;
}

/* The branches of obj's fields, taken from x->leaves in order. */
static int expand(struct expansion *x, const struct dsl_json *obj,
		  struct dsl_list *branches)
{
	for (size_t i = 0; i < obj->items.n; i++) {
		const struct dsl_json *m = item(obj, i);

		if (key_is(m, "$or")) {
			if (expand_or(x, m, branches) != 0)
				return -1;
		} else if (m->kind == DJ_OBJECT) {
			if (expand(x, m, branches) != 0)
				return -1;
		} else if (put_field(x, branches,
				     x->leaves.items[x->next++]) != 0) {
			return -1;
		}
	}
	return 0;
}

/* The fields of one branch as terms of o, keys split at dots again. */
static void branch_terms(struct pb *b, const struct dsl_list *br,
			 struct pnode *o)
{
	for (size_t i = 0; i < br->n; i++) {
		const struct bfield *f = br->items[i];
		const char *k = f->path, *end = f->path + f->len, *dot;
		struct pnode *at = o;

		while ((dot = memchr(k, '.', (size_t)(end - k))) != NULL &&
		       at) {
			at = child(b, at, PN_OBJ, k, (size_t)(dot - k));
			k = dot + 1;
		}
		if (at)
			at = child(b, at, PN_FIELD, k, (size_t)(end - k));
		if (at)
			at->json = f->json;
	}
}

static int has_or(const struct pnode *n)
{
	for (size_t i = 0; n->kind != PN_FIELD && i < n->kids.n; i++)
		if (kid(n, i)->kind == PN_OR || has_or(kid(n, i)))
			return 1;
	return 0;
}

/* The tree of a valid pattern as EventBridge expands it, or `root` when
 * that changes nothing. */
static struct pnode *as_expanded(struct pb *b, const struct dsl_json *pattern,
				 struct pnode *root)
{
	struct expansion x;
	struct dsl_list branches = { 0 };
	struct pnode *top, *or;
	long repeated;

	/* Without an $or, or a path written twice, nothing is replaced. */
	if (!has_or(root))
		return root;
	memset(&x, 0, sizeof x);
	x.b = b;
	if (collect(&x, pattern, "", 0) != 0 ||
	    (repeated = mark_repeated(&x)) < 0)
		return NULL;
	if (repeated == 0)
		return root;
	if (expand(&x, pattern, &branches) != 0) {
		if (x.too_many)
			perr(b, pattern->span, "$or expands to more than %d "
			     "fields over all its combinations, or to more "
			     "than %d comparisons of them: split the pattern",
			     MAX_EXPANDED_FIELDS, MAX_EXPANSION_STEPS);
		return NULL;
	}
	if (!x.replaced)
		return root;
	/* An $or has two alternatives at least: so many branches too. */
	top = new_node(b, PN_OBJ, NULL, 0);
	or = new_node(b, PN_OR, NULL, 0);
	if (top == NULL || or == NULL)
		return NULL;
	or->json = pattern;
	for (size_t i = 0; i < branches.n; i++) {
		struct pnode *alt = new_node(b, PN_OBJ, NULL, 0);

		if (alt == NULL)
			return NULL;
		branch_terms(b, branches.items[i], alt);
		add_kid(b, or, alt);
	}
	add_kid(b, top, or);
	return b->bad ? NULL : top;
}

static struct pnode *tree(struct pb *b, const struct dsl_json *pattern)
{
	struct pnode *root;
	double n;

	if (pattern->kind != DJ_OBJECT) {
		perr(b, pattern->span, "an event pattern is a JSON object");
		return NULL;
	}
	root = new_node(b, PN_OBJ, NULL, 0);
	if (root == NULL)
		return NULL;
	build(b, pattern, root, 0, 0);
	if (b->bad)
		return NULL;
	n = combinations(root);
	if (n > MAX_OR_COMBINATIONS) {
		/* Counts past 2^53 are not exact in a double: no digits. */
		if (n < 0x1p53)
			perr(b, pattern->span, "$or expands to %.0f "
			     "combinations; EventBridge allows at most %d", n,
			     MAX_OR_COMBINATIONS);
		else
			perr(b, pattern->span, "$or expands to more than "
			     "2^53 combinations; EventBridge allows at most "
			     "%d", MAX_OR_COMBINATIONS);
		return NULL;
	}
	return as_expanded(b, pattern, root);
}

struct dsl_list *cc_pattern_replaced(struct cc *c,
				     const struct dsl_json *pattern)
{
	struct pb b = { c, 1, 0 };
	struct dsl_list *out = dsl_alloc(&c->arena, sizeof *out);
	struct expansion x;
	struct bfield **sorted;
	size_t n;

	memset(&x, 0, sizeof x);
	x.b = &b;
	if (out == NULL || collect(&x, pattern, "", 0) != 0)
		return NULL;
	n = x.leaves.n;
	sorted = scrub_malloc(n * sizeof *sorted + 1);
	if (sorted == NULL)
		return NULL;
	memcpy(sorted, x.leaves.items, n * sizeof *sorted);
	qsort(sorted, n, sizeof *sorted, by_path);

	/* In each run of one path, the outer fields written before the
	 * last one inside an $or. */
	for (size_t i = 0, end; i < n; i = end) {
		uint32_t last = 0;

		for (end = i; end < n && same_path(sorted[i], sorted[end]);
		     end++)
			if (sorted[end]->nchoices &&
			    sorted[end]->json->span.start > last)
				last = sorted[end]->json->span.start;
		for (size_t k = i; k < end; k++)
			if (sorted[k]->nchoices == 0 &&
			    sorted[k]->json->span.start < last &&
			    push(&x, out, (void *)sorted[k]->json) != 0) {
				free(sorted);
				return NULL;
			}
	}
	free(sorted);
	return out;
}

int cc_check_pattern(struct cc *c, const struct dsl_json *pattern)
{
	struct pb b = { c, 0, 0 };

	return tree(&b, pattern) ? 0 : -1;
}

/* ---- case-insensitive matchers ------------------------------------------- */

/* A literal in PCRE2 syntax: ASCII letters and digits as they are, other
 * ASCII as \x{..}, everything else as raw UTF-8 (the VM compiles regexes
 * in UTF mode). */
static void re_literal(struct buf *re, const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
						      s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] >= 0x80) {
			buf_putc(re, (char)s[i]);
		} else {
			char hex[8];

			snprintf(hex, sizeof hex, "\\x{%x}", s[i]);
			buf_puts(re, hex);
		}
	}
}

/* EventBridge compares ignoring case one character of the pattern at a
 * time: the event may have the character itself, its lowercase or its
 * uppercase form, each a full Unicode mapping (so "ß" also matches "SS").
 * Written out as a regex of alternatives. */
static void re_ignore_case(struct buf *re, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		const uint8_t *c = (const uint8_t *)s + i;
		size_t len = 1, ll = 0, ul = 0;
		uint8_t *lo, *up;

		while (i + len < n && (c[len] & 0xC0) == 0x80)
			len++;
		lo = u8_tolower(c, len, NULL, NULL, NULL, &ll);
		up = u8_toupper(c, len, NULL, NULL, NULL, &ul);
		buf_puts(re, "(?:");
		re_literal(re, c, len);
		if (lo && (ll != len || memcmp(lo, c, len) != 0)) {
			buf_putc(re, '|');
			re_literal(re, lo, ll);
		}
		if (up && (ul != len || memcmp(up, c, len) != 0) &&
		    (lo == NULL || ul != ll || memcmp(up, lo, ll) != 0)) {
			buf_putc(re, '|');
			re_literal(re, up, ul);
		}
		buf_putc(re, ')');
		if (lo == NULL || up == NULL)
			re->err = BUF_NOMEM;
		free(lo);
		free(up);
		i += len;
	}
}

/* The regex constant for strings in `v` (a string or a list): `kind` says
 * whether it matches the whole value, its start or its end. */
static uint32_t ci_regex(struct cc *c, const struct dsl_json *v, int kind)
{
	struct dsl_regex r;
	struct buf re;
	uint32_t k;

	buf_init(&re, 1u << 24);
	if (kind != VM_MATCH_SUFFIX_CI)
		buf_puts(&re, "\\A");
	buf_puts(&re, "(?:");
	if (v->kind == DJ_STRING) {
		re_ignore_case(&re, v->text, v->len);
	} else {
		for (size_t i = 0; i < v->items.n; i++) {
			if (i)
				buf_putc(&re, '|');
			re_ignore_case(&re, item(v, i)->text,
				       item(v, i)->len);
		}
	}
	buf_putc(&re, ')');
	if (kind != VM_MATCH_PREFIX_CI)
		buf_puts(&re, "\\z");
	if (buf_failed(&re)) {
		c->emit.failed = 1;
		buf_free(&re);
		return 0;
	}
	memset(&r, 0, sizeof r);
	r.source = re.data;
	r.len = re.len;
	k = cc_regex(&c->emit, &r);
	buf_free(&re);
	return k;
}

/* ---- lowering ------------------------------------------------------------ */

static uint32_t string_list(struct cc *c, const struct dsl_json *v)
{
	uint32_t *w, k;
	size_t n = v->kind == DJ_ARRAY ? v->items.n : 1;

	w = scrub_malloc(n * sizeof *w);
	if (w == NULL) {
		c->emit.failed = 1;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		w[i] = cc_value(&c->emit, v->kind == DJ_ARRAY ? item(v, i) : v);
	k = cc_words(&c->emit, VM_K_LIST, w, n);
	free(w);
	return k;
}

static void entry_anything_but(struct cc *c, const struct dsl_json *v,
			       uint32_t *w)
{
	const struct dsl_json *in;

	if (v->kind != DJ_OBJECT) {
		w[0] = VM_MATCH_BUT_VALUES;
		w[1] = string_list(c, v);
		return;
	}
	in = item(v, 0);
	w[1] = string_list(c, in);
	if (key_is(in, "prefix")) {
		w[0] = VM_MATCH_BUT_PREFIX;
	} else if (key_is(in, "suffix")) {
		w[0] = VM_MATCH_BUT_SUFFIX;
	} else if (key_is(in, "wildcard")) {
		w[0] = VM_MATCH_BUT_WILDCARD;
	} else {
		w[0] = VM_MATCH_BUT_EQUALS_CI;
		w[2] = ci_regex(c, in, VM_MATCH_EQUALS_CI);
	}
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
	op = v = item(el, 0);
	if (key_is(op, "prefix") || key_is(op, "suffix")) {
		int prefix = key_is(op, "prefix");

		if (v->kind == DJ_OBJECT) {
			v = item(v, 0);
			w[0] = prefix ? VM_MATCH_PREFIX_CI : VM_MATCH_SUFFIX_CI;
			w[2] = ci_regex(c, v, (int)w[0]);
		} else {
			w[0] = prefix ? VM_MATCH_PREFIX : VM_MATCH_SUFFIX;
		}
		w[1] = cc_value(&c->emit, v);
	} else if (key_is(op, "equals-ignore-case")) {
		w[0] = VM_MATCH_EQUALS_CI;
		w[1] = cc_value(&c->emit, v);
		w[2] = ci_regex(c, v, VM_MATCH_EQUALS_CI);
	} else if (key_is(op, "wildcard") || key_is(op, "cidr")) {
		w[0] = key_is(op, "cidr") ? VM_MATCH_CIDR : VM_MATCH_WILDCARD;
		w[1] = cc_value(&c->emit, v);
	} else if (key_is(op, "exists")) {
		w[0] = VM_MATCH_EXISTS;
		w[1] = v->kind == DJ_TRUE;
	} else if (key_is(op, "numeric")) {
		w[0] = VM_MATCH_NUMERIC;
		w[1] = (uint32_t)numop(item(v, 0));
		w[2] = cc_value(&c->emit, item(v, 1));
		if (v->items.n == 4) {
			w[1] |= (uint32_t)numop(item(v, 2)) << 8;
			w[3] = cc_value(&c->emit, item(v, 3));
		}
	} else {
		entry_anything_but(c, v, w);
	}
}

static uint32_t matcher(struct cc *c, const struct dsl_json *m)
{
	uint32_t *w = scrub_malloc(m->items.n * 4 * sizeof *w), k;

	if (w == NULL) {
		c->emit.failed = 1;
		return 0;
	}
	for (size_t i = 0; i < m->items.n; i++)
		entry(c, item(m, i), w + 4 * i);
	k = cc_words(&c->emit, VM_K_MATCHER, w, m->items.n);
	free(w);
	return k;
}

/* The keys from the root to where lowering is. */
struct keys {
	const char *name[MAX_DEPTH + 1];
	size_t len[MAX_DEPTH + 1];
	size_t n;
};

static uint32_t here(struct cc *c, const struct keys *k)
{
	return cc_pattern_path(&c->emit, k->name, k->len, k->n);
}

/* The PATTERN constant: the node's tree as words (see bytecode.h). The
 * root's own key is already part of the PATTERN instruction's path. */
static void tree_words(struct cc *c, const struct pnode *n, int root,
		       struct buf *w)
{
	uint32_t x[3];

	x[0] = n->kind == PN_OBJ ? VM_PT_OBJ : n->kind == PN_FIELD ?
	       VM_PT_FIELD : VM_PT_OR;
	x[1] = n->seg && !root ? cc_string(&c->emit, n->seg, n->seglen) :
	       VM_NONE;
	x[2] = n->kind == PN_FIELD ? matcher(c, n->json) :
	       (uint32_t)n->kids.n;
	buf_put(w, x, sizeof x);
	for (size_t i = 0; n->kind != PN_FIELD && i < n->kids.n; i++)
		tree_words(c, kid(n, i), 0, w);
}

static uint32_t tree_const(struct cc *c, const struct pnode *n)
{
	struct buf w;
	uint32_t k;

	buf_init(&w, 1u << 26);
	tree_words(c, n, 1, &w);
	if (buf_failed(&w)) {
		c->emit.failed = 1;
		buf_free(&w);
		return 0;
	}
	k = cc_words(&c->emit, VM_K_PATTERN, (const uint32_t *)w.data,
		     w.len / 4);
	buf_free(&w);
	return k;
}

static void lower_obj(struct cc *c, const struct pnode *o, struct keys *k,
		      size_t clear);

/* Emit `n` terms joined by and/or: each pushes a boolean; a short circuit
 * jumps to the end keeping the deciding value. */
static void join(struct cc *c, enum vm_opcode keep_jump, const struct pnode *o,
		 struct keys *k, size_t clear)
{
	uint32_t *jumps = scrub_malloc((o->kids.n ? o->kids.n : 1) *
				       sizeof *jumps);
	uint32_t end;

	if (jumps == NULL) {
		c->emit.failed = 1;
		return;
	}
	for (size_t i = 0; i < o->kids.n; i++) {
		const struct pnode *t = kid(o, i);

		if (t->seg) {
			k->name[k->n] = t->seg;
			k->len[k->n] = t->seglen;
			k->n++;
		}
		if (t->kind == PN_FIELD)
			cc_op(&c->emit, OP_MATCH, here(c, k), matcher(c,
								 t->json));
		else if (t->kind == PN_OR)
			join(c, OP_JUMP_TRUE_KEEP, t, k, clear);
		else
			lower_obj(c, t, k, clear);
		if (t->seg)
			k->n--;
		if (i + 1 < o->kids.n)
			jumps[i] = cc_op(&c->emit, keep_jump, 0u);
	}
	end = cc_pc(&c->emit);
	for (size_t i = 0; i + 1 < o->kids.n; i++)
		cc_patch(&c->emit, jumps[i], end);
	free(jumps);
}

/* An object (or $or alternative) at path k. `clear` is how many keys of
 * k are known to cross no array in this event: with several terms and an
 * array possibly on the way, the terms must hold in one element. */
static void lower_obj(struct cc *c, const struct pnode *o, struct keys *k,
		      size_t clear)
{
	uint32_t to_tree, to_end, p;

	if (o->kids.n < 2 || k->n <= clear) {
		join(c, OP_JUMP_FALSE_KEEP, o, k, clear);
		return;
	}
	p = here(c, k);
	cc_op(&c->emit, OP_ARRAYS, p);
	to_tree = cc_op(&c->emit, OP_JUMP_IF_TRUE, 0u);
	join(c, OP_JUMP_FALSE_KEEP, o, k, k->n);
	to_end = cc_op(&c->emit, OP_JUMP, 0u);
	cc_patch(&c->emit, to_tree, cc_pc(&c->emit));
	cc_op(&c->emit, OP_PATTERN, p, tree_const(c, o));
	cc_patch(&c->emit, to_end, cc_pc(&c->emit));
}

void cc_lower_pattern(struct cc *c, const struct dsl_json *pattern)
{
	struct pb b = { c, 1, 0 };
	struct pnode *root = tree(&b, pattern);
	struct keys k;

	if (root == NULL) {
		c->emit.failed = 1;
		return;
	}
	k.n = 0;
	lower_obj(c, root, &k, 0);
}
