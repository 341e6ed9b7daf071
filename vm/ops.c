/* ops.c - the actions: what a policy does to an event.
 *
 * Shared rules, so every action behaves alike:
 *   - a path that selects nothing makes the action a no-op;
 *   - a null value is left alone: it holds no data to scrub;
 *   - a value of the wrong type (masking a number, truncating a string
 *     that is no IP address) fails closed: by default the event is
 *     rejected; `else null` or `else delete` in the policy pick the
 *     other way out. A path that ends in a wildcard ([*], .*, .**)
 *     asks for every string it reaches, so there other types are
 *     simply passed over;
 *   - a string that comes out identical is not rewritten, so its bytes
 *     stay exactly as they came.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ascii.h"
#include "exec.h"

#define OPERAND(ops, i) vm_u32((ops) + 4 * (i))

/* A value's type for "the value is ...": with its article ("an
 * object"), or "null" alone. */
static const char *a_type(enum json_type t)
{
	switch (t) {
	case JSON_NULL:
		return "null";
	case JSON_FALSE:
	case JSON_TRUE:
		return "a boolean";
	case JSON_NUMBER:
		return "a number";
	case JSON_STRING:
		return "a string";
	case JSON_ARRAY:
		return "an array";
	case JSON_OBJECT:
		return "an object";
	case JSON_NONE:
		break;
	}
	return "missing";
}

/* ---- setting values ------------------------------------------------------ */

/* Give node `r` the value of constant `c`. */
static int set_const(struct vm_exec *ex, json_ref r, const struct vm_const *c)
{
	static const char *const literal[] = {
		[VM_K_NULL] = "null", [VM_K_FALSE] = "false",
		[VM_K_TRUE] = "true",
	};
	static const enum json_type literal_type[] = {
		[VM_K_NULL] = JSON_NULL, [VM_K_FALSE] = JSON_FALSE,
		[VM_K_TRUE] = JSON_TRUE,
	};
	int rc;

	switch (c->kind) {
	case VM_K_NULL:
	case VM_K_FALSE:
	case VM_K_TRUE:
		rc = json_set_scalar(&ex->doc, r, literal_type[c->kind],
				     literal[c->kind],
				     strlen(literal[c->kind]));
		break;
	case VM_K_NUMBER:
		rc = json_set_scalar(&ex->doc, r, JSON_NUMBER, c->data,
				     c->len);
		break;
	case VM_K_STRING:
		rc = json_set_string(&ex->doc, r, c->data, c->len);
		break;
	default:
		rc = json_set_json(&ex->doc, r, c->data, c->len);
		break;
	}
	return rc == 0 ? 0 : vm_doc_failed(ex);
}

/* Walk a definite path's parent from the root, creating missing objects
 * on the way: 0 with *out, or -1. *out is 0 when there is nowhere to
 * write: an index that points past an array, or one that would have to
 * be created (only objects are). */
static int make_parent(struct vm_exec *ex, const struct vm_path *path,
		       json_ref *out)
{
	struct json_doc *d = &ex->doc;
	json_ref cur = d->root, next;
	uint32_t i, k;

	*out = 0;
	for (i = 0; i + 1 < path->nsegs; i++, cur = next) {
		const struct vm_seg *s = &path->segs[i];

		if (s->kind == VM_SEG_INDEX) {
			next = json_element(d, cur, s->index);
			if (next == 0)
				return 0;
			continue;
		}
		if (json_type_of(d, cur) != JSON_OBJECT)
			return vm_reject(ex, VM_R_TYPE, "cannot write %s: a "
					 "parent is %s, not an object",
					 vm_path_name(ex, path),
					 a_type(json_type_of(d, cur)));
		next = json_member_stable(d, cur, s->name, s->len);
		if (next == 0)
			break;
	}

	/* The rest must be created: only keys can be. */
	for (k = i; k + 1 < path->nsegs; k++)
		if (path->segs[k].kind != VM_SEG_KEY)
			return 0;
	for (; i + 1 < path->nsegs; i++) {
		const struct vm_seg *s = &path->segs[i];

		next = json_append_member(d, cur, s->name, s->len);
		if (next == 0 || json_set_json(d, next, "{}", 2) != 0)
			return vm_doc_failed(ex);
		cur = next;
	}
	*out = cur;
	return 0;
}

/* The node that the last segment of `path` names under `parent`, created
 * (as null) when it is a missing key; 0 when there is nothing to write. */
static int last_target(struct vm_exec *ex, const struct vm_path *path,
		       json_ref parent, json_ref *out)
{
	struct json_doc *d = &ex->doc;
	const struct vm_seg *s = &path->segs[path->nsegs - 1];

	*out = 0;
	if (s->kind == VM_SEG_INDEX) {
		*out = json_element(d, parent, s->index);
		return 0;
	}
	if (json_type_of(d, parent) != JSON_OBJECT)
		return vm_reject(ex, VM_R_TYPE, "cannot write %s: its parent "
				 "is %s, not an object",
				 vm_path_name(ex, path),
				 a_type(json_type_of(d, parent)));
	*out = json_member_stable(d, parent, s->name, s->len);
	if (*out == 0) {
		*out = json_append_member(d, parent, s->name, s->len);
		if (*out == 0)
			return vm_doc_failed(ex);
	}
	return 0;
}

int vm_op_set(struct vm_exec *ex, const unsigned char *ops)
{
	const struct vm_path *path = &ex->p->paths[OPERAND(ops, 0)];
	const struct vm_const *c = &ex->p->consts[OPERAND(ops, 1)];
	const struct vm_seg *last = &path->segs[path->nsegs - 1];
	uint32_t first, count;

	if (path->definite) {
		json_ref parent, r;

		if (make_parent(ex, path, &parent) != 0)
			return -1;
		if (parent == 0)
			return 0;
		if (last_target(ex, path, parent, &r) != 0)
			return -1;
		if (r == 0)
			return 0;
		if (set_const(ex, r, c) != 0)
			return -1;
		vm_changed(ex, OP_SET, r, 0);
		return 0;
	}

	/* Through wildcards only existing parents are written. */
	if (vm_select(ex, path, path->nsegs - 1, &first, &count) != 0)
		return -1;
	for (uint32_t i = 0; i < count; i++) {
		json_ref parent = ex->set[first + i], r;

		if (last->kind == VM_SEG_ELEMENTS ||
		    last->kind == VM_SEG_MEMBERS) {
			enum json_type want = last->kind == VM_SEG_ELEMENTS
					      ? JSON_ARRAY : JSON_OBJECT;

			if (json_type_of(&ex->doc, parent) != want)
				continue;
			for (r = json_first(&ex->doc, parent); r;
			     r = json_next(&ex->doc, r)) {
				if (vm_charge(ex, 1) != 0 ||
				    set_const(ex, r, c) != 0)
					return -1;
				vm_changed(ex, OP_SET, r, 0);
			}
			continue;
		}
		if (last_target(ex, path, parent, &r) != 0)
			return -1;
		if (r == 0)
			continue;
		if (set_const(ex, r, c) != 0)
			return -1;
		vm_changed(ex, OP_SET, r, 0);
	}
	return 0;
}

static int is_container(enum json_type t)
{
	return t == JSON_OBJECT || t == JSON_ARRAY;
}

/* Replace every string, number and boolean below `top` by constant c,
 * at any depth; objects, arrays, keys and nulls stay. A value that c
 * replaced is not looked into (c may be an object). */
static int replace_below(struct vm_exec *ex, json_ref top,
			 const struct vm_const *c)
{
	struct json_doc *d = &ex->doc;
	json_ref next;

	for (json_ref n = json_first(d, top); n; n = next) {
		enum json_type t = json_type_of(d, n);

		if (vm_charge(ex, 1) != 0)
			return -1;
		/* Where to go first: a replaced scalar may become a
		 * container, and its new children are not to be walked. */
		next = json_walk_next(d, top, n);
		if (!is_container(t) && t != JSON_NULL) {
			if (set_const(ex, n, c) != 0)
				return -1;
			vm_changed(ex, OP_REPLACE, n, 0);
		}
	}
	return 0;
}

/* Is `r` still in the document: does its chain of parents reach the
 * root? 1, 0, or -1 (over budget). */
static int attached(struct vm_exec *ex, json_ref r)
{
	const struct json_doc *d = &ex->doc;
	uint32_t steps = 0;

	while (r != d->root && r != 0) {
		r = d->nodes[r].parent;
		steps++;
	}
	return vm_charge(ex, 1 + steps / 64) != 0 ? -1 : r != 0;
}

/* Overwrite `r` by c. A container's old members are unlinked from it,
 * so that values below it that the statement selected too are seen to
 * be gone (attached) rather than replaced in turn. */
static int replace_value(struct vm_exec *ex, json_ref r,
			 const struct vm_const *c)
{
	struct json_doc *d = &ex->doc;
	json_ref old;

	if (json_complete_all(d) != 0)
		return vm_doc_failed(ex);
	old = d->nodes[r].first;
	if (set_const(ex, r, c) != 0)
		return -1;
	for (; old; old = d->nodes[old].next) {
		d->nodes[old].parent = 0;
		d->work++;
	}
	vm_changed(ex, OP_REPLACE, r, 0);
	return 0;
}

int vm_op_replace(struct vm_exec *ex, const unsigned char *ops)
{
	const struct vm_path *path = &ex->p->paths[OPERAND(ops, 0)];
	const struct vm_const *c = &ex->p->consts[OPERAND(ops, 1)];
	enum vm_seg_kind last = path->nsegs ? path->segs[path->nsegs - 1].kind
					    : VM_SEG_KEY;
	uint32_t first, count;
	int gone = 0;	/* a container was replaced: check attachment */

	if (vm_select(ex, path, path->nsegs, &first, &count) != 0)
		return -1;
	for (uint32_t i = 0; i < count; i++) {
		json_ref r = ex->set[first + i];
		enum json_type t = json_type_of(&ex->doc, r);
		int in = 1;

		/* `.**.b` selects b and a b inside it: once the outer one
		 * is replaced, the inner one is no longer there. */
		if (gone && (in = attached(ex, r)) < 0)
			return -1;
		if (!in || t == JSON_NULL)
			continue;
		/* Through a wildcard the scalars are replaced, not what
		 * holds them: `.**` reaches those below by itself, `.*` and
		 * `[*]` through the objects and arrays they find. */
		if (is_container(t) && last == VM_SEG_DEEP)
			continue;
		if (is_container(t) && (last == VM_SEG_MEMBERS ||
					last == VM_SEG_ELEMENTS)) {
			if (replace_below(ex, r, c) != 0)
				return -1;
			continue;
		}
		gone |= is_container(t);
		if (replace_value(ex, r, c) != 0)
			return -1;
	}
	return 0;
}

/* ---- removing values ----------------------------------------------------- */

/* Marks for DELETE: named by one of its paths, then chosen to go. */
enum { DEL_NONE, DEL_NAMED, DEL_TAKEN };

/* Is a parent of `r` named by the delete: does r go with it? */
static int inside_named(struct vm_exec *ex, json_ref r)
{
	const struct json_doc *d = &ex->doc;
	uint32_t steps = 0;

	for (r = d->nodes[r].parent; r; r = d->nodes[r].parent, steps++)
		if (ex->marks[r] != DEL_NONE)
			break;
	return (vm_charge(ex, 1 + steps / 64) != 0) ? -1 : r != 0;
}

int vm_op_delete(struct vm_exec *ex, const unsigned char *ops)
{
	const struct vm_const *list = &ex->p->consts[OPERAND(ops, 0)];
	struct json_doc *d = &ex->doc;
	uint32_t base = ex->set_len, first, count, n = base;

	/* Every path is resolved against the event as the statement found
	 * it, and only then is anything removed: `delete .i[0], .i[1]`
	 * removes the first two elements, as jq's del(.[0], .[1]) does. */
	for (uint32_t i = 0; i < list->count; i++) {
		const struct vm_path *path =
			&ex->p->paths[vm_u32(list->items + 4 * i)];

		if (vm_select(ex, path, path->nsegs, &first, &count) != 0)
			return -1;
	}
	/* Nothing found, or one value: no marks needed (and an event
	 * parsed lazily stays so when nothing is removed). */
	if (ex->set_len - base <= 1) {
		if (ex->set_len > base && ex->set[base] != d->root) {
			vm_changed(ex, OP_DELETE, ex->set[base], 1);
			json_remove(d, ex->set[base]);
		}
		ex->set_len = base;
		return 0;
	}
	if (json_complete_all(d) != 0)
		return vm_doc_failed(ex);
	memset(ex->marks, DEL_NONE, d->count);
	for (uint32_t i = base; i < ex->set_len; i++)
		if (ex->set[i] != d->root)
			ex->marks[ex->set[i]] = DEL_NAMED;
	/* A value named twice, or inside another named one, goes once;
	 * the root stays (drop removes events). Each is reported where it
	 * was before any went. */
	for (uint32_t i = base; i < ex->set_len; i++) {
		json_ref r = ex->set[i];
		int in;

		if (r == d->root || ex->marks[r] == DEL_TAKEN)
			continue;
		in = inside_named(ex, r);
		if (in < 0)
			return -1;
		if (in)
			continue;
		ex->marks[r] = DEL_TAKEN;
		vm_changed(ex, OP_DELETE, r, 1);
		ex->set[n++] = r;
	}
	for (uint32_t i = base; i < n; i++)
		json_remove(d, ex->set[i]);
	ex->set_len = base;
	return 0;
}

int vm_op_move(struct vm_exec *ex, const unsigned char *ops, int keep)
{
	const struct vm_path *src = &ex->p->paths[OPERAND(ops, 0)];
	const struct vm_path *dst = &ex->p->paths[OPERAND(ops, 1)];
	enum vm_opcode op = keep ? OP_COPY : OP_RENAME;
	struct json_doc *d = &ex->doc;
	uint32_t first, count;
	json_ref from, parent, to;

	if (vm_select(ex, src, src->nsegs, &first, &count) != 0)
		return -1;
	if (count == 0 || ex->set[first] == d->root)
		return 0;
	from = ex->set[first];
	if (make_parent(ex, dst, &parent) != 0)
		return -1;
	if (parent == 0)
		return 0;

	/* A rename within one object keeps the member where it was. A
	 * key below an array is no place to write: last_target rejects
	 * it, as set does (it was a silent no-op). */
	if (!keep && parent == d->nodes[from].parent &&
	    json_type_of(d, parent) == JSON_OBJECT &&
	    dst->segs[dst->nsegs - 1].kind == VM_SEG_KEY) {
		const struct vm_seg *s = &dst->segs[dst->nsegs - 1];
		json_ref clash = json_member(d, parent, s->name, s->len);

		if (clash == from)
			return 0;
		if (clash) {
			vm_changed(ex, op, clash, 1);
			json_remove(d, clash);
		}
		if (json_rename(d, from, s->name, s->len) != 0)
			return vm_doc_failed(ex);
		vm_changed(ex, op, from, 0);
		return 0;
	}

	if (last_target(ex, dst, parent, &to) != 0)
		return -1;
	if (to == 0 || to == from)
		return 0;
	/* Indexes from both ends can meet where the compiler could not
	 * tell: a value cannot be put inside itself. */
	for (json_ref up = d->nodes[to].parent; up; up = d->nodes[up].parent)
		if (up == from)
			return vm_reject(ex, VM_R_TYPE, "%s: destination %s "
					 "is inside the source value",
					 keep ? "copy" : "rename",
					 vm_path_name(ex, dst));
	if (json_set_copy(d, to, from) != 0)
		return vm_doc_failed(ex);
	vm_changed(ex, op, to, 0);
	if (!keep) {
		vm_changed(ex, op, from, 1);
		json_remove(d, from);
	}
	return 0;
}

/* Marks for KEEP: what each node is to the allowlist. */
enum { KEEP_NONE, KEEP_ON_PATH, KEEP_WHOLE };

int vm_op_keep(struct vm_exec *ex, const unsigned char *ops)
{
	const struct vm_const *list = &ex->p->consts[OPERAND(ops, 0)];
	struct json_doc *d = &ex->doc;
	json_ref top = d->root, c;

	/* Marks are per node: have them all before counting them. */
	if (json_complete_all(d) != 0)
		return vm_doc_failed(ex);
	if (vm_charge(ex, d->count / 64) != 0)
		return -1;
	memset(ex->marks, KEEP_NONE, d->count);
	for (uint32_t i = 0; i < list->count; i++) {
		const struct vm_path *path =
			&ex->p->paths[vm_u32(list->items + 4 * i)];
		uint32_t first, count;

		if (vm_select(ex, path, path->nsegs, &first, &count) != 0)
			return -1;
		for (uint32_t k = 0; k < count; k++) {
			json_ref r = ex->set[first + k];

			ex->marks[r] = KEEP_WHOLE;
			/* A marked ancestor has its own ancestors marked:
			 * stop there, so marking stays linear. */
			for (r = d->nodes[r].parent;
			     r && ex->marks[r] == KEEP_NONE;
			     r = d->nodes[r].parent)
				ex->marks[r] = KEEP_ON_PATH;
			if (vm_charge(ex, 1) != 0)
				return -1;
		}
		ex->set_len = first;
	}
	if (ex->marks[top] == KEEP_WHOLE)
		return 0;

	/* Prune: walk the kept skeleton, removing what is on no path. */
	c = json_first(d, top);
	while (c) {
		json_ref next;

		if (vm_charge(ex, 1) != 0)
			return -1;
		if (ex->marks[c] == KEEP_ON_PATH && json_first(d, c)) {
			c = json_first(d, c);
			continue;
		}
		next = c;
		while (next != top && json_next(d, next) == 0)
			next = d->nodes[next].parent;
		next = next == top ? 0 : json_next(d, next);
		if (ex->marks[c] == KEEP_NONE) {
			vm_changed(ex, OP_KEEP, c, 1);
			json_remove(d, c);
		}
		c = next;
	}
	return 0;
}

/* ---- string transforms --------------------------------------------------- */

/* Reject messages name an operator by the policy statement it comes
 * from (its word): the author wrote `shift`, not SHIFT_DATE. */
static int wrong_type(struct vm_exec *ex, enum vm_opcode op,
		      const struct vm_path *path, json_ref r, uint32_t mode,
		      const char *why)
{
	struct json_doc *d = &ex->doc;

	switch (mode) {
	case VM_ELSE_NULL:
		if (json_set_scalar(d, r, JSON_NULL, "null", 4) != 0)
			return vm_doc_failed(ex);
		vm_changed(ex, op, r, 0);
		return 0;
	case VM_ELSE_DELETE:
		if (r != d->root) {
			vm_changed(ex, op, r, 1);
			json_remove(d, r);
		}
		return 0;
	default:
		return vm_reject(ex, VM_R_TYPE, "%s: the value at %s %s",
				 vm_opinfo[op].word, vm_path_name(ex, path),
				 why);
	}
}

/* The text of value `r` for an operator that takes the types in `want`:
 * a string's decoded bytes, a number's spelling. */
static const char *value_text(struct vm_exec *ex, json_ref r,
			      enum json_type t, size_t *len)
{
	if (t == JSON_NUMBER) {
		*len = ex->doc.nodes[r].len;
		return json_text(&ex->doc, r);
	}
	return json_string(&ex->doc, r, len);
}

/* Store the result in ex->tmp as the value of `r`: of type `out`, or of
 * the type it had when `out` is JSON_NONE. */
static int store(struct vm_exec *ex, enum vm_opcode op, json_ref r,
		 enum json_type t, enum json_type out)
{
	int rc;

	if (out == JSON_NONE)
		out = t;
	if (out == JSON_NUMBER)
		rc = json_set_scalar(&ex->doc, r, JSON_NUMBER, ex->tmp.data,
				     ex->tmp.len);
	else
		rc = json_set_string(&ex->doc, r, ex->tmp.data, ex->tmp.len);
	if (rc != 0)
		return vm_doc_failed(ex);
	vm_changed(ex, op, r, 0);
	return 0;
}

int vm_each_value(struct vm_exec *ex, enum vm_opcode op,
		  const unsigned char *ops, uint32_t else_mode, unsigned want,
		  enum json_type out, vm_value_fn fn, void *ctx)
{
	const struct vm_path *path = &ex->p->paths[OPERAND(ops, 0)];
	struct json_doc *d = &ex->doc;
	uint32_t first, count;
	char why[64];

	if (vm_select(ex, path, path->nsegs, &first, &count) != 0)
		return -1;
	/* A path ending in a wildcard asks for every value it reaches;
	 * one that names a field asks for that field to be of the type. */
	int every = path->nsegs > 0 &&
		    path->segs[path->nsegs - 1].kind != VM_SEG_KEY &&
		    path->segs[path->nsegs - 1].kind != VM_SEG_INDEX;

	for (uint32_t i = 0; i < count; i++) {
		json_ref r = ex->set[first + i];
		enum json_type t = json_type_of(d, r);
		const char *s;
		size_t len;
		int rc;

		if (t == JSON_NULL || (every && !(want & 1u << t)))
			continue;
		if (!(want & 1u << t)) {
			snprintf(why, sizeof why, "is %s, not a %s",
				 a_type(t), want & 1u << JSON_NUMBER
				 ? "number" : "string");
			if (wrong_type(ex, op, path, r, else_mode, why) != 0)
				return -1;
			continue;
		}
		s = value_text(ex, r, t, &len);
		if (s == NULL)
			return vm_doc_failed(ex);
		if (vm_charge(ex, 1 + len / 64) != 0)
			return -1;
		buf_reset(&ex->tmp);
		rc = fn(ex, ops, s, len, ctx);
		if (rc < 0)
			return -1;
		if (rc == 2 && every)
			continue;
		if (rc > 0) {
			if (wrong_type(ex, op, path, r, else_mode,
				       ex->tmp.data) != 0)
				return -1;
			continue;
		}
		if (buf_failed(&ex->tmp))
			return vm_reject(ex, VM_R_MEMORY, "%s result larger "
					 "than %u bytes", vm_opinfo[op].word,
					 ex->lim.max_memory);
		/* An empty result may have no buffer at all: memcmp must
		 * not see NULL (regression: UB on masking ""). */
		if ((out == JSON_NONE || out == t) && ex->tmp.len == len &&
		    (len == 0 || memcmp(ex->tmp.data, s, len) == 0))
			continue;
		if (store(ex, op, r, t, out) != 0)
			return -1;
	}
	return 0;
}

static int each_string(struct vm_exec *ex, enum vm_opcode op,
		       const unsigned char *ops, uint32_t else_mode,
		       vm_value_fn fn)
{
	return vm_each_value(ex, op, ops, else_mode, 1u << JSON_STRING,
			     JSON_STRING, fn, NULL);
}

int vm_mismatch(struct vm_exec *ex, const char *why)
{
	buf_reset(&ex->tmp);
	buf_puts(&ex->tmp, why);
	buf_putc(&ex->tmp, '\0');
	return 1;
}

static size_t utf8_len(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/* Letters, digits and all non-ASCII characters are masked; ASCII
 * punctuation and spaces are separators and stay, keeping the shape. */
static int maskable(unsigned char c)
{
	return c >= 0x80 || (c >= '0' && c <= '9') ||
	       ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* `as "***-**-####"`: the template, its #s filled with the value's last
 * characters when those are all digits, masked otherwise. */
static void mask_template(struct vm_exec *ex, const char *tpl, size_t tlen,
			  const char *mch, size_t mlen, const char *s,
			  size_t len)
{
	size_t want = 0, have = 0, at = len;
	int digits = 1;

	for (size_t i = 0; i < tlen; i++)
		want += tpl[i] == '#';
	/* Step back `want` characters from the end. */
	while (have < want && at > 0) {
		at--;
		if (((unsigned char)s[at] & 0xC0) != 0x80) {
			have++;
			digits &= vm_is_digit((unsigned char)s[at]);
		}
	}
	digits &= have == want;
	for (size_t i = 0; i < tlen; i++) {
		if (tpl[i] != '#') {
			buf_putc(&ex->tmp, tpl[i]);
		} else if (digits) {
			buf_putc(&ex->tmp, s[at++]);
		} else {
			buf_put(&ex->tmp, mch, mlen);
		}
	}
}

void vm_mask_text(struct buf *out, const char *s, size_t len,
		  uint32_t keep_first, uint32_t keep_last, const char *mch,
		  size_t mlen)
{
	size_t total = 0, seen = 0;

	for (size_t i = 0; i < len; i += utf8_len((unsigned char)s[i]))
		total += maskable((unsigned char)s[i]);
	/* Never reveal a value whole because it is short. */
	if (total <= (size_t)keep_first + keep_last)
		keep_first = keep_last = 0;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_len((unsigned char)s[i]);

		if (!maskable((unsigned char)s[i])) {
			buf_put(out, s + i, n);
		} else {
			if (seen < keep_first || seen >= total - keep_last)
				buf_put(out, s + i, n);
			else
				buf_put(out, mch, mlen);
			seen++;
		}
		i += n;
	}
}

static int do_mask(struct vm_exec *ex, const unsigned char *ops,
		   const char *s, size_t len, void *ctx)
{
	uint32_t mk = OPERAND(ops, 3), tk = OPERAND(ops, 4);
	const char *mch = "*";
	size_t mlen = 1;

	(void)ctx;
	if (mk != VM_NONE) {
		mch = ex->p->consts[mk].data;
		mlen = ex->p->consts[mk].len;
	}
	if (tk != VM_NONE)
		mask_template(ex, ex->p->consts[tk].data,
			      ex->p->consts[tk].len, mch, mlen, s, len);
	else
		vm_mask_text(&ex->tmp, s, len, OPERAND(ops, 1),
			     OPERAND(ops, 2), mch, mlen);
	return 0;
}

int vm_op_mask(struct vm_exec *ex, const unsigned char *ops)
{
	return each_string(ex, OP_MASK, ops, OPERAND(ops, 5), do_mask);
}

void vm_hmac(const struct vm_program *p, const char *domain, const char *s,
	     size_t len, unsigned char mac[32])
{
	crypto_auth_hmacsha256_state st = p->hmac;

	/* A domain, NUL-terminated, keeps each use's hashes apart. */
	if (domain)
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)
					      domain, strlen(domain) + 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)s, len);
	crypto_auth_hmacsha256_final(&st, mac);
}

void vm_hex(struct buf *out, const unsigned char *mac, uint32_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (uint32_t i = 0; i < n; i++)
		buf_putc(out, hex[i % 2 ? mac[i / 2] & 15 : mac[i / 2] >> 4]);
}

static int do_pseudonymize(struct vm_exec *ex, const unsigned char *ops,
			   const char *s, size_t len, void *ctx)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];

	(void)ctx;
	vm_hmac(ex->p, NULL, s, len, mac);
	vm_hex(&ex->tmp, mac, OPERAND(ops, 1));
	return 0;
}

int vm_op_pseudonymize(struct vm_exec *ex, const unsigned char *ops)
{
	return each_string(ex, OP_PSEUDONYMIZE, ops, OPERAND(ops, 2),
			   do_pseudonymize);
}

static int do_replace_re(struct vm_exec *ex, const unsigned char *ops,
			 const char *s, size_t len, void *ctx)
{
	const struct vm_const *re = &ex->p->consts[OPERAND(ops, 1)];
	const struct vm_const *with = &ex->p->consts[OPERAND(ops, 2)];
	uint32_t opts = PCRE2_SUBSTITUTE_GLOBAL | PCRE2_NO_UTF_CHECK |
			PCRE2_SUBSTITUTE_OVERFLOW_LENGTH;
	PCRE2_SIZE outlen;
	uint32_t limit = VM_REGEX_MATCH_LIMIT;
	int rc;

	(void)ctx;
	for (int attempt = 0; attempt < 2; attempt++) {
		size_t room = attempt ? 0 : len + len / 2 + 64;

		if (attempt)
			room = outlen + 1;
		if (room > ex->tmp.cap && buf_grow(&ex->tmp, room) != 0)
			return vm_reject(ex, VM_R_MEMORY, "replace result "
					 "larger than %u bytes",
					 ex->lim.max_memory);
		outlen = ex->tmp.cap;
		limit = vm_regex_budget(ex, len);
		rc = pcre2_substitute(re->re, (PCRE2_SPTR)s, len, 0, opts,
				      ex->md, ex->mctx,
				      (PCRE2_SPTR)with->data, with->len,
				      (PCRE2_UCHAR *)ex->tmp.data, &outlen);
		if (rc != PCRE2_ERROR_NOMEMORY)
			break;
	}
	if (rc < 0)
		return vm_regex_failed(ex, "replace: the regular expression",
				       rc, limit);
	if (rc == 0) {
		/* No match: leave the value exactly as it came. */
		buf_put(&ex->tmp, s, len);
		return 0;
	}
	ex->tmp.len = outlen;
	return 0;
}

int vm_op_replace_re(struct vm_exec *ex, const unsigned char *ops)
{
	return each_string(ex, OP_REPLACE_RE, ops, OPERAND(ops, 3),
			   do_replace_re);
}

/* ---- IP addresses -------------------------------------------------------- */

int vm_parse_ip(const char *s, size_t len, unsigned char addr[16])
{
	char text[INET6_ADDRSTRLEN + 1];
	size_t part = 0, digits = 0;
	unsigned v = 0;

	if (len == 0 || len >= sizeof text)
		return 0;
	memcpy(text, s, len);
	text[len] = '\0';
	if (memchr(text, ':', len) != NULL)
		return inet_pton(AF_INET6, text, addr) == 1 ? 16 : 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && vm_is_digit((unsigned char)text[i])) {
			v = v * 10 + (unsigned)(text[i] - '0');
			if (++digits > 3 || v > 255)
				return 0;
			continue;
		}
		if (digits == 0 || part > 3 || (i < len && text[i] != '.'))
			return 0;
		addr[part++] = (unsigned char)v;
		v = 0;
		digits = 0;
	}
	return part == 4 ? 4 : 0;
}

/* The 12 bytes that start an IPv4-mapped IPv6 address (::ffff:a.b.c.d). */
static const unsigned char v4_mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

int vm_parse_cidr_ip(const char *s, size_t len, unsigned char addr[16])
{
	int n;

	if (memchr(s, ':', len) != NULL && memchr(s, '.', len) != NULL)
		return 0;
	n = vm_parse_ip(s, len, addr);
	if (n == 16 && memcmp(addr, v4_mapped, sizeof v4_mapped) == 0) {
		memmove(addr, addr + 12, 4);
		return 4;
	}
	return n;
}

/* Dotted-quad text, as inet_ntop writes it: its sprintf costs more than
 * the rest of a truncation. */
static void put_ipv4(struct buf *out, const unsigned char a[4])
{
	char text[16];
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];

		if (i)
			text[n++] = '.';
		if (v >= 100)
			text[n++] = (char)('0' + v / 100);
		if (v >= 10)
			text[n++] = (char)('0' + v / 10 % 10);
		text[n++] = (char)('0' + v % 10);
	}
	buf_put(out, text, n);
}

static int do_truncate_ip(struct vm_exec *ex, const unsigned char *ops,
			  const char *s, size_t len, void *ctx)
{
	unsigned char a[16];
	char out[INET6_ADDRSTRLEN];
	int n = vm_parse_ip(s, len, a);
	uint32_t prefix;

	(void)ctx;
	if (n == 0)
		return vm_mismatch(ex, "is not an IP address");
	prefix = OPERAND(ops, n == 4 ? 1 : 2);
	/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is an IPv4 address
	 * in disguise: it gets the IPv4 prefix. */
	if (n == 16 && memcmp(a, v4_mapped, sizeof v4_mapped) == 0) {
		prefix = OPERAND(ops, 1);
		if (prefix != VM_NONE)
			prefix += 96;
	}
	if (prefix == VM_NONE)
		return vm_mismatch(ex, n == 4 ? "is an IPv4 address"
					   : "is an IPv6 address");
	for (int bit = (int)prefix; bit < n * 8; bit++)
		a[bit / 8] &= (unsigned char)~(0x80u >> (bit % 8));
	if (n == 4) {
		put_ipv4(&ex->tmp, a);
		return 0;
	}
	if (inet_ntop(AF_INET6, a, out, sizeof out) == NULL)
		return vm_mismatch(ex, "is not an IP address");
	buf_puts(&ex->tmp, out);
	return 0;
}

int vm_op_truncate_ip(struct vm_exec *ex, const unsigned char *ops)
{
	return each_string(ex, OP_TRUNCATE_IP, ops, OPERAND(ops, 3),
			   do_truncate_ip);
}
