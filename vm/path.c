/* path.c - select the values a path names in the current event.
 *
 * A path is applied one segment at a time to a frontier of nodes, which
 * starts at the event's root. The frontiers live in ex->set: each step
 * appends the next frontier after the current one, and the final one is
 * moved down to where the first began, so a selection costs no memory
 * beyond its result. Every node visited is charged to the work budget.
 */
#include <stdio.h>
#include <string.h>

#include "exec.h"

int vm_set_push(struct vm_exec *ex, json_ref r)
{
	if (ex->set_len == ex->set_cap)
		return vm_reject(ex, VM_R_TOO_MANY, "a path selected more "
				 "than %u values", ex->set_cap);
	ex->set[ex->set_len++] = r;
	return 0;
}

/* Event-pattern fields look through arrays: a key applies to every object
 * inside an array, at any depth of nesting. */
static int push_crossing_arrays(struct vm_exec *ex, json_ref r)
{
	struct json_doc *d = &ex->doc;
	json_ref c;

	if (json_type_of(d, r) != JSON_ARRAY)
		return vm_set_push(ex, r);
	ex->crossed = 1;
	/* Walk the array's subtree of nested arrays without recursion. */
	c = json_first(d, r);
	while (c) {
		if (vm_charge(ex, 1) != 0)
			return -1;
		if (json_type_of(d, c) == JSON_ARRAY && json_first(d, c)) {
			c = json_first(d, c);
			continue;
		}
		if (json_type_of(d, c) != JSON_ARRAY && vm_set_push(ex, c) != 0)
			return -1;
		while (c != r && json_next(d, c) == 0)
			c = d->nodes[c].parent;
		if (c == r)
			break;
		c = json_next(d, c);
	}
	return 0;
}

/* `**`: the node itself and every node below it, in document order. */
static int push_descendants(struct vm_exec *ex, json_ref top)
{
	struct json_doc *d = &ex->doc;

	for (json_ref c = top; c; c = json_walk_next(d, top, c))
		if (vm_charge(ex, 1) != 0 || vm_set_push(ex, c) != 0)
			return -1;
	return 0;
}

static int step(struct vm_exec *ex, const struct vm_path *path,
		const struct vm_seg *seg, json_ref r)
{
	struct json_doc *d = &ex->doc;
	json_ref c;

	switch (seg->kind) {
	case VM_SEG_KEY:
		if (path->mode == VM_PATH_PATTERN &&
		    json_type_of(d, r) == JSON_ARRAY) {
			uint32_t from = ex->set_len, to;

			/* Cross the array, then look the key up in each
			 * object found. */
			if (push_crossing_arrays(ex, r) != 0)
				return -1;
			to = ex->set_len;
			ex->set_len = from;
			for (uint32_t i = from; i < to; i++) {
				c = json_member_stable(d, ex->set[i], seg->name,
						       seg->len);
				if (c)
					ex->set[ex->set_len++] = c;
			}
			return 0;
		}
		c = json_member_stable(d, r, seg->name, seg->len);
		return c ? vm_set_push(ex, c) : 0;
	case VM_SEG_INDEX:
		c = json_element(d, r, seg->index);
		return c ? vm_set_push(ex, c) : 0;
	case VM_SEG_ELEMENTS:
		if (json_type_of(d, r) != JSON_ARRAY)
			return 0;
		for (c = json_first(d, r); c; c = json_next(d, c))
			if (vm_set_push(ex, c) != 0)
				return -1;
		return 0;
	case VM_SEG_MEMBERS:
		if (json_type_of(d, r) != JSON_OBJECT)
			return 0;
		for (c = json_first(d, r); c; c = json_next(d, c))
			if (vm_set_push(ex, c) != 0)
				return -1;
		return 0;
	case VM_SEG_DEEP:
		return push_descendants(ex, r);
	}
	return 0;
}

int vm_select(struct vm_exec *ex, const struct vm_path *path,
	      uint32_t nsegs, uint32_t *first, uint32_t *count)
{
	uint32_t base = ex->set_len, cur = base, end;

	ex->lookups++;
	ex->crossed = 0;
	if (vm_set_push(ex, ex->doc.root) != 0)
		return -1;
	end = ex->set_len;
	for (uint32_t s = 0; s < nsegs && cur < end; s++) {
		if (vm_charge(ex, end - cur) != 0)
			return -1;
		for (uint32_t i = cur; i < end; i++)
			if (step(ex, path, &path->segs[s], ex->set[i]) != 0)
				return -1;
		/* And for every value the step selected. */
		if (vm_charge(ex, ex->set_len - end) != 0)
			return -1;
		cur = end;
		end = ex->set_len;
	}

	/* A pattern field's values are the leaves: cross final arrays. */
	if (path->mode == VM_PATH_PATTERN && cur < end) {
		uint32_t from = end;

		for (uint32_t i = cur; i < end; i++)
			if (push_crossing_arrays(ex, ex->set[i]) != 0)
				return -1;
		cur = from;
		end = ex->set_len;
	}

	/* A lazy parse reading on may have met bad input. */
	if (ex->doc.failed)
		return vm_doc_failed(ex);
	memmove(ex->set + base, ex->set + cur, (end - cur) * sizeof *ex->set);
	*first = base;
	*count = end - cur;
	ex->set_len = base + *count;
	return 0;
}

int vm_pattern_values(struct vm_exec *ex, json_ref obj, const char *name,
		      size_t len, uint32_t *first, uint32_t *count)
{
	json_ref c = json_member(&ex->doc, obj, name, len);

	*first = ex->set_len;
	if (vm_charge(ex, 1) != 0 || (c && push_crossing_arrays(ex, c) != 0))
		return -1;
	*count = ex->set_len - *first;
	return 0;
}

/* Keys that read well bare; others are quoted. */
static int plain_key(const char *s, size_t n)
{
	if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') ||
			(s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return 0;
	return 1;
}

const char *vm_where(struct vm_exec *ex, json_ref r)
{
	struct json_doc *d = &ex->doc;
	json_ref chain[64];
	int n = 0;

	/* Collect the way up, then print it down; deep paths are elided
	 * in the middle, which is plenty to find the field. */
	for (json_ref c = r; c && c != d->root && n < 64;
	     c = d->nodes[c].parent)
		chain[n++] = c;
	buf_reset(&ex->where);
	if (n == 0)
		buf_putc(&ex->where, '.');
	while (n-- > 0) {
		json_ref c = chain[n], parent = d->nodes[c].parent;

		if (json_type_of(d, parent) == JSON_OBJECT) {
			size_t kl;
			const char *k = json_key(d, c, &kl);

			buf_putc(&ex->where, '.');
			if (k && plain_key(k, kl))
				buf_put(&ex->where, k, kl);
			else if (k)
				json_encode_string(&ex->where, k, kl);
		} else {
			char idx[24];
			uint32_t i = 0;

			for (json_ref s = json_first(d, parent); s && s != c;
			     s = json_next(d, s))
				i++;
			snprintf(idx, sizeof idx, "[%u]", i);
			buf_puts(&ex->where, idx);
		}
	}
	buf_putc(&ex->where, '\0');
	return buf_failed(&ex->where) ? "(path too long)" : ex->where.data;
}

const char *vm_path_name(struct vm_exec *ex, const struct vm_path *path)
{
	char idx[32];

	buf_reset(&ex->where);
	if (path->nsegs == 0)
		buf_putc(&ex->where, '.');
	for (uint32_t i = 0; i < path->nsegs; i++) {
		const struct vm_seg *s = &path->segs[i];

		switch (s->kind) {
		case VM_SEG_KEY:
			buf_putc(&ex->where, '.');
			if (plain_key(s->name, s->len))
				buf_put(&ex->where, s->name, s->len);
			else
				json_encode_string(&ex->where, s->name,
						   s->len);
			break;
		case VM_SEG_INDEX:
			snprintf(idx, sizeof idx, "[%lld]",
				 (long long)s->index);
			buf_puts(&ex->where, idx);
			break;
		case VM_SEG_ELEMENTS:
			buf_puts(&ex->where, "[*]");
			break;
		case VM_SEG_MEMBERS:
			buf_puts(&ex->where, ".*");
			break;
		case VM_SEG_DEEP:
			buf_puts(&ex->where, ".**");
			break;
		}
	}
	buf_putc(&ex->where, '\0');
	return buf_failed(&ex->where) ? "(path too long)" : ex->where.data;
}
