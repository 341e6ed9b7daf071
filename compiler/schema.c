/* schema.c - JSON Schema and schema-registry documents as field trees
 * (see schema.h).
 *
 * Keywords read: $ref (local JSON pointers), type (a name or a list),
 * nullable (OpenAPI 3.0), properties, additionalProperties,
 * patternProperties, items (a schema or a list), allOf/anyOf/oneOf,
 * const, enum, and on the event itself x-amazon-events-source and
 * x-amazon-events-detail-type. Everything else (formats, bounds,
 * required) does not change which fields exist, and is ignored.
 */
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vm/alloc.h"
#include "jfile.h"

/* References nest at most this deep: a recursive schema stops here and
 * its deepest level is left open. */
#define MAX_DEPTH 48
/* More fields than this is a schema that references expand beyond use. */
#define MAX_NODES 200000

struct sb {
	struct cc_schema *s;
	struct cc_jfile *f;
	int failed;		/* out of memory, or too many nodes */
	char bad_type[32];	/* the first type name JSON Schema lacks */
};

static struct cc_snode *node_new(struct sb *b, const char *name, size_t len)
{
	struct cc_snode *n;

	if (++b->s->nnodes > MAX_NODES) {
		b->failed = 1;
		return NULL;
	}
	n = dsl_alloc(&b->s->arena, sizeof *n);
	if (n == NULL) {
		b->failed = 1;
		return NULL;
	}
	n->name = name;
	n->len = len;
	return n;
}

/* A string member of the document, copied into the arena. */
static const char *str_dup(struct sb *b, json_ref r, size_t *len)
{
	size_t n;
	const char *s = cc_jstr(&b->f->doc, r, &n);
	char *copy;

	if (s == NULL)
		return NULL;
	copy = dsl_strndup(&b->s->arena, s, n);
	if (copy == NULL)
		b->failed = 1;
	if (len)
		*len = n;
	return copy;
}

static unsigned type_bit(const char *t, size_t n)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {
		{ "null", CC_T_NULL }, { "boolean", CC_T_BOOL },
		{ "number", CC_T_NUMBER }, { "integer", CC_T_NUMBER },
		{ "string", CC_T_STRING }, { "array", CC_T_ARRAY },
		{ "object", CC_T_OBJECT },
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i].name) == n &&
		    memcmp(names[i].name, t, n) == 0)
			return names[i].bit;
	return 0;
}

/* type_bit, noting the first name that is no JSON Schema type: a typo
 * there would leave a field's type open without a word. */
static unsigned known_type(struct sb *b, const char *t, size_t n)
{
	unsigned bit = type_bit(t, n);

	if (bit == 0 && b->bad_type[0] == 0)
		snprintf(b->bad_type, sizeof b->bad_type, "%.*s",
			 (int)(n < 24 ? n : 24), t);
	return bit;
}

static unsigned types_of(struct sb *b, json_ref sch)
{
	struct json_doc *d = &b->f->doc;
	json_ref t = cc_jget(d, sch, "type"), nl = cc_jget(d, sch, "nullable");
	unsigned bits = 0;
	const char *s;
	size_t n;

	if ((s = cc_jstr(d, t, &n)) != NULL)
		bits = known_type(b, s, n);
	else if (json_type_of(d, t) == JSON_ARRAY)
		for (json_ref e = json_first(d, t); e; e = json_next(d, e))
			if ((s = cc_jstr(d, e, &n)) != NULL)
				bits |= known_type(b, s, n);
	if (bits && json_type_of(d, nl) == JSON_TRUE)
		bits |= CC_T_NULL;
	return bits;
}

/* Follow a local reference "#/a/b" (RFC 6901 pointer); 0 if it dangles. */
static json_ref resolve(struct sb *b, json_ref ref)
{
	struct json_doc *d = &b->f->doc;
	size_t n, i = 1;
	const char *p = cc_jstr(d, ref, &n);
	json_ref at = d->root;
	char tok[256];

	if (p == NULL || n == 0 || p[0] != '#')
		return 0;
	while (i < n && at) {
		size_t k = 0;

		if (p[i] != '/')
			return 0;
		for (i++; i < n && p[i] != '/' && k + 1 < sizeof tok; i++) {
			if (p[i] == '~' && i + 1 < n && (p[i + 1] == '0' ||
							 p[i + 1] == '1'))
				tok[k++] = p[++i] == '0' ? '~' : '/';
			else
				tok[k++] = p[i];
		}
		at = json_member(d, at, tok, k);
	}
	return at;
}

static void build_into(struct sb *b, struct cc_snode *n, json_ref sch,
		       int depth);

static struct cc_snode *find_member(struct cc_snode *n, const char *name,
				    size_t len)
{
	for (struct cc_snode *m = n->members; m; m = m->next)
		if (m->len == len && memcmp(m->name, name, len) == 0)
			return m;
	return NULL;
}

/* Add the properties of `props` to `n`, merging those it has already. */
static void add_members(struct sb *b, struct cc_snode *n, json_ref props,
			int depth)
{
	struct json_doc *d = &b->f->doc;
	struct cc_snode **tail = &n->members;

	while (*tail)
		tail = &(*tail)->next;
	for (json_ref p = json_first(d, props); p && !b->failed;
	     p = json_next(d, p)) {
		size_t len;
		const char *key = json_key(d, p, &len);
		struct cc_snode *m;

		if (key == NULL) {
			b->failed = 1;
			return;
		}
		m = find_member(n, key, len);
		if (m == NULL) {
			char *name = dsl_strndup(&b->s->arena, key, len);

			m = name ? node_new(b, name, len) : NULL;
			if (m == NULL) {
				b->failed = 1;
				return;
			}
			*tail = m;
			tail = &m->next;
		}
		build_into(b, m, p, depth + 1);
	}
}

static void add_values(struct sb *b, struct cc_snode *n, json_ref sch)
{
	struct json_doc *d = &b->f->doc;
	json_ref c = cc_jget(d, sch, "const"), e = cc_jget(d, sch, "enum");
	size_t k = 0, cap;

	if (json_type_of(d, c) == JSON_STRING)
		e = 0;
	else if (json_type_of(d, e) == JSON_ARRAY)
		c = 0;
	else
		return;
	cap = c ? 1 : json_length(d, e);
	n->values = dsl_alloc(&b->s->arena,
			      (cap ? cap : 1) * sizeof *n->values);
	if (n->values == NULL) {
		b->failed = 1;
		return;
	}
	if (c) {
		n->values[k++] = str_dup(b, c, NULL);
	} else {
		/* Only a list of strings says which strings a field holds. */
		for (json_ref v = json_first(d, e); v; v = json_next(d, v)) {
			if (json_type_of(d, v) != JSON_STRING) {
				n->values = NULL;
				return;
			}
			n->values[k++] = str_dup(b, v, NULL);
		}
	}
	n->nvalues = k;
}

static void build_items(struct sb *b, struct cc_snode *n, json_ref items,
			int depth)
{
	struct json_doc *d = &b->f->doc;

	if (n->items == NULL && (n->items = node_new(b, NULL, 0)) == NULL)
		return;
	if (json_type_of(d, items) == JSON_ARRAY) {
		/* A tuple: the elements may be any of the listed shapes. */
		for (json_ref e = json_first(d, items); e; e = json_next(d, e))
			build_into(b, n->items, e, depth + 1);
		return;
	}
	build_into(b, n->items, items, depth + 1);
}

/* Read schema object `sch` into node `n` (which may hold a shape already:
 * combinators merge several schemas into one node). */
static void build_into(struct sb *b, struct cc_snode *n, json_ref sch,
		       int depth)
{
	static const char *const combinators[] = { "allOf", "anyOf", "oneOf" };
	struct json_doc *d = &b->f->doc;
	json_ref props, add, items, ref;

	if (b->failed)
		return;
	if (depth > MAX_DEPTH || json_type_of(d, sch) != JSON_OBJECT) {
		/* true, {} or too deep: anything goes. */
		n->open = 1;
		return;
	}
	ref = cc_jget(d, sch, "$ref");
	if (ref) {
		json_ref to = resolve(b, ref);

		if (to == 0)
			n->open = 1;
		else
			build_into(b, n, to, depth + 1);
		return;
	}
	for (size_t i = 0; i < 3; i++) {
		json_ref list = cc_jget(d, sch, combinators[i]);

		if (json_type_of(d, list) != JSON_ARRAY)
			continue;
		for (json_ref e = json_first(d, list); e; e = json_next(d, e))
			build_into(b, n, e, depth + 1);
	}
	n->types |= types_of(b, sch);
	add_values(b, n, sch);
	props = cc_jget(d, sch, "properties");
	add = cc_jget(d, sch, "additionalProperties");
	items = cc_jget(d, sch, "items");
	if (json_type_of(d, props) == JSON_OBJECT) {
		if (n->types == 0)
			n->types = CC_T_OBJECT;
		add_members(b, n, props, depth);
	} else if ((n->types == 0 || n->types & CC_T_OBJECT) &&
		   cc_jget(d, sch, "allOf") == 0 &&
		   cc_jget(d, sch, "anyOf") == 0 &&
		   cc_jget(d, sch, "oneOf") == 0) {
		n->open = 1;
	}
	if ((add && json_type_of(d, add) != JSON_FALSE) ||
	    cc_jget(d, sch, "patternProperties"))
		n->open = 1;
	if (items)
		build_items(b, n, items, depth);
	else if (n->types & CC_T_ARRAY && n->items == NULL &&
		 (n->items = node_new(b, NULL, 0)) != NULL)
		n->items->open = 1;
}

/* The envelope fields a registry document states outright. */
static void fix_value(struct sb *b, json_ref sch, const char *ext,
		      const char *field)
{
	struct json_doc *d = &b->f->doc;
	json_ref v = cc_jget(d, sch, ext);
	struct cc_snode *m;
	const char **one;

	if (json_type_of(d, v) != JSON_STRING)
		return;
	m = find_member(b->s->root, field, strlen(field));
	one = dsl_alloc(&b->s->arena, sizeof *one);
	if (m == NULL || one == NULL)
		return;
	one[0] = str_dup(b, v, NULL);
	m->values = one;
	m->nvalues = 1;
}

/* The event's own schema: AWSEvent in a registry export, else the
 * document itself. */
static json_ref event_schema(struct sb *b, char *err, size_t errlen)
{
	struct json_doc *d = &b->f->doc;
	json_ref all = cc_jget(d, cc_jget(d, d->root, "components"),
			       "schemas"), ev;

	if (cc_jget(d, d->root, "openapi") == 0)
		return d->root;
	ev = cc_jget(d, all, "AWSEvent");
	if (ev == 0)
		snprintf(err, errlen, "%s: an OpenAPI schema document needs "
			 "the event as components.schemas.AWSEvent",
			 b->f->name);
	return ev;
}

int cc_schema_load(const char *path, struct cc_schema **out, char *err,
		   size_t errlen)
{
	struct cc_jfile f;
	struct sb b;
	json_ref ev;

	*out = NULL;
	if (cc_jfile_load(&f, path) != 0) {
		snprintf(err, errlen, "%s", f.err);
		cc_jfile_free(&f);
		return -1;
	}
	memset(&b, 0, sizeof b);
	b.f = &f;
	b.s = scrub_calloc(1, sizeof *b.s);
	ev = b.s ? event_schema(&b, err, errlen) : 0;
	/* An event, or any JSON that describes no fields, would check
	 * nothing and say nothing: not a schema. */
	if (b.s == NULL || ev == 0 || json_type_of(&f.doc, ev) != JSON_OBJECT ||
	    json_type_of(&f.doc, cc_jget(&f.doc, ev, "properties")) !=
	    JSON_OBJECT) {
		if (b.s && ev)
			snprintf(err, errlen, "%s: not a JSON Schema of an "
				 "event: it needs an object of \"properties\" "
				 "(an OpenAPI document: in "
				 "components.schemas.AWSEvent)", path);
		else if (b.s == NULL)
			snprintf(err, errlen, "out of memory");
		cc_schema_free(b.s);
		cc_jfile_free(&f);
		return -1;
	}
	b.s->file = scrub_strndup(path, strlen(path));
	b.s->root = node_new(&b, NULL, 0);
	if (b.s->root)
		build_into(&b, b.s->root, ev, 0);
	if (!b.failed) {
		fix_value(&b, ev, "x-amazon-events-source", "source");
		fix_value(&b, ev, "x-amazon-events-detail-type", "detail-type");
	}
	cc_jfile_free(&f);
	if (!b.failed && b.bad_type[0]) {
		snprintf(err, errlen, "%s: unknown type '%s' (JSON Schema "
			 "has null, boolean, number, integer, string, array "
			 "and object)", path, b.bad_type);
		cc_schema_free(b.s);
		return -1;
	}
	if (b.failed || b.s->file == NULL) {
		snprintf(err, errlen, "%s: %s", path, b.s->nnodes > MAX_NODES
			 ? "the schema expands to too many fields"
			 : "out of memory");
		cc_schema_free(b.s);
		return -1;
	}
	*out = b.s;
	return 0;
}

void cc_schema_free(struct cc_schema *s)
{
	if (s == NULL)
		return;
	dsl_arena_free(&s->arena);
	free(s->file);
	free(s);
}

/* ---- look-ups ------------------------------------------------------------ */

static void better(struct cc_slookup *best, const struct cc_slookup *r)
{
	if (r->status > best->status ||
	    (r->status == CC_S_MISSING && best->status == CC_S_MISSING &&
	     r->seg > best->seg))
		*best = *r;
}

static void walk(const struct cc_snode *n, const struct dsl_seg *segs,
		 size_t i, size_t nsegs, int through, struct cc_slookup *out);

/* Segment i applied to each member (or, for `**`, each descendant). */
static void each_child(const struct cc_snode *n, const struct dsl_seg *segs,
		       size_t next, size_t nsegs, int through, int deep,
		       struct cc_slookup *out)
{
	struct cc_slookup r;

	for (const struct cc_snode *m = n->members; m; m = m->next) {
		walk(m, segs, next, nsegs, through, &r);
		better(out, &r);
		if (deep) {
			each_child(m, segs, next, nsegs, through, 1, &r);
			better(out, &r);
		}
	}
	if (n->items) {
		walk(n->items, segs, next, nsegs, through, &r);
		better(out, &r);
		if (deep) {
			each_child(n->items, segs, next, nsegs, through, 1,
				   &r);
			better(out, &r);
		}
	}
}

static int may_be(const struct cc_snode *n, unsigned type)
{
	return n->types == 0 || (n->types & type);
}

static void walk(const struct cc_snode *n, const struct dsl_seg *segs,
		 size_t i, size_t nsegs, int through, struct cc_slookup *out)
{
	const struct dsl_seg *s = &segs[i];
	const struct cc_snode *m;

	out->status = CC_S_MISSING;
	out->seg = i;
	out->node = n;
	if (i == nsegs) {
		out->status = CC_S_FOUND;
		return;
	}
	switch (s->kind) {
	case SEG_KEY:
		if (through && n->items && !(n->types & CC_T_OBJECT)) {
			walk(n->items, segs, i, nsegs, through, out);
			return;
		}
		if (!may_be(n, CC_T_OBJECT))
			return;
		if ((m = find_member((struct cc_snode *)n, s->name, s->len)))
			walk(m, segs, i + 1, nsegs, through, out);
		else if (n->open)
			out->status = CC_S_OPEN;
		return;
	case SEG_INDEX:
	case SEG_ELEMENTS:
		if (!may_be(n, CC_T_ARRAY))
			return;
		if (n->items)
			walk(n->items, segs, i + 1, nsegs, through, out);
		else
			out->status = CC_S_OPEN;
		return;
	case SEG_MEMBERS:
		if (!may_be(n, CC_T_OBJECT))
			return;
		if (n->open)
			out->status = CC_S_OPEN;
		for (m = n->members; m; m = m->next) {
			struct cc_slookup r;

			walk(m, segs, i + 1, nsegs, through, &r);
			better(out, &r);
		}
		return;
	case SEG_DEEP:
		/* Zero levels, or any number of them. */
		walk(n, segs, i + 1, nsegs, through, out);
		if (n->open || (n->types == 0 && !n->members && !n->items)) {
			struct cc_slookup open = { CC_S_OPEN, i, n };

			better(out, &open);
		}
		each_child(n, segs, i + 1, nsegs, through, 1, out);
		return;
	}
}

void cc_schema_lookup(const struct cc_schema *s, const struct dsl_seg *segs,
		      size_t nsegs, int through_arrays,
		      struct cc_slookup *out)
{
	walk(s->root, segs, 0, nsegs, through_arrays, out);
}

const char *cc_schema_nearest(const struct cc_snode *n, const char *name,
			      size_t len)
{
	const char *names[65];
	size_t k = 0;

	for (const struct cc_snode *m = n->members; m && k < 64; m = m->next)
		names[k++] = m->name;
	names[k] = NULL;
	return dsl_nearest(name, len, names);
}
