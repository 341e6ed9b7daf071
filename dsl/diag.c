/* diag.c - sources, spans and diagnostics (see diag.h). */
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vm/alloc.h"
#include "../vm/file.h"

void dsl_ctx_init(struct dsl_ctx *c)
{
	memset(c, 0, sizeof *c);
	c->diag_tail = &c->diags;
}

void dsl_ctx_free(struct dsl_ctx *c)
{
	struct dsl_diag *d, *next;

	for (size_t i = 0; i < c->nsources; i++) {
		free(c->sources[i].name);
		free(c->sources[i].text);
		free(c->sources[i].lines);
	}
	free(c->sources);
	for (d = c->diags; d; d = next) {
		next = d->next;
		free(d->msg);
		free(d->hint);
		free(d);
	}
	dsl_ctx_init(c);
}

static int index_lines(struct dsl_source *s)
{
	size_t n = 1, i;

	for (i = 0; i < s->len; i++)
		n += s->text[i] == '\n';
	s->lines = scrub_malloc(n * sizeof *s->lines);
	if (s->lines == NULL)
		return -1;
	s->nlines = 0;
	s->lines[s->nlines++] = 0;
	for (i = 0; i < s->len; i++)
		if (s->text[i] == '\n')
			s->lines[s->nlines++] = (uint32_t)(i + 1);
	return 0;
}

int dsl_add_source(struct dsl_ctx *c, const char *name, const char *text,
		   size_t len)
{
	struct dsl_source *grown, *s;

	/* A byte order mark says nothing in UTF-8: skip it, or it would
	 * read as a stray character. */
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
		text += 3;
		len -= 3;
	}
	if (len > UINT32_MAX / 2) {
		dsl_diag(c, DSL_ERROR, (struct dsl_span){ 0, 0, 0 }, "io",
			 "%s: file too large", name);
		return -1;
	}
	grown = scrub_realloc(c->sources, (c->nsources + 1) * sizeof *grown);
	if (grown == NULL) {
		c->oom = 1;
		return -1;
	}
	c->sources = grown;
	s = &c->sources[c->nsources];
	memset(s, 0, sizeof *s);
	s->name = scrub_strndup(name, strlen(name));
	s->text = scrub_strndup(text, len);
	s->len = len;
	s->included_from = (struct dsl_span){ UINT32_MAX, 0, 0 };
	if (s->name == NULL || s->text == NULL || index_lines(s) != 0) {
		free(s->name);
		free(s->text);
		free(s->lines);
		c->oom = 1;
		return -1;
	}
	return (int)c->nsources++;
}

int dsl_load_file(struct dsl_ctx *c, const char *path)
{
	struct buf b;
	int idx, rc;

	buf_init(&b, UINT32_MAX / 2);
	rc = vm_file_read(path, 0, &b);
	if (rc != 0) {
		dsl_diag(c, DSL_ERROR, (struct dsl_span){ UINT32_MAX, 0, 0 },
			 "io", "cannot %s '%s': %s", vm_file_verb(rc), path,
			 vm_file_why(&b));
		buf_free(&b);
		return -1;
	}
	idx = dsl_add_source(c, path, b.data ? b.data : "", b.len);
	buf_free(&b);
	return idx;
}

static char *vformat(const char *fmt, va_list ap)
{
	va_list again;
	int n;
	char *s;

	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, again);
	va_end(again);
	if (n < 0)
		return NULL;
	s = scrub_malloc((size_t)n + 1);
	if (s != NULL)
		vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

struct dsl_diag *dsl_diag(struct dsl_ctx *c, enum dsl_severity sev,
			  struct dsl_span span, const char *code,
			  const char *fmt, ...)
{
	struct dsl_diag *d;
	va_list ap;

	if (sev == DSL_ERROR && c->errors >= DSL_MAX_ERRORS) {
		c->errors++;
		return NULL;
	}
	d = scrub_calloc(1, sizeof *d);
	if (d == NULL) {
		c->oom = 1;
		return NULL;
	}
	va_start(ap, fmt);
	d->msg = vformat(fmt, ap);
	va_end(ap);
	if (d->msg == NULL) {
		free(d);
		c->oom = 1;
		return NULL;
	}
	d->severity = sev;
	d->span = span;
	d->code = code;
	*c->diag_tail = d;
	c->diag_tail = &d->next;
	if (sev == DSL_ERROR)
		c->errors++;
	else if (sev == DSL_WARNING)
		c->warnings++;
	return d;
}

void dsl_diag_hint(struct dsl_ctx *c, struct dsl_diag *d, const char *fmt,
		   ...)
{
	va_list ap;

	if (d == NULL)
		return;
	va_start(ap, fmt);
	free(d->hint);
	d->hint = vformat(fmt, ap);
	va_end(ap);
	if (d->hint == NULL)
		c->oom = 1;
}

size_t dsl_utf8_chars(const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xC0) != 0x80;
	return k;
}

static size_t line_of(const struct dsl_source *s, uint32_t offset)
{
	size_t lo = 0, hi = s->nlines;

	/* The last line start <= offset. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->lines[mid] <= offset)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

void dsl_line_col(const struct dsl_ctx *c, uint32_t file, uint32_t offset,
		  unsigned *line, unsigned *col)
{
	const struct dsl_source *s = &c->sources[file];
	size_t l;

	if (offset > s->len)
		offset = (uint32_t)s->len;
	l = line_of(s, offset);
	*line = (unsigned)l + 1;
	*col = (unsigned)dsl_utf8_chars(s->text + s->lines[l],
					offset - s->lines[l]) + 1;
}

static const char *severity_name(enum dsl_severity s)
{
	switch (s) {
	case DSL_ERROR:
		return "error";
	case DSL_WARNING:
		return "warning";
	case DSL_NOTE:
		break;
	}
	return "note";
}

/* The source line holding `offset`, its caret line, gcc style. */
static void render_excerpt(const struct dsl_source *s, struct dsl_span sp,
			   unsigned line, struct buf *out)
{
	size_t l = line - 1;
	uint32_t begin = s->lines[l], end = begin, stop;
	char gutter[32];
	int w;

	while (end < s->len && s->text[end] != '\n')
		end++;
	if (end > begin && s->text[end - 1] == '\r')
		end--;
	w = snprintf(gutter, sizeof gutter, "%5u", line);
	buf_put(out, gutter, (size_t)w);
	buf_puts(out, " | ");
	buf_put(out, s->text + begin, end - begin);
	buf_putc(out, '\n');

	/* Pad with the line's own tabs so the caret lines up. */
	for (int i = 0; i < w; i++)
		buf_putc(out, ' ');
	buf_puts(out, " | ");
	for (uint32_t i = begin; i < sp.start && i < end; i++) {
		unsigned char ch = (unsigned char)s->text[i];

		if ((ch & 0xC0) == 0x80)
			continue;
		buf_putc(out, ch == '\t' ? '\t' : ' ');
	}
	buf_putc(out, '^');
	stop = sp.end < end ? sp.end : end;
	for (uint32_t i = sp.start + 1; i < stop; i++)
		if (((unsigned char)s->text[i] & 0xC0) != 0x80)
			buf_putc(out, '~');
	buf_putc(out, '\n');
}

/* "In file included from A:2,\n                 from B:5:\n": the
 * includes that led to `file`, innermost first, as gcc prints them. */
static void include_trail(const struct dsl_ctx *c, uint32_t file,
			  struct buf *out)
{
	struct dsl_span at = c->sources[file].included_from;
	const char *lead = "In file included from ";
	char line[32];
	unsigned l, col;

	/* Includes nest at most a few levels; the cap only guards the
	 * loop against a corrupt chain. */
	for (size_t hops = 0; at.file < c->nsources && hops < c->nsources;
	     hops++) {
		struct dsl_span up = c->sources[at.file].included_from;

		dsl_line_col(c, at.file, at.start, &l, &col);
		buf_puts(out, lead);
		buf_puts(out, c->sources[at.file].name);
		snprintf(line, sizeof line, ":%u%c\n", l,
			 up.file < c->nsources ? ',' : ':');
		buf_puts(out, line);
		lead = "                 from ";
		at = up;
	}
}

/* Was the diagnostic before `d` in the context (notes aside) in the
 * same file? Then the include trail was printed with it. */
static int same_file_as_before(const struct dsl_ctx *c,
			       const struct dsl_diag *d)
{
	const struct dsl_diag *prev = NULL;

	for (const struct dsl_diag *e = c->diags; e && e != d; e = e->next)
		if (e->severity != DSL_NOTE)
			prev = e;
	return prev != NULL && prev->span.file == d->span.file;
}

void dsl_diag_render(const struct dsl_ctx *c, const struct dsl_diag *d,
		     struct buf *out)
{
	char head[64];
	unsigned line, col;

	if (d->span.file >= c->nsources) {
		/* Not tied to a source position (I/O errors). */
		buf_puts(out, severity_name(d->severity));
		buf_puts(out, ": ");
		buf_puts(out, d->msg);
		buf_putc(out, '\n');
		return;
	}
	if (d->severity != DSL_NOTE && !same_file_as_before(c, d))
		include_trail(c, d->span.file, out);
	dsl_line_col(c, d->span.file, d->span.start, &line, &col);
	buf_puts(out, c->sources[d->span.file].name);
	snprintf(head, sizeof head, ":%u:%u: %s: ", line, col,
		 severity_name(d->severity));
	buf_puts(out, head);
	buf_puts(out, d->msg);
	buf_putc(out, '\n');
	render_excerpt(&c->sources[d->span.file], d->span, line, out);
	if (d->hint) {
		buf_puts(out, c->sources[d->span.file].name);
		snprintf(head, sizeof head, ":%u:%u: note: ", line, col);
		buf_puts(out, head);
		buf_puts(out, d->hint);
		buf_putc(out, '\n');
	}
}

/* Edit distance counting a swap of two neighbours as one edit ("emial"
 * is one typo from "email"), capped: anything above `cap` returns
 * cap + 1. */
static size_t edit_distance(const char *a, size_t la, const char *b,
			    size_t lb, size_t cap)
{
	size_t rows[3][64], *prev2 = rows[0], *prev = rows[1], *row = rows[2];
	size_t i, j;

	if (la >= 63 || lb >= 63)
		return cap + 1;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		size_t best, *t;

		row[0] = i;
		best = row[0];
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t v = prev[j - 1] + cost;

			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			row[j] = v;
			if (v < best)
				best = v;
		}
		if (best > cap)
			return cap + 1;
		t = prev2;
		prev2 = prev;
		prev = row;
		row = t;
	}
	return prev[lb];
}

int dsl_option_hint(const char *name, size_t len, const char *const *names,
		    const char *show, const char **near, char *list,
		    size_t listlen)
{
	size_t prefixed = 0, within = 0, used = 0;

	*near = NULL;
	if (listlen)
		list[0] = '\0';
	for (const char *const *o = names; len && *o; o++) {
		if (strncmp(*o, name, len) == 0 && prefixed++ < 4 &&
		    used < listlen)
			used += (size_t)snprintf(list + used, listlen - used,
						 "%s%s%s", prefixed > 1
						 ? ", " : "", show, *o);
		if (memmem(*o, strlen(*o), name, len)) {
			within++;
			*near = *o;
		}
	}
	if (prefixed > 1) {
		if (prefixed > 4 && used + 4 <= listlen)
			strcat(list, "...");
		*near = NULL;
		return 2;
	}
	if (within != 1)
		*near = len > 2 ? dsl_nearest(name, len, names) : NULL;
	return *near != NULL;
}

const char *dsl_nearest(const char *word, size_t len,
			const char *const *candidates)
{
	const char *best = NULL;
	/* One typo per three characters, at least one, at most three. */
	size_t cap = len / 3 ? (len / 3 > 3 ? 3 : len / 3) : 1, best_d;

	best_d = cap + 1;
	for (; *candidates; candidates++) {
		size_t d = edit_distance(word, len, *candidates,
					 strlen(*candidates), cap);

		if (d < best_d) {
			best_d = d;
			best = *candidates;
		}
	}
	return best;
}
