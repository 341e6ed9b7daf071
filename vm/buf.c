/* buf.c - growable byte buffer with a hard limit (see buf.h). */
#include "buf.h"

#include <stdlib.h>

#include "alloc.h"

void buf_init(struct buf *b, size_t limit)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->limit = limit;
	b->err = BUF_OK;
}

void buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b, b->limit);
}

/* Make room for `extra` more bytes; doubles so appends stay amortised O(1). */
int buf_grow(struct buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (b->err != BUF_OK)
		return -1;
	if (extra > b->limit || b->len > b->limit - extra) {
		b->err = BUF_LIMIT;
		return -1;
	}
	need = b->len + extra;
	cap = b->cap ? b->cap : 256;
	/* The first block never exceeds the limit: appends check against
	 * cap, so a cap past the limit would let them through. */
	if (cap > b->limit)
		cap = b->limit;
	while (cap < need)
		cap = cap > b->limit / 2 ? b->limit : cap * 2;
	/* Appends within the capacity are not checked again: it must never
	 * exceed the limit, even for limits below the first allocation. */
	if (cap > b->limit)
		cap = b->limit;
	p = scrub_realloc(b->data, cap);
	if (p == NULL) {
		b->err = BUF_NOMEM;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}
