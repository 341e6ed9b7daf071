/* buf.h - a growable byte buffer with a hard size limit.
 *
 * Errors are sticky: once an append fails (limit reached or out of memory)
 * every later append is a no-op and buf_failed() says why, so a writer can
 * emit a whole value and check once at the end.
 *
 * Ownership: the buffer owns its bytes; buf_free() releases them.
 */
#ifndef SCRUB_BUF_H
#define SCRUB_BUF_H

#include <stddef.h>
#include <string.h>

enum buf_error { BUF_OK = 0, BUF_LIMIT, BUF_NOMEM };

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t limit;		/* len never exceeds this */
	enum buf_error err;
};

void buf_init(struct buf *b, size_t limit);
void buf_free(struct buf *b);

/* A buffer over caller-owned memory that never grows: appending past `cap`
 * fails with BUF_LIMIT. Do not buf_free() it. */
static inline void buf_init_fixed(struct buf *b, char *mem, size_t cap)
{
	b->data = mem;
	b->len = 0;
	b->cap = cap;
	b->limit = cap;
	b->err = BUF_OK;
}
int buf_grow(struct buf *b, size_t extra);

static inline void buf_reset(struct buf *b)
{
	b->len = 0;
	b->err = BUF_OK;
}

static inline int buf_failed(const struct buf *b)
{
	return b->err != BUF_OK;
}

static inline void buf_put(struct buf *b, const void *p, size_t n)
{
	if (n > b->cap - b->len && buf_grow(b, n) != 0)
		return;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

static inline void buf_putc(struct buf *b, char c)
{
	if (b->len == b->cap && buf_grow(b, 1) != 0)
		return;
	b->data[b->len++] = c;
}

static inline void buf_puts(struct buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

#endif
