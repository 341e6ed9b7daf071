/* emit.c - build and serialize a bytecode image (see emit.h and
 * vm/bytecode.h for the format). */
#include "emit.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../vm/alloc.h"
#include "../vm/json.h"

/* The format stores counts and offsets as u32; stay well inside. */
#define CC_MAX_ITEMS (1u << 24)

void cc_emit_init(struct cc_emit *e)
{
	memset(e, 0, sizeof *e);
	buf_init(&e->code, 64u << 20);
}

void cc_emit_free(struct cc_emit *e)
{
	for (uint32_t i = 0; i < e->nconsts; i++)
		free(e->consts[i].data);
	for (uint32_t i = 0; i < e->npaths; i++)
		free(e->paths[i].data);
	free(e->consts);
	free(e->paths);
	free(e->consts_index.slots);
	free(e->paths_index.slots);
	free(e->params);
	free(e->lines);
	free(e->files);
	buf_free(&e->code);
	memset(e, 0, sizeof *e);
}

static int grow(struct cc_emit *e, void **items, uint32_t *cap, uint32_t n,
		size_t size)
{
	void *p;
	uint32_t c;

	if (n < *cap)
		return 0;
	if (n >= CC_MAX_ITEMS) {
		e->failed = 1;
		return -1;
	}
	c = *cap ? *cap * 2 : 16;
	p = scrub_realloc(*items, (size_t)c * size);
	if (p == NULL) {
		e->failed = 1;
		return -1;
	}
	*items = p;
	*cap = c;
	return 0;
}

static uint64_t blob_hash(uint8_t kind, const void *data, size_t len)
{
	return XXH3_64bits_withSeed(data, len, kind);
}

/* The slot of the shared blob (kind, data, len), or the empty one
 * where it would go. */
static uint32_t *index_slot(const struct cc_index *ix,
			    const struct cc_blob *tab, uint8_t kind,
			    const void *data, size_t len)
{
	uint32_t mask = ix->cap - 1;
	uint32_t at = (uint32_t)blob_hash(kind, data, len) & mask;

	for (;; at = (at + 1) & mask) {
		const struct cc_blob *b;

		if (ix->slots[at] == 0)
			return &ix->slots[at];
		b = &tab[ix->slots[at] - 1];
		if (b->kind == kind && b->len == len &&
		    (len == 0 || memcmp(b->data, data, len) == 0))
			return &ix->slots[at];
	}
}

/* Room for n + 1 shared blobs at most half full, so probes stay short;
 * on growing, the shared blobs among the first n are placed again. */
static int index_reserve(struct cc_emit *e, struct cc_index *ix,
			 const struct cc_blob *tab, uint32_t n)
{
	struct cc_index bigger;

	if ((uint64_t)(n + 1) * 2 <= ix->cap)
		return 0;
	bigger.cap = ix->cap ? ix->cap * 2 : 64;
	while ((uint64_t)(n + 1) * 2 > bigger.cap)
		bigger.cap *= 2;
	bigger.slots = scrub_calloc(bigger.cap, sizeof *bigger.slots);
	if (bigger.slots == NULL) {
		e->failed = 1;
		return -1;
	}
	for (uint32_t i = 0; i < n; i++)
		if (!tab[i].unique)
			*index_slot(&bigger, tab, tab[i].kind, tab[i].data,
				    tab[i].len) = i + 1;
	free(ix->slots);
	*ix = bigger;
	return 0;
}

/* A blob added to a table; a shared one (intern) that is there already
 * is found by hash, not by a scan: a policy's constants can number in
 * the hundreds of thousands (an `in` list), and a scan made compiling
 * quadratic. */
static uint32_t add_blob(struct cc_emit *e, struct cc_blob **tab,
			 uint32_t *n, uint32_t *cap, struct cc_index *ix,
			 uint8_t kind, const void *data, size_t len,
			 int intern)
{
	struct cc_blob *b;
	uint32_t *slot = NULL;

	if (e->failed)
		return 0;
	if (intern) {
		if (index_reserve(e, ix, *tab, *n) != 0)
			return 0;
		slot = index_slot(ix, *tab, kind, data, len);
		if (*slot != 0)
			return *slot - 1;
	}
	if (len > UINT32_MAX / 4 ||
	    grow(e, (void **)tab, cap, *n, sizeof **tab) != 0) {
		e->failed = 1;
		return 0;
	}
	b = &(*tab)[*n];
	b->kind = kind;
	b->unique = !intern;
	b->len = (uint32_t)len;
	b->data = scrub_malloc(len ? len : 1);
	if (b->data == NULL) {
		e->failed = 1;
		return 0;
	}
	if (len)
		memcpy(b->data, data, len);
	if (slot != NULL)
		*slot = *n + 1;
	return (*n)++;
}

uint32_t cc_const(struct cc_emit *e, uint8_t kind, const void *data,
		  size_t len)
{
	return add_blob(e, &e->consts, &e->nconsts, &e->consts_cap,
			&e->consts_index, kind, data, len, 1);
}

uint32_t cc_const_unique(struct cc_emit *e, uint8_t kind, const void *data,
			 size_t len)
{
	return add_blob(e, &e->consts, &e->nconsts, &e->consts_cap,
			&e->consts_index, kind, data, len, 0);
}

uint32_t cc_string(struct cc_emit *e, const char *s, size_t len)
{
	return cc_const(e, VM_K_STRING, s, len);
}

/* A JSON literal of the policy, re-serialized compactly. */
static void literal_text(const struct dsl_json *j, struct buf *out)
{
	switch (j->kind) {
	case DJ_NULL:
		buf_puts(out, "null");
		break;
	case DJ_TRUE:
		buf_puts(out, "true");
		break;
	case DJ_FALSE:
		buf_puts(out, "false");
		break;
	case DJ_NUMBER:
		buf_put(out, j->text, j->len);
		break;
	case DJ_STRING:
	case DJ_PARAM:
		json_encode_string(out, j->text, j->len);
		break;
	case DJ_ARRAY:
	case DJ_OBJECT:
		buf_putc(out, j->kind == DJ_ARRAY ? '[' : '{');
		for (size_t i = 0; i < j->items.n; i++) {
			const struct dsl_json *c = j->items.items[i];

			if (i)
				buf_putc(out, ',');
			if (j->kind == DJ_OBJECT) {
				json_encode_string(out, c->key, c->keylen);
				buf_putc(out, ':');
			}
			literal_text(c, out);
		}
		buf_putc(out, j->kind == DJ_ARRAY ? ']' : '}');
		break;
	}
}

uint32_t cc_value(struct cc_emit *e, const struct dsl_json *j)
{
	struct buf b;
	uint32_t k;

	switch (j->kind) {
	case DJ_NULL:
		return cc_const(e, VM_K_NULL, NULL, 0);
	case DJ_TRUE:
		return cc_const(e, VM_K_TRUE, NULL, 0);
	case DJ_FALSE:
		return cc_const(e, VM_K_FALSE, NULL, 0);
	case DJ_NUMBER:
		return cc_const(e, VM_K_NUMBER, j->text, j->len);
	case DJ_STRING:
		return cc_const(e, VM_K_STRING, j->text, j->len);
	default:
		break;
	}
	buf_init(&b, UINT32_MAX / 4);
	literal_text(j, &b);
	if (buf_failed(&b)) {
		e->failed = 1;
		buf_free(&b);
		return 0;
	}
	k = cc_const(e, VM_K_JSON, b.data, b.len);
	buf_free(&b);
	return k;
}

static void put_u32(struct buf *b, uint32_t v)
{
	unsigned char w[4] = { (unsigned char)v, (unsigned char)(v >> 8),
			       (unsigned char)(v >> 16),
			       (unsigned char)(v >> 24) };

	buf_put(b, w, 4);
}

static void put_u64(struct buf *b, uint64_t v)
{
	put_u32(b, (uint32_t)v);
	put_u32(b, (uint32_t)(v >> 32));
}

static uint32_t intern_path(struct cc_emit *e, struct buf *enc)
{
	uint32_t i;

	if (buf_failed(enc)) {
		e->failed = 1;
		buf_free(enc);
		return 0;
	}
	i = add_blob(e, &e->paths, &e->npaths, &e->paths_cap,
		     &e->paths_index, 0, enc->data, enc->len, 1);
	buf_free(enc);
	return i;
}

uint32_t cc_path(struct cc_emit *e, const struct dsl_path *p, int mode)
{
	struct buf enc;

	buf_init(&enc, 1u << 20);
	buf_putc(&enc, (char)mode);
	put_u32(&enc, (uint32_t)p->n);
	for (size_t i = 0; i < p->n; i++) {
		const struct dsl_seg *s = &p->segs[i];

		switch (s->kind) {
		case SEG_KEY:
			buf_putc(&enc, VM_SEG_KEY);
			put_u32(&enc, cc_string(e, s->name, s->len));
			break;
		case SEG_INDEX:
			buf_putc(&enc, VM_SEG_INDEX);
			put_u64(&enc, (uint64_t)s->index);
			break;
		case SEG_ELEMENTS:
			buf_putc(&enc, VM_SEG_ELEMENTS);
			break;
		case SEG_MEMBERS:
			buf_putc(&enc, VM_SEG_MEMBERS);
			break;
		case SEG_DEEP:
			buf_putc(&enc, VM_SEG_DEEP);
			break;
		}
	}
	return intern_path(e, &enc);
}

uint32_t cc_pattern_path(struct cc_emit *e, const char *const *keys,
			 const size_t *lens, size_t n)
{
	struct buf enc;

	buf_init(&enc, 1u << 20);
	buf_putc(&enc, VM_PATH_PATTERN);
	put_u32(&enc, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		buf_putc(&enc, VM_SEG_KEY);
		put_u32(&enc, cc_string(e, keys[i], lens[i]));
	}
	return intern_path(e, &enc);
}

uint32_t cc_words(struct cc_emit *e, uint8_t kind, const uint32_t *w,
		  size_t n)
{
	struct buf enc;
	uint32_t k;
	size_t words = kind == VM_K_MATCHER ? 4 * n : n;

	buf_init(&enc, UINT32_MAX / 4);
	put_u32(&enc, (uint32_t)n);
	for (size_t i = 0; i < words; i++)
		put_u32(&enc, w[i]);
	if (buf_failed(&enc)) {
		e->failed = 1;
		buf_free(&enc);
		return 0;
	}
	k = cc_const(e, kind, enc.data, enc.len);
	buf_free(&enc);
	return k;
}

uint32_t cc_file(struct cc_emit *e, const char *name)
{
	uint32_t k = cc_string(e, name, strlen(name)), *f;

	for (uint32_t i = 0; i < e->nfiles; i++)
		if (e->files[i] == k)
			return i;
	f = scrub_realloc(e->files, (e->nfiles + 1) * sizeof *f);
	if (f == NULL) {
		e->failed = 1;
		return 0;
	}
	e->files = f;
	e->files[e->nfiles] = k;
	return e->nfiles++;
}

uint32_t cc_pc(const struct cc_emit *e)
{
	return (uint32_t)e->code.len;
}

static void note_line(struct cc_emit *e)
{
	uint32_t pc = cc_pc(e), *l;

	if (e->nlines > 0) {
		l = &e->lines[3 * (e->nlines - 1)];
		if (l[1] == e->file && l[2] == e->line)
			return;
		if (l[0] == pc) {
			/* Nothing was emitted for the previous line. */
			l[1] = e->file;
			l[2] = e->line;
			return;
		}
	}
	if (grow(e, (void **)&e->lines, &e->lines_cap, 3 * e->nlines + 3,
		 sizeof *e->lines) != 0)
		return;
	l = &e->lines[3 * e->nlines++];
	l[0] = pc;
	l[1] = e->file;
	l[2] = e->line;
}

uint32_t cc_op(struct cc_emit *e, enum vm_opcode op, ...)
{
	uint32_t pc = cc_pc(e);
	const char *kinds = vm_opinfo[op].operands;
	uint32_t a[VM_MAX_OPERANDS];
	va_list ap;

	note_line(e);
	buf_putc(&e->code, (char)op);
	va_start(ap, op);
	for (size_t i = 0; kinds[i]; i++) {
		a[i] = va_arg(ap, uint32_t);
		put_u32(&e->code, a[i]);
	}
	va_end(ap);
	/* The loader refuses a keyed instruction in a program that does
	 * not ask for a key: the same rule sets the flag. */
	if (vm_op_keyed(op, a))
		e->flags |= VM_META_NEEDS_KEY;
	if (buf_failed(&e->code))
		e->failed = 1;
	return pc;
}

void cc_patch(struct cc_emit *e, uint32_t jump_pc, uint32_t target)
{
	uint32_t off = target - (jump_pc + 5);
	unsigned char *w;

	if (e->failed || jump_pc + 5 > e->code.len)
		return;
	w = (unsigned char *)e->code.data + jump_pc + 1;
	w[0] = (unsigned char)off;
	w[1] = (unsigned char)(off >> 8);
	w[2] = (unsigned char)(off >> 16);
	w[3] = (unsigned char)(off >> 24);
}

/* ---- the file ------------------------------------------------------------ */

static void section(struct buf *out, uint32_t tag, const struct buf *body)
{
	put_u32(out, tag);
	put_u32(out, (uint32_t)body->len);
	buf_put(out, body->data, body->len);
}

int cc_emit_write(struct cc_emit *e, struct buf *out)
{
	struct buf s, body;
	uint64_t sum;
	int rc = -1;

	if (e->failed)
		return -1;
	buf_init(&s, UINT32_MAX / 2);
	buf_init(&body, UINT32_MAX / 2);

	put_u32(&s, e->name);
	put_u32(&s, e->flags);
	section(&body, VM_SEC_META, &s);

	buf_reset(&s);
	put_u32(&s, e->nfiles);
	for (uint32_t i = 0; i < e->nfiles; i++)
		put_u32(&s, e->files[i]);
	section(&body, VM_SEC_SRCS, &s);

	buf_reset(&s);
	put_u32(&s, e->nconsts);
	for (uint32_t i = 0; i < e->nconsts; i++) {
		buf_putc(&s, (char)e->consts[i].kind);
		put_u32(&s, e->consts[i].len);
		buf_put(&s, e->consts[i].data, e->consts[i].len);
	}
	section(&body, VM_SEC_CONS, &s);

	buf_reset(&s);
	put_u32(&s, e->npaths);
	for (uint32_t i = 0; i < e->npaths; i++)
		buf_put(&s, e->paths[i].data, e->paths[i].len);
	section(&body, VM_SEC_PATH, &s);

	buf_reset(&s);
	put_u32(&s, e->nparams);
	for (uint32_t i = 0; i < e->nparams; i++) {
		uint64_t bits;

		put_u32(&s, e->params[i].name);
		put_u32(&s, e->params[i].value);
		put_u32(&s, e->params[i].flags);
		memcpy(&bits, &e->params[i].min, 8);
		put_u64(&s, bits);
		memcpy(&bits, &e->params[i].max, 8);
		put_u64(&s, bits);
	}
	section(&body, VM_SEC_PARM, &s);

	section(&body, VM_SEC_CODE, &e->code);

	buf_reset(&s);
	put_u32(&s, e->nlines);
	for (uint32_t i = 0; i < 3 * e->nlines; i++)
		put_u32(&s, e->lines[i]);
	section(&body, VM_SEC_LINE, &s);

	if (buf_failed(&s) || buf_failed(&body))
		goto out;
	sum = XXH3_64bits(body.data, body.len);
	buf_put(out, VM_MAGIC, 4);
	buf_putc(out, VM_FORMAT_MAJOR & 0xFF);
	buf_putc(out, VM_FORMAT_MAJOR >> 8);
	buf_putc(out, VM_FORMAT_MINOR & 0xFF);
	buf_putc(out, VM_FORMAT_MINOR >> 8);
	put_u32(out, 0);
	put_u32(out, (uint32_t)body.len);
	put_u64(out, sum);
	buf_put(out, body.data, body.len);
	rc = buf_failed(out) ? -1 : 0;
out:
	buf_free(&s);
	buf_free(&body);
	return rc;
}

uint32_t cc_regex(struct cc_emit *e, const struct dsl_regex *re)
{
	struct buf enc;
	uint32_t flags = 0, k;

	for (const char *f = re->flags; *f; f++)
		flags |= *f == 'i' ? VM_RE_CASELESS : *f == 'm' ?
			 VM_RE_MULTILINE : *f == 's' ? VM_RE_DOTALL :
			 *f == 'x' ? VM_RE_EXTENDED : 0;
	buf_init(&enc, UINT32_MAX / 4);
	put_u32(&enc, flags);
	buf_put(&enc, re->source, re->len);
	if (buf_failed(&enc)) {
		e->failed = 1;
		buf_free(&enc);
		return 0;
	}
	k = cc_const(e, VM_K_REGEX, enc.data, enc.len);
	buf_free(&enc);
	return k;
}
