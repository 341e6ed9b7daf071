/* load.c - read a compiled policy file into a vm_program.
 *
 * The file is outside input: every count, length and index is checked
 * before use, and any problem refuses the whole program with a message
 * naming the section and the offset. The code itself is checked by the
 * verifier (verify.c) once the tables it refers to are known to be sound.
 */
#include "program.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>

#include "alloc.h"
#include "json.h"
#include "runtime_names.h"

/* A bounds-checked reader over one section. Errors are sticky. */
struct reader {
	const unsigned char *base;	/* start of the file */
	const unsigned char *p, *end;
	const char *section;
	struct vm_error *err;
	int failed;
};

static void rd_fail(struct reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void rd_fail(struct reader *r, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	if (r->failed)
		return;
	r->failed = 1;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(r->err->msg, sizeof r->err->msg, "%s section, offset %zu: %s",
		 r->section, (size_t)(r->p - r->base), what);
}

static const unsigned char *rd_bytes(struct reader *r, size_t n)
{
	const unsigned char *p = r->p;

	if (r->failed)
		return NULL;
	if ((size_t)(r->end - r->p) < n) {
		rd_fail(r, "truncated");
		return NULL;
	}
	r->p += n;
	return p;
}

static uint8_t rd_u8(struct reader *r)
{
	const unsigned char *p = rd_bytes(r, 1);

	return p ? p[0] : 0;
}

static uint32_t rd_u32(struct reader *r)
{
	const unsigned char *p = rd_bytes(r, 4);

	return p ? vm_u32(p) : 0;
}

static uint64_t rd_u64(struct reader *r)
{
	const unsigned char *p = rd_bytes(r, 8);

	return p ? (uint64_t)vm_u32(p) | (uint64_t)vm_u32(p + 4) << 32 : 0;
}

static double rd_f64(struct reader *r)
{
	uint64_t bits = rd_u64(r);
	double d;

	memcpy(&d, &bits, sizeof d);
	return d;
}

/* A count of items each at least `min_size` bytes: refuses counts the
 * remaining bytes cannot hold, so no huge allocation on a lie. */
static uint32_t rd_count(struct reader *r, size_t min_size)
{
	uint32_t n = rd_u32(r);

	if (!r->failed && (size_t)n * min_size > (size_t)(r->end - r->p)) {
		rd_fail(r, "count %u larger than the section", n);
		return 0;
	}
	return n;
}

static int rd_end(struct reader *r)
{
	if (!r->failed && r->p != r->end)
		rd_fail(r, "%zu bytes left over", (size_t)(r->end - r->p));
	return r->failed ? -1 : 0;
}

/* ---- constants ----------------------------------------------------------- */

static const char *const_kind_name(uint8_t k)
{
	static const char *const names[] = {
		"?", "null", "false", "true", "number", "string", "json",
		"list", "path list", "regex", "matcher", "pattern",
	};

	return k <= VM_K__MAX ? names[k] : "?";
}

int vm_number_cents(const char *s, size_t n)
{
	size_t i = 0, digits_end, dot = 0;
	long exp = 0, place;

	if (i < n && s[i] == '-')
		i++;
	digits_end = i;
	while (digits_end < n && (s[digits_end] == '.' ||
				  (s[digits_end] >= '0' &&
				   s[digits_end] <= '9'))) {
		if (s[digits_end] == '.')
			dot = digits_end;
		digits_end++;
	}
	if (dot == 0)
		dot = digits_end;
	if (digits_end < n && (s[digits_end] == 'e' || s[digits_end] == 'E'))
		exp = strtol(s + digits_end + 1, NULL, 10);
	/* Any digit is whole past this: keep place - exp from overflowing
	 * (strtol gives LONG_MAX for a longer exponent). */
	if (exp > 1000000)
		exp = 1000000;
	/* Digit k places after the point stands at 10^-(k - exp). */
	for (size_t k = i; k < digits_end; k++) {
		if (k == dot || s[k] == '0')
			continue;
		place = k < dot ? -(long)(dot - k - 1) : (long)(k - dot);
		if (exp < -1000000 || place - exp > 2)
			return 0;
	}
	return 1;
}

/* 1 (it is), 0 (it is not), -1 (out of memory), or -JSON_E_DEPTH or
 * -JSON_E_NODES when it is past the limits bytecode.h sets. */
static int is_json_container(const char *s, size_t n)
{
	/* n bytes hold at most n values and need at most n bytes to
	 * decode keys: no need to reserve an event's worth per constant. */
	struct json_limits lim = {
		VM_JSON_MAX_NEST,
		n < VM_JSON_MAX_VALUES ? (uint32_t)n + 1 : VM_JSON_MAX_VALUES,
		n < UINT32_MAX ? (uint32_t)n + 1 : UINT32_MAX,
	};
	struct json_doc d;
	enum json_error e;
	int ok;

	if (json_doc_init(&d, &lim) != 0)
		return -1;
	e = json_parse(&d, s, n, 0, 0);
	ok = e == JSON_OK && (json_type_of(&d, d.root) == JSON_OBJECT ||
			      json_type_of(&d, d.root) == JSON_ARRAY);
	json_doc_free(&d);
	/* The arena fits any n bytes: a memory error is malloc's. */
	if (e == JSON_E_MEMORY)
		return -1;
	/* n bytes hold fewer than n + 1 values: a count past the limit is
	 * past VM_JSON_MAX_VALUES. */
	if (e == JSON_E_DEPTH || e == JSON_E_NODES)
		return -(int)e;
	return ok;
}

static int compile_regex(struct reader *r, struct vm_program *p,
			 struct vm_const *c)
{
	uint32_t flags, opts = PCRE2_UTF | PCRE2_NEVER_BACKSLASH_C;
	int errcode;
	PCRE2_SIZE erroff;

	if (c->len < 4) {
		rd_fail(r, "regex constant too short");
		return -1;
	}
	flags = vm_u32((const unsigned char *)c->data);
	if (flags & ~(uint32_t)VM_RE__ALL) {
		rd_fail(r, "unknown regex flags 0x%x", flags);
		return -1;
	}
	if (flags & VM_RE_CASELESS)
		opts |= PCRE2_CASELESS;
	if (flags & VM_RE_MULTILINE)
		opts |= PCRE2_MULTILINE;
	if (flags & VM_RE_DOTALL)
		opts |= PCRE2_DOTALL;
	if (flags & VM_RE_EXTENDED)
		opts |= PCRE2_EXTENDED;
	if (!json_utf8_valid(c->data + 4, c->len - 4)) {
		rd_fail(r, "regex is not UTF-8");
		return -1;
	}
	c->re = pcre2_compile((PCRE2_SPTR)c->data + 4, c->len - 4, opts,
			      &errcode, &erroff, NULL);
	if (c->re == NULL) {
		PCRE2_UCHAR msg[120];

		pcre2_get_error_message(errcode, msg, sizeof msg);
		rd_fail(r, "regex does not compile: %s", (char *)msg);
		return -1;
	}
	/* Without JIT (some platforms) the interpreter still works. */
	pcre2_jit_compile(c->re, PCRE2_JIT_COMPLETE);
	pcre2_pattern_info(c->re, PCRE2_INFO_CAPTURECOUNT, &c->re_captures);
	if (c->re_captures > p->max_captures)
		p->max_captures = c->re_captures;
	return 0;
}

/* Fill in what the interpreter needs from one constant's payload. */
static int prepare_const(struct reader *r, struct vm_program *p,
			 struct vm_const *c)
{
	struct buf enc;
	int ok;

	switch (c->kind) {
	case VM_K_NULL:
	case VM_K_FALSE:
	case VM_K_TRUE:
		if (c->len != 0)
			rd_fail(r, "%s constant with a payload",
				const_kind_name(c->kind));
		break;
	case VM_K_NUMBER:
		if (!json_is_number(c->data, c->len)) {
			rd_fail(r, "number constant is not a JSON number");
			break;
		}
		{
			char *t = scrub_strndup(c->data, c->len);

			if (t == NULL) {
				rd_fail(r, "out of memory");
				break;
			}
			c->num = strtod(t, NULL);
			free(t);
		}
		break;
	case VM_K_STRING:
		if (!json_utf8_valid(c->data, c->len)) {
			rd_fail(r, "string constant is not UTF-8");
			break;
		}
		/* Names and reasons are handed out as C strings. */
		c->owned = scrub_strndup(c->data, c->len);
		if (c->owned == NULL) {
			rd_fail(r, "out of memory");
			break;
		}
		c->data = c->owned;
		buf_init(&enc, UINT32_MAX / 2);
		json_encode_string(&enc, c->data, c->len);
		if (buf_failed(&enc)) {
			buf_free(&enc);
			rd_fail(r, "out of memory");
			break;
		}
		c->json = enc.data;
		c->json_len = (uint32_t)enc.len;
		break;
	case VM_K_JSON:
		ok = is_json_container(c->data, c->len);
		if (ok == -(int)JSON_E_DEPTH)
			rd_fail(r, "json constant nests objects and arrays "
				"deeper than %d levels", VM_JSON_MAX_NEST);
		else if (ok == -(int)JSON_E_NODES)
			rd_fail(r, "json constant holds more than %u values",
				VM_JSON_MAX_VALUES);
		else if (ok <= 0)
			rd_fail(r, ok < 0 ? "out of memory" : "json constant "
				"is not a JSON array or object");
		break;
	case VM_K_LIST:
	case VM_K_PATHLIST:
	case VM_K_MATCHER:
	case VM_K_PATTERN: {
		size_t word = c->kind == VM_K_MATCHER ? 16 : 4;

		if (c->len < 4 ||
		    (c->len - 4) != (size_t)vm_u32((const unsigned char *)
						   c->data) * word) {
			rd_fail(r, "%s constant has the wrong length",
				const_kind_name(c->kind));
			break;
		}
		c->count = vm_u32((const unsigned char *)c->data);
		c->items = (const unsigned char *)c->data + 4;
		break;
	}
	case VM_K_REGEX:
		compile_regex(r, p, c);
		break;
	default:
		rd_fail(r, "unknown constant kind %u", c->kind);
		break;
	}
	return r->failed ? -1 : 0;
}

/* Indices inside lists and path lists, once all constants and paths are
 * known. Matchers refer to lists, so they are checked after every list
 * (check_matchers). */
static int check_const_refs(struct vm_program *p, uint32_t ci,
			    struct vm_error *err)
{
	const struct vm_const *c = &p->consts[ci];
	const char *why = NULL;
	uint32_t i;

	for (i = 0; i < c->count && why == NULL; i++) {
		uint32_t k = vm_u32(c->items + 4 * i);

		if (c->kind == VM_K_LIST) {
			if (k >= p->nconsts || p->consts[k].kind > VM_K_JSON)
				why = "list item %u is not a value";
		} else if (c->kind == VM_K_PATHLIST) {
			if (k >= p->npaths)
				why = "path list item %u out of range";
			else if (p->paths[k].mode != VM_PATH_PLAIN)
				why = "path list item %u is a pattern path";
		}
	}
	if (why == NULL)
		return 0;
	snprintf(err->msg, sizeof err->msg, "CONS section: constant %u: ",
		 ci);
	snprintf(err->msg + strlen(err->msg), sizeof err->msg -
		 strlen(err->msg), why, i - 1);
	return -1;
}

/* Matchers and patterns name lists: checked once every list is. */
static int check_matchers(struct vm_program *p, struct vm_error *err)
{
	for (uint32_t i = 0; i < p->nconsts; i++) {
		const struct vm_const *c = &p->consts[i];

		if (c->kind == VM_K_MATCHER &&
		    vm_check_matcher(p, c, err) != 0)
			return -1;
		if (c->kind == VM_K_PATTERN &&
		    vm_check_pattern(p, c, err) != 0)
			return -1;
	}
	return 0;
}

static int read_consts(struct reader *r, struct vm_program *p)
{
	p->nconsts = rd_count(r, 5);
	p->consts = scrub_calloc(p->nconsts ? p->nconsts : 1,
				 sizeof *p->consts);
	if (p->consts == NULL) {
		rd_fail(r, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < p->nconsts && !r->failed; i++) {
		struct vm_const *c = &p->consts[i];

		c->kind = rd_u8(r);
		c->len = rd_u32(r);
		c->data = (const char *)rd_bytes(r, c->len);
		if (!r->failed)
			prepare_const(r, p, c);
	}
	return rd_end(r);
}

/* ---- paths, params, lines ------------------------------------------------ */

static int read_paths(struct reader *r, struct vm_program *p)
{
	p->npaths = rd_count(r, 5);
	p->paths = scrub_calloc(p->npaths ? p->npaths : 1, sizeof *p->paths);
	if (p->paths == NULL) {
		rd_fail(r, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < p->npaths && !r->failed; i++) {
		struct vm_path *path = &p->paths[i];
		unsigned deep = 0;

		path->mode = rd_u8(r);
		path->nsegs = rd_count(r, 1);
		if (path->mode > VM_PATH_PATTERN)
			rd_fail(r, "path %u: unknown mode %u", i, path->mode);
		path->segs = scrub_calloc(path->nsegs ? path->nsegs : 1,
					  sizeof *path->segs);
		if (path->segs == NULL) {
			rd_fail(r, "out of memory");
			break;
		}
		path->definite = 1;
		for (uint32_t s = 0; s < path->nsegs && !r->failed; s++) {
			struct vm_seg *seg = &path->segs[s];
			uint32_t k;

			seg->kind = rd_u8(r);
			switch (seg->kind) {
			case VM_SEG_KEY:
				k = rd_u32(r);
				if (k >= p->nconsts ||
				    p->consts[k].kind != VM_K_STRING) {
					rd_fail(r, "path %u: key is not a "
						   "string constant", i);
					break;
				}
				seg->name = p->consts[k].data;
				seg->len = p->consts[k].len;
				seg->key = k;
				break;
			case VM_SEG_INDEX:
				seg->index = (int64_t)rd_u64(r);
				break;
			case VM_SEG_ELEMENTS:
			case VM_SEG_MEMBERS:
				path->definite = 0;
				break;
			case VM_SEG_DEEP:
				path->definite = 0;
				deep++;
				break;
			default:
				rd_fail(r, "path %u: unknown segment kind %u",
					i, seg->kind);
			}
			if (path->mode == VM_PATH_PATTERN &&
			    seg->kind != VM_SEG_KEY)
				rd_fail(r, "path %u: a pattern path has only "
					   "keys", i);
		}
		if (deep > 1)
			rd_fail(r, "path %u: more than one '**'", i);
	}
	return rd_end(r);
}

/* A name the compiler accepts: letters, digits and '_', not first a
 * digit. Hosts turn it into SCRUB_<NAME>; anything else (a NUL that
 * would end the variable's name early, say) could reach another
 * variable. */
static int param_name_ok(const char *s, uint32_t n)
{
	if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (uint32_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

static int param_name_cmp(const void *a, const void *b)
{
	const struct vm_param *x = *(const struct vm_param *const *)a;
	const struct vm_param *y = *(const struct vm_param *const *)b;
	int c = strncasecmp(x->name, y->name, x->name_len < y->name_len ?
			    x->name_len : y->name_len);

	if (c != 0)
		return c;
	if (x->name_len != y->name_len)
		return x->name_len < y->name_len ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Two names that differ only in case would take the same SCRUB_<NAME>,
 * and set_param would bind one of two equal ones: refuse both, as the
 * compiler does. Sorted, so that a crafted file with many parameters
 * costs n log n. */
static int check_param_names(struct reader *r, struct vm_program *p)
{
	const struct vm_param **v;

	if (r->failed || p->nparams < 2)
		return r->failed ? -1 : 0;
	v = scrub_malloc(p->nparams * sizeof *v);
	if (v == NULL) {
		rd_fail(r, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < p->nparams; i++)
		v[i] = &p->params[i];
	qsort(v, p->nparams, sizeof *v, param_name_cmp);
	for (uint32_t i = 1; i < p->nparams; i++)
		if (v[i - 1]->name_len == v[i]->name_len &&
		    strncasecmp(v[i - 1]->name, v[i]->name,
				v[i]->name_len) == 0) {
			rd_fail(r, "params %u and %u: names '%.40s' and "
				"'%.40s' are the same ignoring case",
				(unsigned)(v[i - 1] - p->params),
				(unsigned)(v[i] - p->params), v[i - 1]->name,
				v[i]->name);
			break;
		}
	free(v);
	return r->failed ? -1 : 0;
}

static int read_params(struct reader *r, struct vm_program *p)
{
	p->nparams = rd_count(r, 28);
	p->params = scrub_calloc(p->nparams ? p->nparams : 1,
				 sizeof *p->params);
	if (p->params == NULL) {
		rd_fail(r, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < p->nparams && !r->failed; i++) {
		struct vm_param *pa = &p->params[i];
		uint32_t name = rd_u32(r);
		const struct vm_const *v;

		pa->konst = rd_u32(r);
		pa->flags = rd_u32(r);
		pa->min = rd_f64(r);
		pa->max = rd_f64(r);
		if (r->failed)
			break;
		if (name >= p->nconsts || p->consts[name].kind != VM_K_STRING ||
		    pa->konst >= p->nconsts) {
			rd_fail(r, "param %u: bad constant index", i);
			break;
		}
		pa->name = p->consts[name].data;
		pa->name_len = p->consts[name].len;
		pa->name_k = name;
		if (!param_name_ok(pa->name, pa->name_len)) {
			rd_fail(r, "param %u: a name is letters, digits and "
				   "'_' only", i);
			break;
		}
		/* SCRUB_KEY and the like hold the hosts' own settings. */
		if (scrub_runtime_name(pa->name)) {
			rd_fail(r, "param %u: '%.40s' is reserved for scrub's "
				   "own settings (SCRUB_%s)", i, pa->name,
				scrub_runtime_name(pa->name));
			break;
		}
		v = &p->consts[pa->konst];
		if (v->kind != VM_K_NUMBER && v->kind != VM_K_STRING &&
		    v->kind != VM_K_TRUE && v->kind != VM_K_FALSE)
			rd_fail(r, "param %u: value is a %s", i,
				const_kind_name(v->kind));
		if (pa->flags & ~(uint32_t)VM_PARAM__ALL)
			rd_fail(r, "param %u: unknown flags", i);
		if ((pa->flags & VM_PARAM_RANGE) &&
		    (v->kind != VM_K_NUMBER || !(pa->min <= v->num) ||
		     !(v->num <= pa->max)))
			rd_fail(r, "param %u: default outside its range", i);
		if ((pa->flags & VM_PARAM_CENTS) &&
		    (v->kind != VM_K_NUMBER || !vm_number_cents(v->data,
								v->len)))
			rd_fail(r, "param %u: default is not in hundredths",
				i);
	}
	check_param_names(r, p);
	return rd_end(r);
}

static int read_sources(struct reader *r, struct vm_program *p)
{
	p->nfiles = rd_count(r, 4);
	p->files = scrub_calloc(p->nfiles ? p->nfiles : 1, sizeof *p->files);
	if (p->files == NULL) {
		rd_fail(r, "out of memory");
		return -1;
	}
	/* Names are string constants, which come later: keep the indices
	 * for now (resolved in vm_load). */
	for (uint32_t i = 0; i < p->nfiles && !r->failed; i++)
		p->files[i] = (const char *)(uintptr_t)rd_u32(r);
	return rd_end(r);
}

static int read_lines(struct reader *r, struct vm_program *p)
{
	p->nlines = rd_count(r, 12);
	p->lines = scrub_calloc(p->nlines ? p->nlines : 1, sizeof *p->lines);
	if (p->lines == NULL) {
		rd_fail(r, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < p->nlines && !r->failed; i++) {
		struct vm_line *l = &p->lines[i];

		l->pc = rd_u32(r);
		l->file = rd_u32(r);
		l->line = rd_u32(r);
		if (r->failed)
			break;
		if ((i == 0 && l->pc != 0) ||
		    (i > 0 && l->pc <= p->lines[i - 1].pc) ||
		    l->pc >= p->code_len || l->file >= p->nfiles)
			rd_fail(r, "line entry %u out of order or range", i);
	}
	return rd_end(r);
}

/* ---- the file ------------------------------------------------------------ */

static const uint32_t section_order[] = {
	VM_SEC_META, VM_SEC_SRCS, VM_SEC_CONS, VM_SEC_PATH, VM_SEC_PARM,
	VM_SEC_CODE, VM_SEC_LINE,
};

static const char *section_name(uint32_t tag)
{
	switch (tag) {
	case VM_SEC_META:
		return "META";
	case VM_SEC_SRCS:
		return "SRCS";
	case VM_SEC_CONS:
		return "CONS";
	case VM_SEC_PATH:
		return "PATH";
	case VM_SEC_PARM:
		return "PARM";
	case VM_SEC_CODE:
		return "CODE";
	case VM_SEC_LINE:
		return "LINE";
	}
	return "unknown";
}

static int check_header(const unsigned char *b, size_t len,
			struct vm_error *err, uint16_t *minor)
{
	uint16_t major;
	uint32_t flags, size;
	uint64_t sum;

	if (len < 4 || memcmp(b, VM_MAGIC, 4) != 0) {
		snprintf(err->msg, sizeof err->msg, "not a scrub bytecode "
			 "file (bad magic)");
		return -1;
	}
	if (len < VM_HEADER_SIZE) {
		snprintf(err->msg, sizeof err->msg, "file is %zu bytes, too "
			 "short for the %d-byte header (truncated)", len,
			 VM_HEADER_SIZE);
		return -1;
	}
	major = (uint16_t)(b[4] | b[5] << 8);
	*minor = (uint16_t)(b[6] | b[7] << 8);
	flags = vm_u32(b + 8);
	size = vm_u32(b + 12);
	sum = (uint64_t)vm_u32(b + 16) | (uint64_t)vm_u32(b + 20) << 32;
	if (major != VM_FORMAT_MAJOR || *minor > VM_FORMAT_MINOR) {
		snprintf(err->msg, sizeof err->msg, "bytecode format %u.%u is "
			 "not supported (this build reads %u.0 to %u.%u)",
			 major, *minor, VM_FORMAT_MAJOR, VM_FORMAT_MAJOR,
			 VM_FORMAT_MINOR);
		return -1;
	}
	if (flags != 0) {
		snprintf(err->msg, sizeof err->msg, "reserved header flags "
			 "0x%x are set", flags);
		return -1;
	}
	if (size != len - VM_HEADER_SIZE) {
		snprintf(err->msg, sizeof err->msg, "file is %zu bytes but "
			 "the header says %zu (truncated or padded)", len,
			 (size_t)size + VM_HEADER_SIZE);
		return -1;
	}
	if (XXH3_64bits(b + VM_HEADER_SIZE, size) != sum) {
		snprintf(err->msg, sizeof err->msg, "checksum mismatch: the "
			 "file is corrupt");
		return -1;
	}
	return 0;
}

/* Is constant k a parameter's value, used also as `what`? */
static int pinned(const struct vm_program *p, uint32_t k, const char *what,
		  struct vm_error *err)
{
	if (k >= p->nconsts || p->param_of[k] == VM_NONE)
		return 0;
	snprintf(err->msg, sizeof err->msg, "PARM: param %u's value "
		 "(constant %u) is also %s", p->param_of[k], k, what);
	return 1;
}

/* A parameter's value constant is rewritten when the parameter is
 * bound, so nothing may keep a pointer to its bytes or share it: not a
 * path key, the policy name, a file name, a parameter name or another
 * parameter. Fills p->param_of for the verifier. */
static int check_param_values(struct vm_program *p, uint32_t name,
			      struct vm_error *err)
{
	p->param_of = scrub_malloc((p->nconsts ? p->nconsts : 1) *
				   sizeof *p->param_of);
	if (p->param_of == NULL) {
		snprintf(err->msg, sizeof err->msg, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < p->nconsts; i++)
		p->param_of[i] = VM_NONE;
	for (uint32_t i = 0; i < p->nparams; i++) {
		uint32_t k = p->params[i].konst;

		if (p->param_of[k] != VM_NONE) {
			snprintf(err->msg, sizeof err->msg, "PARM: params "
				 "%u and %u share value constant %u",
				 p->param_of[k], i, k);
			return -1;
		}
		p->param_of[k] = i;
	}
	/* Names and files are still constant indices here (range-checked
	 * by the caller afterwards). */
	for (uint32_t i = 0; i < p->nparams; i++)
		if (pinned(p, p->params[i].name_k, "a parameter name", err))
			return -1;
	if (pinned(p, name, "the policy name", err))
		return -1;
	for (uint32_t i = 0; i < p->nfiles; i++)
		if (pinned(p, (uint32_t)(uintptr_t)p->files[i], "a file name",
			   err))
			return -1;
	for (uint32_t i = 0; i < p->npaths; i++)
		for (uint32_t s = 0; s < p->paths[i].nsegs; s++)
			if (p->paths[i].segs[s].kind == VM_SEG_KEY &&
			    pinned(p, p->paths[i].segs[s].key, "a path key",
				   err))
				return -1;
	return 0;
}

static int read_sections(struct vm_program *p, struct vm_error *err)
{
	struct reader r = { p->image, p->image + VM_HEADER_SIZE,
			    p->image + p->image_len, "body", err, 0 };
	uint32_t name = 0;

	for (size_t i = 0; i < sizeof section_order / sizeof *section_order;
	     i++) {
		uint32_t tag = rd_u32(&r), len = rd_u32(&r);
		const unsigned char *payload;
		struct reader s;

		if (r.failed)
			return -1;
		if (tag != section_order[i]) {
			rd_fail(&r, "expected section %s, found %s",
				section_name(section_order[i]),
				section_name(tag));
			return -1;
		}
		payload = rd_bytes(&r, len);
		if (payload == NULL)
			return -1;
		s = (struct reader){ p->image, payload, payload + len,
				     section_name(tag), err, 0 };
		switch (tag) {
		case VM_SEC_META:
			name = rd_u32(&s);
			p->flags = rd_u32(&s);
			if (p->flags & ~(uint32_t)VM_META__ALL)
				rd_fail(&s, "unknown flags 0x%x", p->flags);
			rd_end(&s);
			break;
		case VM_SEC_SRCS:
			read_sources(&s, p);
			break;
		case VM_SEC_CONS:
			read_consts(&s, p);
			break;
		case VM_SEC_PATH:
			read_paths(&s, p);
			break;
		case VM_SEC_PARM:
			read_params(&s, p);
			break;
		case VM_SEC_CODE:
			p->code = payload;
			p->code_len = len;
			if (len == 0)
				rd_fail(&s, "no code");
			break;
		case VM_SEC_LINE:
			read_lines(&s, p);
			break;
		}
		if (s.failed)
			return -1;
	}
	if (rd_end(&r) != 0)
		return -1;

	/* Cross-references that needed the constants. */
	for (uint32_t i = 0; i < p->nconsts; i++)
		if (check_const_refs(p, i, err) != 0)
			return -1;
	if (check_matchers(p, err) != 0 ||
	    check_param_values(p, name, err) != 0)
		return -1;
	if (name >= p->nconsts || p->consts[name].kind != VM_K_STRING) {
		snprintf(err->msg, sizeof err->msg, "META: policy name is "
			 "not a string constant");
		return -1;
	}
	p->name = p->consts[name].data;
	for (uint32_t i = 0; i < p->nfiles; i++) {
		uint32_t k = (uint32_t)(uintptr_t)p->files[i];

		if (k >= p->nconsts || p->consts[k].kind != VM_K_STRING) {
			snprintf(err->msg, sizeof err->msg, "SRCS: file %u is "
				 "not a string constant", i);
			return -1;
		}
		p->files[i] = p->consts[k].data;
	}
	return 0;
}

struct vm_program *vm_load(const void *bytes, size_t len,
			   struct vm_error *err)
{
	struct vm_program *p;
	uint16_t minor;

	err->msg[0] = '\0';
	if (check_header(bytes, len, err, &minor) != 0)
		return NULL;
	p = scrub_calloc(1, sizeof *p);
	if (p == NULL || (p->image = scrub_malloc(len)) == NULL) {
		free(p);
		snprintf(err->msg, sizeof err->msg, "out of memory");
		return NULL;
	}
	memcpy(p->image, bytes, len);
	p->image_len = len;
	p->minor = minor;
	if (read_sections(p, err) != 0 || vm_verify(p, err) != 0 ||
	    vm_detect_prepare(p, err) != 0) {
		vm_program_free(p);
		return NULL;
	}
	return p;
}

void vm_program_free(struct vm_program *p)
{
	if (p == NULL)
		return;
	for (uint32_t i = 0; p->consts && i < p->nconsts; i++) {
		free(p->consts[i].json);
		free(p->consts[i].owned);
		pcre2_code_free(p->consts[i].re);
	}
	for (uint32_t i = 0; p->paths && i < p->npaths; i++)
		free(p->paths[i].segs);
	vm_detect_release(p);
	free(p->consts);
	free(p->paths);
	free(p->params);
	free(p->param_of);
	free(p->files);
	free(p->lines);
	free(p->image);
	sodium_memzero(&p->hmac, sizeof p->hmac);
	free(p);
}

int vm_program_line(const struct vm_program *p, uint32_t pc,
		    const char **file, uint32_t *line)
{
	size_t lo = 0, hi = p->nlines;

	if (p->nlines == 0)
		return -1;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->lines[mid].pc <= pc)
			lo = mid;
		else
			hi = mid;
	}
	*file = p->files[p->lines[lo].file];
	*line = p->lines[lo].line;
	return 0;
}

/* "no parameter 'x'", with the ones there are: a misspelt name is the
 * likely mistake. Truncated to the message buffer if need be. */
static void name_params(const struct vm_program *p, const char *name,
			struct vm_error *err)
{
	size_t n = sizeof err->msg, len;

	len = (size_t)snprintf(err->msg, n, "policy '%s' has no parameter "
			       "'%s' (%s", p->name, name, p->nparams ?
			       "its parameters:" : "it has none");
	for (uint32_t i = 0; i < p->nparams && len < n; i++)
		len += (size_t)snprintf(err->msg + len, n - len, "%s %.*s",
					i ? "," : "",
					(int)p->params[i].name_len,
					p->params[i].name);
	if (len < n)
		snprintf(err->msg + len, n - len, ")");
}

int vm_program_set_param(struct vm_program *p, const char *name,
			 const char *value, struct vm_error *err)
{
	size_t nlen = strlen(name), vlen = strlen(value);
	struct vm_param *pa = NULL;
	struct vm_const *c;
	char *copy;

	for (uint32_t i = 0; i < p->nparams; i++)
		if (p->params[i].name_len == nlen &&
		    memcmp(p->params[i].name, name, nlen) == 0)
			pa = &p->params[i];
	if (pa == NULL) {
		name_params(p, name, err);
		return -1;
	}
	c = &p->consts[pa->konst];
	switch (c->kind) {
	case VM_K_NUMBER:
		if (!json_is_number(value, vlen)) {
			snprintf(err->msg, sizeof err->msg, "parameter '%s' "
				 "takes a number, not '%s'", name, value);
			return -1;
		}
		if ((pa->flags & VM_PARAM_RANGE) &&
		    !(strtod(value, NULL) >= pa->min &&
		      strtod(value, NULL) <= pa->max)) {
			snprintf(err->msg, sizeof err->msg, "parameter '%s': "
				 "%s is outside %g..%g", name, value, pa->min,
				 pa->max);
			return -1;
		}
		if ((pa->flags & VM_PARAM_CENTS) &&
		    !vm_number_cents(value, vlen)) {
			snprintf(err->msg, sizeof err->msg, "parameter '%s': "
				 "%s has more than two decimals (a sample rate "
				 "counts hundredths of a percent)", name,
				 value);
			return -1;
		}
		break;
	case VM_K_TRUE:
	case VM_K_FALSE:
		if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
			snprintf(err->msg, sizeof err->msg, "parameter '%s' "
				 "takes true or false, not '%s'", name, value);
			return -1;
		}
		c->kind = value[0] == 't' ? VM_K_TRUE : VM_K_FALSE;
		return 0;
	default:
		if (!json_utf8_valid(value, vlen)) {
			snprintf(err->msg, sizeof err->msg, "parameter '%s': "
				 "value is not UTF-8", name);
			return -1;
		}
		break;
	}

	copy = scrub_strndup(value, vlen);
	if (copy == NULL) {
		snprintf(err->msg, sizeof err->msg, "out of memory");
		return -1;
	}
	if (c->kind == VM_K_STRING) {
		struct buf enc;

		buf_init(&enc, UINT32_MAX / 2);
		json_encode_string(&enc, value, vlen);
		if (buf_failed(&enc)) {
			free(copy);
			buf_free(&enc);
			snprintf(err->msg, sizeof err->msg, "out of memory");
			return -1;
		}
		free(c->json);
		c->json = enc.data;
		c->json_len = (uint32_t)enc.len;
	} else {
		c->num = strtod(copy, NULL);
	}
	free(c->owned);
	c->owned = copy;
	c->data = copy;
	c->len = (uint32_t)vlen;
	return 0;
}

void vm_program_set_key(struct vm_program *p, const void *key, size_t len)
{
	crypto_auth_hmacsha256_init(&p->hmac, key, len);
	p->has_key = 1;
}
