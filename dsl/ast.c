/* ast.c - arena, lists and small helpers for the syntax tree. */
#include "ast.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vm/alloc.h"
#include "../vm/json.h"

struct dsl_arena_block {
	struct dsl_arena_block *next;
	size_t used, cap;
	max_align_t data[];
};

void *dsl_alloc(struct dsl_arena *a, size_t n)
{
	struct dsl_arena_block *b = a->head;
	size_t align = sizeof(max_align_t);
	void *p;

	n = (n + align - 1) / align * align;
	if (b == NULL || b->cap - b->used < n) {
		size_t cap = n > 16384 ? n : 16384;

		b = scrub_malloc(sizeof *b + cap);
		if (b == NULL) {
			a->failed = 1;
			return NULL;
		}
		b->next = a->head;
		b->used = 0;
		b->cap = cap;
		a->head = b;
	}
	p = (char *)b->data + b->used;
	b->used += n;
	memset(p, 0, n);
	return p;
}

char *dsl_strndup(struct dsl_arena *a, const char *s, size_t n)
{
	char *p = dsl_alloc(a, n + 1);

	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

void dsl_arena_free(struct dsl_arena *a)
{
	struct dsl_arena_block *b, *next;

	for (b = a->head; b; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
	a->failed = 0;
}

int dsl_list_push(struct dsl_arena *a, struct dsl_list *l, void *item)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4;
		void **items = dsl_alloc(a, cap * sizeof *items);

		if (items == NULL)
			return -1;
		if (l->n)
			memcpy(items, l->items, l->n * sizeof *items);
		l->items = items;
		l->cap = cap;
	}
	l->items[l->n++] = item;
	return 0;
}

const char *dsl_stmt_keyword(enum dsl_stmt_kind k)
{
	switch (k) {
	case ST_POLICY:
		return "policy";
	case ST_INCLUDE:
		return "include";
	case ST_PARAM:
		return "param";
	case ST_OUTPUT:
		return "output";
	case ST_SELECT:
		return "select";
	case ST_DROP:
		return "drop";
	case ST_SAMPLE:
		return "sample";
	case ST_RULE:
		return "rule";
	case ST_SET:
		return "set";
	case ST_DELETE:
		return "delete";
	case ST_RENAME:
		return "rename";
	case ST_COPY:
		return "copy";
	case ST_KEEP:
		return "keep";
	case ST_MASK:
		return "mask";
	case ST_PSEUDONYMIZE:
		return "pseudonymize";
	case ST_REPLACE:
		return "replace";
	case ST_TRUNCATE:
		return "truncate";
	case ST_REDACT:
		return "redact";
	case ST_ROUND:
		return "round";
	case ST_BUCKET:
		return "bucket";
	case ST_SHIFT:
		return "shift";
	case ST_TOKENIZE:
		return "tokenize";
	}
	return "?";
}

int dsl_plain_name(const char *s, size_t n)
{
	if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') ||
			(s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

void dsl_path_format(const struct dsl_path *p, struct buf *out)
{
	char num[32];

	if (p->n == 0)
		buf_putc(out, '.');
	for (size_t i = 0; i < p->n; i++) {
		const struct dsl_seg *s = &p->segs[i];

		switch (s->kind) {
		case SEG_KEY:
			buf_putc(out, '.');
			if (dsl_plain_name(s->name, s->len))
				buf_put(out, s->name, s->len);
			else
				json_encode_string(out, s->name, s->len);
			break;
		case SEG_INDEX:
			snprintf(num, sizeof num, "[%lld]",
				 (long long)s->index);
			buf_puts(out, num);
			break;
		case SEG_ELEMENTS:
			buf_puts(out, "[*]");
			break;
		case SEG_MEMBERS:
			buf_puts(out, ".*");
			break;
		case SEG_DEEP:
			buf_puts(out, ".**");
			break;
		}
	}
}
