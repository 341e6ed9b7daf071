/* json.c - parse, look up, edit and print one JSON event (see json.h). */
#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "alloc.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* One open container during a parse. */
struct json_frame {
	json_ref node;
	json_ref last;		/* last child so far */
	uint32_t members;	/* children so far */
	uint8_t object;
	uint64_t keyset;	/* objects: one bit per key hash, 64 buckets */
	uint8_t compact;	/* no whitespace and every child verbatim */
	uint8_t maybe_dup;	/* a key may repeat: check at close */
};

const char *json_type_name(enum json_type t)
{
	switch (t) {
	case JSON_NULL:
		return "null";
	case JSON_FALSE:
	case JSON_TRUE:
		return "boolean";
	case JSON_NUMBER:
		return "number";
	case JSON_STRING:
		return "string";
	case JSON_ARRAY:
		return "array";
	case JSON_OBJECT:
		return "object";
	case JSON_NONE:
		break;
	}
	return "missing";
}

int json_doc_init(struct json_doc *d, const struct json_limits *lim)
{
	memset(d, 0, sizeof *d);
	d->lim = *lim;
	if (d->lim.max_nodes < 1 || d->lim.max_nodes == UINT32_MAX ||
	    d->lim.max_depth < 1)
		return -1;

	/* Reserved at their limits and never moved: pages are only touched
	 * (and counted in RSS) as large events actually need them. Sizes
	 * are widened before the arithmetic. */
	d->nodes = scrub_malloc(((size_t)d->lim.max_nodes + 1) *
				sizeof *d->nodes);
	d->frames = scrub_malloc((size_t)d->lim.max_depth * sizeof *d->frames);
	d->arena = scrub_malloc(d->lim.max_arena ? d->lim.max_arena : 1);
	if (d->nodes == NULL || d->frames == NULL || d->arena == NULL) {
		json_doc_free(d);
		return -1;
	}
	return 0;
}

void json_doc_free(struct json_doc *d)
{
	free(d->nodes);
	free(d->frames);
	free(d->arena);
	d->nodes = NULL;
	d->frames = NULL;
	d->arena = NULL;
}

/* ---- errors, nodes and arena --------------------------------------------- */

static enum json_error fail(struct json_doc *d, enum json_error e,
			    const char *at, const char *msg)
{
	d->err = e;
	d->err_offset = at ? (size_t)(at - d->src) : 0;
	d->err_msg = msg;
	return e;
}

static json_ref node_new(struct json_doc *d)
{
	json_ref r;

	if (d->count > d->lim.max_nodes) {
		d->err = JSON_E_NODES;
		d->err_msg = "too many values";
		return 0;
	}
	r = d->count++;
	d->nodes[r] = (struct json_node){ 0 };
	return r;
}

/* Room for `n` bytes of new text; NULL (and d->err) when the arena is
 * full. Arena text is never moved or freed until the next parse. */
static char *arena_alloc(struct json_doc *d, size_t n, uint32_t *off)
{
	char *p;

	if (n > d->lim.max_arena - d->arena_len) {
		d->err = JSON_E_MEMORY;
		d->err_msg = "edit memory limit reached";
		return NULL;
	}
	p = d->arena + d->arena_len;
	*off = d->arena_len;
	d->arena_len += (uint32_t)n;
	return p;
}

/* ---- UTF-8 and strings --------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (first byte >= 0x80), or 0.
 * Ranges per RFC 3629 section 4: no overlongs, no surrogates, <= U+10FFFF. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n = end - p;

	if (c < 0xC2)
		return 0;
	if (c < 0xE0)
		return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c < 0xF0) {
		unsigned lo = c == 0xE0 ? 0xA0 : 0x80;
		unsigned hi = c == 0xED ? 0x9F : 0xBF;

		if (n < 3 || p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80)
			return 0;
		return 3;
	}
	if (c < 0xF5) {
		unsigned lo = c == 0xF0 ? 0x90 : 0x80;
		unsigned hi = c == 0xF4 ? 0x8F : 0xBF;

		if (n < 4 || p[1] < lo || p[1] > hi ||
		    (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
			return 0;
		return 4;
	}
	return 0;
}

int json_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		size_t n;

		if (*p < 0x80) {
			p++;
			continue;
		}
		n = utf8_seq(p, end);
		if (n == 0)
			return 0;
		p += n;
	}
	return 1;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int read_hex4(const unsigned char *p, const unsigned char *end)
{
	int v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int h = hexval(p[i]);

		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* Is the 6-byte escape \uXXXX at p the canonical spelling of `cp`? Only
 * controls without a short escape are spelt \u00xx, in lowercase hex. */
static int u_escape_canonical(const unsigned char *p, int cp)
{
	if (cp >= 0x20 || cp == '\b' || cp == '\f' || cp == '\n' ||
	    cp == '\r' || cp == '\t')
		return 0;
	return p[2] == '0' && p[3] == '0' && !(p[4] >= 'A' && p[4] <= 'F') &&
	       !(p[5] >= 'A' && p[5] <= 'F');
}

size_t json_u_escape(const char *s, size_t avail, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + avail;
	int hi, lo;

	if (avail < 6 || (hi = read_hex4(p + 2, end)) < 0)
		return 0;
	*cp = (uint32_t)hi;
	if (hi < 0xD800 || hi > 0xDBFF || avail < 12 || p[6] != '\\' ||
	    p[7] != 'u')
		return 6;
	lo = read_hex4(p + 8, end);
	if (lo < 0xDC00 || lo > 0xDFFF)
		return 6;
	*cp = 0x10000 + (((uint32_t)hi - 0xD800) << 10) +
	      ((uint32_t)lo - 0xDC00);
	return 12;
}

/* Bytes that end a run of plain string characters: '"', '\\', controls
 * and the first byte of any multi-byte UTF-8 sequence. */
static inline int string_special(unsigned char c)
{
	return c == '"' || c == '\\' || c < 0x20 || c >= 0x80;
}

/* Skip plain characters, 16 at a time where the input allows. */
static inline const unsigned char *skip_plain(const unsigned char *p,
					      const unsigned char *end)
{
#if defined(__SSE2__)
	const __m128i quote = _mm_set1_epi8('"');
	const __m128i bslash = _mm_set1_epi8('\\');
	const __m128i space = _mm_set1_epi8(0x20);

	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)p);
		/* Signed compare: bytes >= 0x80 are negative, so "< 0x20"
		 * catches both controls and non-ASCII bytes at once. */
		__m128i s = _mm_or_si128(_mm_cmplt_epi8(v, space),
					 _mm_or_si128(_mm_cmpeq_epi8(v, quote),
						      _mm_cmpeq_epi8(v,
								     bslash)));
		unsigned mask = (unsigned)_mm_movemask_epi8(s);

		if (mask != 0)
			return p + __builtin_ctz(mask);
		p += 16;
	}
#endif
	while (p < end && !string_special(*p))
		p++;
	return p;
}

/* Skip bytes that a canonical string spells as themselves: all but '"',
 * '\\' and controls (non-ASCII bytes included), 16 at a time where the
 * input allows. */
static inline const unsigned char *skip_verbatim(const unsigned char *p,
						 const unsigned char *end)
{
#if defined(__SSE2__)
	const __m128i quote = _mm_set1_epi8('"');
	const __m128i bslash = _mm_set1_epi8('\\');
	const __m128i ctl = _mm_set1_epi8(0x1F);

	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)p);
		/* Unsigned v <= 0x1F exactly when min(v, 0x1F) == v. */
		__m128i s = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, ctl),
							v),
					 _mm_or_si128(_mm_cmpeq_epi8(v, quote),
						      _mm_cmpeq_epi8(v,
								     bslash)));
		unsigned mask = (unsigned)_mm_movemask_epi8(s);

		if (mask != 0)
			return p + __builtin_ctz(mask);
		p += 16;
	}
#endif
	while (p < end && *p >= 0x20 && *p != '"' && *p != '\\')
		p++;
	return p;
}

/* Scan the string whose opening quote is at p; returns the byte after the
 * closing quote, or NULL with the error set. Adds JN_ESCAPED and
 * JN_NONCANON (shifted by `shift` for keys) to *flags. */
static const unsigned char *scan_string(struct json_doc *d,
					const unsigned char *p,
					const unsigned char *end,
					uint8_t *flags, int shift)
{
	uint8_t fl = 0;

	p++;
	for (;;) {
		unsigned c;

		p = skip_plain(p, end);
		if (p >= end) {
			fail(d, JSON_E_SYNTAX, (const char *)p,
			     "unterminated string");
			return NULL;
		}
		c = *p;
		if (c == '"')
			break;
		if (c >= 0x80) {
			size_t n = utf8_seq(p, end);

			if (n == 0) {
				fail(d, JSON_E_UTF8, (const char *)p,
				     "invalid UTF-8 in string");
				return NULL;
			}
			p += n;
			continue;
		}
		if (c < 0x20) {
			fail(d, JSON_E_SYNTAX, (const char *)p,
			     "unescaped control character in string");
			return NULL;
		}

		/* A backslash escape. */
		fl |= JN_ESCAPED;
		if (p + 1 >= end) {
			fail(d, JSON_E_SYNTAX, (const char *)p,
			     "unterminated string");
			return NULL;
		}
		switch (p[1]) {
		case '"':
		case '\\':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			p += 2;
			continue;
		case '/':
			fl |= JN_NONCANON;
			p += 2;
			continue;
		case 'u':
			break;
		default:
			fail(d, JSON_E_SYNTAX, (const char *)p,
			     "invalid escape in string");
			return NULL;
		}

		uint32_t cp;
		size_t n = json_u_escape((const char *)p, (size_t)(end - p),
					 &cp);

		if (n == 0) {
			fail(d, JSON_E_SYNTAX, (const char *)p,
			     "invalid \\u escape in string");
			return NULL;
		}
		if (cp >= 0xDC00 && cp <= 0xDFFF) {
			fail(d, JSON_E_UTF8, (const char *)p,
			     "lone low surrogate escape in string");
			return NULL;
		}
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			fail(d, JSON_E_UTF8, (const char *)p,
			     "lone high surrogate escape in string");
			return NULL;
		}
		/* A pair is never canonical: the character is written raw. */
		if (n == 12 || !u_escape_canonical(p, (int)cp))
			fl |= JN_NONCANON;
		p += n;
	}
	*flags |= (uint8_t)(fl << shift);
	return p + 1;
}

/* scan_string, with the common case inline: plain ASCII up to the
 * closing quote, found in one SIMD skip, sets no flags. Anything else is
 * scanned again from the start by scan_string, so errors and flags are
 * exactly its own. */
static inline const unsigned char *scan_string_fast(struct json_doc *d,
						    const unsigned char *p,
						    const unsigned char *end,
						    uint8_t *flags, int shift)
{
	const unsigned char *q = skip_plain(p + 1, end);

	if (q < end && *q == '"')
		return q + 1;
	return scan_string(d, p, end, flags, shift);
}

/* Decode one escape at s (s[0] == '\\', before `end`); returns its
 * length in the input and stores the code point. The input was validated
 * by the parser. */
static size_t decode_escape(const unsigned char *s, const unsigned char *end,
			    uint32_t *cp)
{
	switch (s[1]) {
	case 'b':
		*cp = '\b';
		return 2;
	case 'f':
		*cp = '\f';
		return 2;
	case 'n':
		*cp = '\n';
		return 2;
	case 'r':
		*cp = '\r';
		return 2;
	case 't':
		*cp = '\t';
		return 2;
	case 'u':
		return json_u_escape((const char *)s, (size_t)(end - s), cp);
	default:
		*cp = s[1];
		return 2;
	}
}

size_t json_put_utf8(char *out, uint32_t cp)
{
	unsigned char *o = (unsigned char *)out;

	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xC0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
	o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
	o[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

size_t json_unescape(const char *s, size_t len, char *out)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	size_t n = 0;

	while (p < end) {
		const unsigned char *q = p;
		uint32_t cp;

		while (q < end && *q != '\\')
			q++;
		memcpy(out + n, p, (size_t)(q - p));
		n += (size_t)(q - p);
		if (q == end)
			break;
		p = q + decode_escape(q, end, &cp);
		n += json_put_utf8(out + n, cp);
	}
	return n;
}

/* Write ASCII character c in canonical form: the short escapes for " \
 * and the five controls that have one, \u00xx for the other controls,
 * the byte itself otherwise. */
static void put_ascii_canonical(struct buf *out, unsigned c)
{
	static const char hex[] = "0123456789abcdef";
	static const char shorts[] = {
		['"'] = '"', ['\\'] = '\\', ['\b'] = 'b', ['\f'] = 'f',
		['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
	};
	char esc[6] = { '\\', 'u', '0', '0', 0, 0 };

	if (c < sizeof shorts && shorts[c]) {
		esc[1] = shorts[c];
		buf_put(out, esc, 2);
	} else if (c < 0x20) {
		esc[4] = hex[c >> 4];
		esc[5] = hex[c & 15];
		buf_put(out, esc, 6);
	} else {
		buf_putc(out, (char)c);
	}
}

void json_encode_string(struct buf *out, const char *utf8, size_t len)
{
	const unsigned char *p = (const unsigned char *)utf8;
	/* An empty buffer's data may be NULL: no arithmetic on it. */
	const unsigned char *end = len ? p + len : p;

	buf_putc(out, '"');
	while (p < end) {
		const unsigned char *q = skip_verbatim(p, end);

		buf_put(out, p, (size_t)(q - p));
		if (q == end)
			break;
		put_ascii_canonical(out, *q);
		p = q + 1;
	}
	buf_putc(out, '"');
}

/* Re-spell the body of a valid JSON string canonically, without decoding
 * it into a scratch buffer first. */
static void write_canonical_body(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		const unsigned char *q = p;
		uint32_t cp;
		char u[4];

		while (q < end && *q != '\\')
			q++;
		buf_put(out, p, (size_t)(q - p));
		if (q == end)
			break;
		p = q + decode_escape(q, end, &cp);
		if (cp < 0x80)
			put_ascii_canonical(out, cp);
		else
			buf_put(out, u, json_put_utf8(u, cp));
	}
}

/* Does the escaped body `raw` decode to exactly `key`? */
static int escaped_equals(const char *raw, size_t rawlen, const char *key,
			  size_t keylen)
{
	const unsigned char *p = (const unsigned char *)raw, *end = p + rawlen;
	size_t k = 0;

	while (p < end) {
		uint32_t cp;
		char u[4];
		size_t n;

		if (*p != '\\') {
			if (k >= keylen || key[k] != (char)*p)
				return 0;
			k++;
			p++;
			continue;
		}
		p += decode_escape(p, end, &cp);
		n = json_put_utf8(u, cp);
		if (keylen - k < n || memcmp(key + k, u, n) != 0)
			return 0;
		k += n;
	}
	return k == keylen;
}

/* ---- the parser ---------------------------------------------------------- */

static inline const unsigned char *skip_ws(const unsigned char *p,
					   const unsigned char *end)
{
	/* Events are mostly compact: the common case is no whitespace. */
	if (p < end && *p > ' ')
		return p;
	while (p < end &&
	       (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

/* Inlined always: a call per number costs more than the scan. */
static inline __attribute__((always_inline)) const unsigned char *
scan_number(const unsigned char *p, const unsigned char *end)
{
	if (p < end && *p == '-')
		p++;
	if (p >= end)
		return NULL;
	if (*p == '0') {
		p++;
	} else if (*p >= '1' && *p <= '9') {
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	} else {
		return NULL;
	}
	if (p < end && *p == '.') {
		p++;
		if (p >= end || *p < '0' || *p > '9')
			return NULL;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || *p < '0' || *p > '9')
			return NULL;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	return p;
}

int json_is_number(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	return len > 0 && scan_number(p, p + len) == p + len;
}

/* The token at p that is neither a string nor a container: a literal or
 * a number. Returns the byte after it with *type set, or NULL with the
 * error set. */
static inline __attribute__((always_inline)) const unsigned char *
scan_scalar(struct json_doc *d, const unsigned char *p,
	    const unsigned char *end, uint8_t *type)
{
	const unsigned char *q;

	switch (*p) {
	case 't':
		if (end - p < 4 || memcmp(p, "true", 4) != 0)
			break;
		*type = JSON_TRUE;
		return p + 4;
	case 'f':
		if (end - p < 5 || memcmp(p, "false", 5) != 0)
			break;
		*type = JSON_FALSE;
		return p + 5;
	case 'n':
		if (end - p < 4 || memcmp(p, "null", 4) != 0)
			break;
		*type = JSON_NULL;
		return p + 4;
	default:
		q = scan_number(p, end);
		if (q != NULL) {
			*type = JSON_NUMBER;
			return q;
		}
		fail(d, JSON_E_SYNTAX, (const char *)p,
		     *p == '-' || (*p >= '0' && *p <= '9')
		     ? "invalid number" : "unexpected character");
		return NULL;
	}
	fail(d, JSON_E_SYNTAX, (const char *)p, "invalid literal");
	return NULL;
}

/* A cheap bucket for a raw (unescaped) key, for the duplicate filter:
 * keys of one object rarely share both length and last byte. */
static inline uint64_t key_bit(const unsigned char *k, size_t n)
{
	return (uint64_t)1 << ((n + (n ? k[n - 1] * 5u : 0)) & 63);
}

/* Is the raw key k..k+n already a key of the object in frame f? For
 * large objects, leave it to the sort at the close. */
static int seen_key(const struct json_doc *d, const struct json_frame *f,
		    const unsigned char *base, const unsigned char *k,
		    size_t n)
{
	if (f->members > 32)
		return 1;
	for (json_ref c = d->nodes[f->node].first; c; c = d->nodes[c].next)
		if (d->nodes[c].keylen == n &&
		    !(d->nodes[c].flags & JN_KEY_ESCAPED) &&
		    memcmp(base + d->nodes[c].key, k, n) == 0)
			return 1;
	return 0;
}

static int dedupe_object(struct json_doc *d, json_ref obj);
static void unlink_node(struct json_doc *d, json_ref r);

/* Should the parse pause for r, a new child of ps->stop? Always, unless
 * json_member is looking for a key: then only for members that may have
 * it (escaped keys are left to json_member to decode), which saves a
 * pause and a resume per member passed over. */
static inline int wanted(const struct json_doc *d,
			 const struct json_parse *ps, json_ref r)
{
	const struct json_node *n = &d->nodes[r];

	if (ps->want == NULL || (n->flags & JN_KEY_ESCAPED))
		return 1;
	return n->keylen == ps->wantlen &&
	       memcmp(ps->base + n->key, ps->want, n->keylen) == 0;
}

/* Parse text into nodes: `ps` says which text (offsets in the nodes are
 * relative to ps->base, the input or the arena) and where a paused parse
 * resumes. With ps->stop a node, the parse pauses as soon as that node
 * gets a new child (after the child's first token; ps->added says which)
 * or closes; JSON_STOP_ROOT pauses once the root exists; JSON_STOP_NEVER
 * runs to the end. Errors are final: the state stays failed. */
static enum json_error parse_run(struct json_doc *d, struct json_parse *ps)
{
	const unsigned char *b = (const unsigned char *)ps->base;
	const unsigned char *p = b + ps->pos, *end = b + ps->end;
	const uint8_t text_flag = ps->arena ? JN_TEXT_ARENA : 0;
	const uint8_t key_flag = ps->arena ? JN_KEY_ARENA : 0;
	uint32_t depth = ps->depth;
	struct json_frame *f = depth ? &d->frames[depth - 1] : NULL;
	uint32_t key = ps->key, keylen = ps->keylen;
	uint8_t keyflags = ps->keyflags;
	json_ref r;
	const unsigned char *q;

	ps->added = 0;
	switch (ps->label) {
	case P_VALUE:
		goto value;
	case P_KEY:
		goto key;
	case P_OPEN:
		goto open;
	case P_AFTER:
		goto after;
	case P_DONE:
		return JSON_OK;
	}
	p = skip_ws(p, end);

value:
	if (p >= end)
		return fail(d, JSON_E_SYNTAX, (const char *)p,
			    "unexpected end of input, expected a value");
	r = node_new(d);
	if (r == 0)
		return fail(d, JSON_E_NODES, (const char *)p,
			    "too many values in one event");
	if (f == NULL) {
		ps->root = r;
	} else {
		struct json_node *n = &d->nodes[r];

		n->parent = f->node;
		if (f->last)
			d->nodes[f->last].next = r;
		else
			d->nodes[f->node].first = r;
		f->last = r;
		f->members++;
		if (f->object) {
			n->key = key;
			n->keylen = keylen;
			n->flags = keyflags;
		}
	}
	d->nodes[r].text = (uint32_t)(p - b);
	d->nodes[r].flags |= text_flag;

	switch (*p) {
	case '{':
	case '[':
		if (depth == d->lim.max_depth)
			return fail(d, JSON_E_DEPTH, (const char *)p,
				    "nesting too deep");
		d->nodes[r].type = *p == '{' ? JSON_OBJECT : JSON_ARRAY;
		d->nodes[r].flags |= JN_OPEN;
		f = &d->frames[depth++];
		f->node = r;
		f->last = 0;
		f->members = 0;
		f->object = *p == '{';
		f->keyset = 0;
		f->compact = 1;
		f->maybe_dup = 0;
		q = skip_ws(p + 1, end);
		if (q != p + 1)
			f->compact = 0;
		p = q;
		if (d->nodes[r].parent == ps->stop && wanted(d, ps, r)) {
			ps->added = r;
			ps->label = P_OPEN;
			goto pause;
		}
		goto open;
	case '"':
		q = scan_string_fast(d, p, end, &d->nodes[r].flags, 0);
		if (q == NULL)
			return d->err;
		d->nodes[r].type = JSON_STRING;
		if (f && (d->nodes[r].flags & JN_NONCANON) && d->canonical)
			f->compact = 0;
		break;
	default:
		q = scan_scalar(d, p, end, &d->nodes[r].type);
		if (q == NULL)
			return d->err;
		break;
	}
	d->nodes[r].len = (uint32_t)(q - p);
	p = q;
	if (d->nodes[r].parent == ps->stop && f != NULL &&
	    wanted(d, ps, r)) {
		ps->added = r;
		ps->label = P_AFTER;
		goto pause;
	}
	goto after;

open:
	if (p < end && (*p == '}' || *p == ']')) {
		if ((*p == '}') != f->object)
			return fail(d, JSON_E_SYNTAX, (const char *)p,
				    "mismatched bracket");
		goto close;
	}
	if (f->object)
		goto key;
	goto value;

key:
	if (p >= end || *p != '"')
		return fail(d, JSON_E_SYNTAX, (const char *)p,
			    "expected a string key");
	keyflags = key_flag;
	q = scan_string_fast(d, p, end, &keyflags, 1);
	if (q == NULL)
		return d->err;
	key = (uint32_t)(p + 1 - b);
	keylen = (uint32_t)(q - p - 2);
	if (keyflags & JN_KEY_ESCAPED) {
		f->maybe_dup = 1;
		if ((keyflags & JN_KEY_NONCANON) && d->canonical)
			f->compact = 0;
	} else if (!f->maybe_dup) {
		uint64_t bit = key_bit(p + 1, keylen);

		/* The filter only says "maybe": ask the siblings, unless
		 * there are so many that sorting them at the close is
		 * cheaper. */
		if ((f->keyset & bit) && seen_key(d, f, b, p + 1, keylen))
			f->maybe_dup = 1;
		f->keyset |= bit;
	}
	/* Compact text: ':' and the value right after the key. */
	if (end - q > 1 && *q == ':' && q[1] > ' ') {
		p = q + 1;
		goto value;
	}
	p = skip_ws(q, end);
	if (p != q)
		f->compact = 0;
	if (p >= end || *p != ':')
		return fail(d, JSON_E_SYNTAX, (const char *)p,
			    "expected ':' after object key");
	q = skip_ws(p + 1, end);
	if (q != p + 1)
		f->compact = 0;
	p = q;
	goto value;

after:
	if (f == NULL) {
		p = skip_ws(p, end);
		if (p != end)
			return fail(d, JSON_E_SYNTAX, (const char *)p,
				    "unexpected data after the JSON value");
		ps->label = P_DONE;
		goto pause;
	}
	/* Compact text: ',' and the next member or element right after. */
	if (end - p > 1 && *p == ',' && p[1] > ' ') {
		p++;
		if (f->object)
			goto key;
		goto value;
	}
	q = skip_ws(p, end);
	if (q != p)
		f->compact = 0;
	p = q;
	if (p >= end)
		return fail(d, JSON_E_SYNTAX, (const char *)p,
			    "unexpected end of input inside a container");
	if (*p == ',') {
		q = skip_ws(p + 1, end);
		if (q != p + 1)
			f->compact = 0;
		p = q;
		if (f->object)
			goto key;
		goto value;
	}
	if (*p != (f->object ? '}' : ']'))
		return fail(d, JSON_E_SYNTAX, (const char *)p,
			    f->object ? "expected ',' or '}' in object"
				      : "expected ',' or ']' in array");

close:
	r = f->node;
	d->nodes[r].len = (uint32_t)(p + 1 - (b + d->nodes[r].text));
	d->nodes[r].flags &= (uint8_t)~JN_OPEN;
	if (f->maybe_dup && dedupe_object(d, r) != 0)
		return fail(d, d->err, (const char *)p, d->err_msg);
	if (f->compact && !f->maybe_dup)
		d->nodes[r].flags |= JN_VERBATIM;
	p++;
	depth--;
	if (depth == 0) {
		f = NULL;
	} else {
		uint8_t compact = (d->nodes[r].flags & JN_VERBATIM) != 0;

		f = &d->frames[depth - 1];
		f->compact &= compact;
	}
	if (r == ps->stop) {
		ps->label = P_AFTER;
		goto pause;
	}
	goto after;

pause:
	ps->pos = (uint32_t)(p - b);
	ps->depth = depth;
	ps->key = key;
	ps->keylen = keylen;
	ps->keyflags = keyflags;
	return JSON_OK;
}

/* Parse a whole text now: constants, and events when not lazy. */
static enum json_error parse_all(struct json_doc *d, struct json_parse *ps,
				 const char *base, int arena, size_t off,
				 size_t len, json_ref stop)
{
	memset(ps, 0, sizeof *ps);
	ps->base = base;
	ps->arena = arena;
	ps->pos = (uint32_t)off;
	ps->end = (uint32_t)(off + len);
	ps->label = P_START;
	ps->stop = stop;
	return parse_run(d, ps);
}

/* Resume a paused parse of the event until `stop` gets a new child or
 * closes. Returns the new child, or 0 (closed, or failed: d->failed). */
static json_ref resume(struct json_doc *d, json_ref stop)
{
	struct json_parse *ps = &d->parse;

	if (d->failed || ps->label == P_DONE)
		return 0;
	ps->stop = stop;
	if (parse_run(d, ps) != JSON_OK) {
		d->failed = 1;
		ps->label = P_DONE;
		return 0;
	}
	return ps->added;
}

int json_complete(struct json_doc *d, json_ref r)
{
	while (d->nodes[r].flags & JN_OPEN && !d->failed)
		resume(d, r);
	return d->failed ? -1 : 0;
}

int json_complete_all(struct json_doc *d)
{
	while (d->parse.label != P_DONE && !d->failed)
		resume(d, JSON_STOP_NEVER);
	return d->failed ? -1 : 0;
}

/* ---- validating without nodes -------------------------------------------- */

/* Skip the string whose opening quote is at p: scan_string's checks and
 * errors, nothing recorded. */
static inline const unsigned char *skip_string(struct json_doc *d,
					       const unsigned char *p,
					       const unsigned char *end)
{
	uint8_t fl = 0;

	return scan_string_fast(d, p, end, &fl, 0);
}

/* parse_run's grammar and checks, in the same order and with the same
 * messages, minus everything that makes or links nodes; from where `ps`
 * paused until the container at depth `stop` + 1 closes (*pos is then just
 * after it), or with `stop` 0 to the end of the text. *count is the
 * values so far, as node_new counts them. The kinds of the containers it
 * opens go into the frames above the paused parse's, which that parse
 * does not use until it opens a container there itself. The fast paths
 * (',' and ':' with no space around) only skip skip_ws where it would
 * have found nothing. */
static enum json_error validate_run(struct json_doc *d,
				    const struct json_parse *ps,
				    uint32_t stop, uint32_t *count,
				    uint32_t *pos)
{
	const unsigned char *b = (const unsigned char *)ps->base;
	const unsigned char *p = b + ps->pos, *end = b + ps->end;
	struct json_frame *fr = d->frames;
	uint32_t depth = ps->depth, n = *count;
	const uint32_t max_nodes = d->lim.max_nodes;
	uint8_t object = depth ? fr[depth - 1].object : 0, type;
	const unsigned char *q;

	switch (ps->label) {
	case P_VALUE:
		goto value;
	case P_KEY:
		goto key;
	case P_OPEN:
		goto open;
	case P_AFTER:
		if (depth == 0)
			goto done;
		goto after;
	case P_DONE:
		*pos = ps->pos;
		return JSON_OK;
	}
	p = skip_ws(p, end);

value:
	if (p >= end)
		return fail(d, JSON_E_SYNTAX, (const char *)p,
			    "unexpected end of input, expected a value");
	if (n > max_nodes)
		return fail(d, JSON_E_NODES, (const char *)p,
			    "too many values in one event");
	n++;
	switch (*p) {
	case '"':
		p = skip_string(d, p, end);
		if (p == NULL)
			return d->err;
		goto after;
	case '{':
	case '[':
		if (depth == d->lim.max_depth)
			return fail(d, JSON_E_DEPTH, (const char *)p,
				    "nesting too deep");
		object = *p == '{';
		fr[depth++].object = object;
		p = skip_ws(p + 1, end);
		goto open;
	default:
		q = scan_scalar(d, p, end, &type);
		if (q == NULL)
			return d->err;
		break;
	}
	p = q;

after:
	if (p < end && *p == ',')
		goto comma;
	p = skip_ws(p, end);
	if (p >= end)
		return fail(d, JSON_E_SYNTAX, (const char *)p,
			    "unexpected end of input inside a container");
	if (*p == ',')
		goto comma;
	if (*p != (object ? '}' : ']'))
		return fail(d, JSON_E_SYNTAX, (const char *)p,
			    object ? "expected ',' or '}' in object"
				   : "expected ',' or ']' in array");
close:
	p++;
	if (--depth == stop) {
		if (stop == 0)
			goto done;
		*pos = (uint32_t)(p - b);
		*count = n;
		return JSON_OK;
	}
	object = fr[depth - 1].object;
	goto after;

comma:
	p = skip_ws(p + 1, end);
	if (!object)
		goto value;
key:
	if (p >= end || *p != '"')
		return fail(d, JSON_E_SYNTAX, (const char *)p,
			    "expected a string key");
	p = skip_string(d, p, end);
	if (p == NULL)
		return d->err;
	if (p >= end || *p != ':') {
		p = skip_ws(p, end);
		if (p >= end || *p != ':')
			return fail(d, JSON_E_SYNTAX, (const char *)p,
				    "expected ':' after object key");
	}
	p = skip_ws(p + 1, end);
	goto value;

open:
	if (p < end && (*p == '}' || *p == ']')) {
		if ((*p == '}') != object)
			return fail(d, JSON_E_SYNTAX, (const char *)p,
				    "mismatched bracket");
		goto close;
	}
	if (object)
		goto key;
	goto value;

done:
	p = skip_ws(p, end);
	if (p != end)
		return fail(d, JSON_E_SYNTAX, (const char *)p,
			    "unexpected data after the JSON value");
	*pos = (uint32_t)(p - b);
	*count = n;
	return JSON_OK;
}

enum json_error json_validate_rest(struct json_doc *d)
{
	uint32_t count = d->count, pos;
	enum json_error e;

	if (d->failed)
		return d->err;
	e = validate_run(d, &d->parse, 0, &count, &pos);
	if (e != JSON_OK) {
		d->failed = 1;
		d->parse.label = P_DONE;
	}
	return e;
}

enum json_error json_parse(struct json_doc *d, const char *src, size_t len,
			   int canonical, int lazy)
{
	enum json_error e;

	d->src = src;
	d->srclen = len;
	d->gen++;
	d->count = 1;
	d->arena_len = 0;
	d->root = 0;
	d->canonical = canonical;
	d->failed = 0;
	d->err = JSON_OK;
	d->err_offset = 0;
	d->err_msg = NULL;
	d->work = 0;
	if (len > UINT32_MAX - 1)
		return fail(d, JSON_E_MEMORY, NULL, "input too large");
	e = parse_all(d, &d->parse, src, 0, 0, len,
		      lazy ? JSON_STOP_ROOT : JSON_STOP_NEVER);
	if (e != JSON_OK)
		d->parse.label = P_DONE;
	d->root = d->parse.root;
	return e;
}

/* ---- duplicate keys ------------------------------------------------------ */

struct key_entry {
	uint64_t hash;
	const char *key;	/* decoded */
	uint32_t keylen;
	uint32_t pos;		/* member position, for a stable order */
	json_ref ref;
};

static int cmp_key_entry(const void *a, const void *b)
{
	const struct key_entry *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Give member `to` the value of member `from` (children included). */
static void take_value(struct json_doc *d, json_ref to, json_ref from)
{
	struct json_node *t = &d->nodes[to], *s = &d->nodes[from];
	const uint8_t keep = JN_KEY_ARENA | JN_KEY_ESCAPED | JN_KEY_NONCANON;

	t->type = s->type;
	t->text = s->text;
	t->len = s->len;
	t->first = s->first;
	t->flags = (uint8_t)((t->flags & keep) | (s->flags & ~keep));
	for (json_ref c = t->first; c; c = d->nodes[c].next)
		d->nodes[c].parent = to;
	s->first = 0;
}

/* The members of `obj` with their decoded keys, in order. Escaped keys
 * are decoded into one scratch block (*scratch, for the caller to free),
 * not the arena: whether an event parses must not depend on how much
 * edit memory is left, or on when the parse gets to this object. */
static struct key_entry *member_keys(struct json_doc *d, json_ref obj,
				     uint32_t n, char **scratch)
{
	struct key_entry *e = scrub_malloc((size_t)n * sizeof *e + 1);
	size_t room = 0, used = 0;
	uint32_t i = 0;
	json_ref c;

	for (c = d->nodes[obj].first; c; c = d->nodes[c].next)
		if (d->nodes[c].flags & JN_KEY_ESCAPED)
			room += d->nodes[c].keylen;
	*scratch = scrub_malloc(room + 1);
	if (e == NULL || *scratch == NULL) {
		free(e);
		free(*scratch);
		return NULL;
	}
	for (c = d->nodes[obj].first; c; c = d->nodes[c].next, i++) {
		const struct json_node *m = &d->nodes[c];

		e[i].key = json_key_text(d, c);
		e[i].keylen = m->keylen;
		if (m->flags & JN_KEY_ESCAPED) {
			e[i].keylen = (uint32_t)json_unescape(e[i].key,
							      m->keylen,
							      *scratch + used);
			e[i].key = *scratch + used;
			used += e[i].keylen;
		}
		e[i].hash = XXH3_64bits(e[i].key, e[i].keylen);
		e[i].pos = i;
		e[i].ref = c;
	}
	return e;
}

/* Resolve repeated keys in `obj`: the first member stays, later ones with
 * the same key go. First, not last: a reader that stops at the first
 * occurrence (see lazy parsing) then sees the value that is kept. Sorting
 * by hash keeps this O(n log n) even for hostile objects. */
static int dedupe_object(struct json_doc *d, json_ref obj)
{
	uint32_t n = json_length(d, obj), i;
	char *scratch;
	struct key_entry *e = member_keys(d, obj, n, &scratch);

	if (e == NULL) {
		d->err = JSON_E_MEMORY;
		d->err_msg = "out of memory";
		return -1;
	}
	qsort(e, n, sizeof *e, cmp_key_entry);

	for (i = 0; i < n;) {
		uint32_t j = i + 1;

		/* Within one hash run (sorted by position), remove every
		 * member whose key an earlier member already has. */
		while (j < n && e[j].hash == e[i].hash)
			j++;
		for (uint32_t a = i; a < j; a++) {
			if (e[a].ref == 0)
				continue;
			for (uint32_t b = a + 1; b < j; b++) {
				if (e[b].ref == 0 ||
				    e[a].keylen != e[b].keylen ||
				    memcmp(e[a].key, e[b].key,
					   e[a].keylen) != 0)
					continue;
				unlink_node(d, e[b].ref);
				e[b].ref = 0;
			}
		}
		i = j;
	}
	free(e);
	free(scratch);
	return 0;
}

/* ---- look-ups ------------------------------------------------------------ */

uint32_t json_length(struct json_doc *d, json_ref container)
{
	uint32_t n = 0;

	for (json_ref c = json_first(d, container); c; c = d->nodes[c].next)
		n++;
	d->work += n;
	return n;
}

static inline int key_is(const struct json_doc *d, json_ref c,
			 const char *key, size_t keylen)
{
	const struct json_node *n = &d->nodes[c];
	const char *k;

	/* Most members differ in length or in the first byte: tell them
	 * apart before finding the text or calling memcmp. */
	if (n->flags & JN_KEY_ESCAPED)
		return escaped_equals(json_key_text(d, c), n->keylen, key,
				      keylen);
	if (n->keylen != keylen)
		return 0;
	k = json_key_text(d, c);
	return keylen == 0 ||
	       (k[0] == key[0] && memcmp(k + 1, key + 1, keylen - 1) == 0);
}

json_ref json_member(struct json_doc *d, json_ref obj, const char *key,
		     size_t keylen)
{
	json_ref c;

	if (json_type_of(d, obj) != JSON_OBJECT)
		return 0;
	for (c = d->nodes[obj].first; c; c = d->nodes[c].next) {
		d->work++;
		if (key_is(d, c, key, keylen))
			return c;
	}

	/* Still being parsed: read on until the key shows up or the object
	 * ends. A later duplicate cannot matter: the first one is kept. */
	d->parse.want = key;
	d->parse.wantlen = (uint32_t)keylen;
	c = 0;
	while (d->nodes[obj].flags & JN_OPEN) {
		c = resume(d, obj);
		if ((c && key_is(d, c, key, keylen)) || d->failed)
			break;
		c = 0;
	}
	d->parse.want = NULL;
	return d->failed ? 0 : c;
}

json_ref json_member_stable(struct json_doc *d, json_ref obj,
			    const char *key, size_t keylen)
{
	uintptr_t h = ((uintptr_t)key >> 3) ^ (uintptr_t)obj * 0x9E3779B1u;
	struct json_memo *m = &d->memo[(h ^ h >> 11) % JSON_MEMO];

	if (m->gen == d->gen && m->obj == obj && m->key == key &&
	    m->keylen == keylen)
		return m->found;
	m->found = json_member(d, obj, key, keylen);
	m->obj = obj;
	m->key = key;
	m->keylen = (uint32_t)keylen;
	m->gen = d->gen;
	return m->found;
}

json_ref json_element(struct json_doc *d, json_ref arr, int64_t index)
{
	json_ref c;

	if (json_type_of(d, arr) != JSON_ARRAY)
		return 0;
	if (index < 0) {
		index += json_length(d, arr);
		if (index < 0)
			return 0;
	}
	for (c = json_first(d, arr); c && index > 0; c = d->nodes[c].next) {
		index--;
		d->work++;
	}
	return c;
}

static const char *decode_text(struct json_doc *d, const char *raw,
			       size_t rawlen, int escaped, size_t *len)
{
	uint32_t off;
	char *out;

	if (!escaped) {
		*len = rawlen;
		return raw;
	}
	d->work += rawlen / 64;
	out = arena_alloc(d, rawlen, &off);
	if (out == NULL)
		return NULL;
	*len = json_unescape(raw, rawlen, out);
	/* Give back what unescaping saved. */
	d->arena_len = off + (uint32_t)*len;
	return out;
}

const char *json_string(struct json_doc *d, json_ref r, size_t *len)
{
	const struct json_node *n = &d->nodes[r];

	return decode_text(d, json_text(d, r) + 1, n->len - 2,
			   n->flags & JN_ESCAPED, len);
}

const char *json_key(struct json_doc *d, json_ref r, size_t *len)
{
	const struct json_node *n = &d->nodes[r];

	return decode_text(d, json_key_text(d, r), n->keylen,
			   n->flags & JN_KEY_ESCAPED, len);
}

double json_number(struct json_doc *d, json_ref r)
{
	const struct json_node *n = &d->nodes[r];
	const char *t = json_text(d, r);
	char small[64], *big;
	double v;

	d->work += n->len / 64;
	/* strtod needs a terminator the input may not have. */
	if (n->len < sizeof small) {
		memcpy(small, t, n->len);
		small[n->len] = '\0';
		return strtod(small, NULL);
	}
	big = scrub_strndup(t, n->len);
	if (big == NULL)
		return NAN;
	v = strtod(big, NULL);
	free(big);
	return v;
}

/* ---- edits --------------------------------------------------------------- */

void json_touch(struct json_doc *d, json_ref r)
{
	/* A verbatim container only holds verbatim children, so the climb
	 * can stop at the first ancestor that is already marked. */
	while (r && (d->nodes[r].flags & JN_VERBATIM)) {
		d->nodes[r].flags &= (uint8_t)~JN_VERBATIM;
		r = d->nodes[r].parent;
	}
	if (r)
		d->nodes[r].flags &= (uint8_t)~JN_VERBATIM;
}

static void set_value_fields(struct json_doc *d, json_ref r,
			     enum json_type t, uint32_t off, size_t len,
			     uint8_t flags)
{
	struct json_node *n = &d->nodes[r];
	const uint8_t keep = JN_KEY_ARENA | JN_KEY_ESCAPED | JN_KEY_NONCANON;

	/* A container's members go with it: forget look-ups in it. */
	if (n->type == JSON_OBJECT || n->type == JSON_ARRAY)
		d->gen++;
	n->type = (uint8_t)t;
	n->text = off;
	n->len = (uint32_t)len;
	n->first = 0;
	n->flags = (uint8_t)((n->flags & keep) | flags);
	json_touch(d, n->parent);
}

int json_set_scalar(struct json_doc *d, json_ref r, enum json_type t,
		    const char *text, size_t len)
{
	uint32_t off;
	char *p;

	/* Edits need the whole event parsed: see json_parse's `lazy`. */
	if (json_complete_all(d) != 0)
		return -1;
	p = arena_alloc(d, len, &off);
	if (p == NULL)
		return -1;
	memcpy(p, text, len);
	set_value_fields(d, r, t, off, len, JN_TEXT_ARENA);
	return 0;
}

/* Worst case of json_encode_string: every byte as \u00xx, plus quotes. */
static size_t encoded_bound(size_t len)
{
	return 6 * len + 2;
}

int json_set_string(struct json_doc *d, json_ref r, const char *utf8,
		    size_t len)
{
	size_t room;
	struct buf tmp;
	uint32_t off;
	uint8_t flags = JN_TEXT_ARENA;

	if (json_complete_all(d) != 0)
		return -1;
	room = d->lim.max_arena - d->arena_len;
	d->work += len / 64;

	/* Encode straight into the arena's free tail, then claim it. */
	buf_init_fixed(&tmp, d->arena + d->arena_len,
		       encoded_bound(len) < room ? encoded_bound(len) : room);
	json_encode_string(&tmp, utf8, len);
	if (buf_failed(&tmp)) {
		d->err = JSON_E_MEMORY;
		d->err_msg = "edit memory limit reached";
		return -1;
	}
	/* The text is already in place; claim it. */
	off = d->arena_len;
	d->arena_len += (uint32_t)tmp.len;
	if (memchr(tmp.data + 1, '\\', tmp.len - 2) != NULL)
		flags |= JN_ESCAPED;
	set_value_fields(d, r, JSON_STRING, off, tmp.len, flags);
	return 0;
}

/* Move the detached value `from` into `r`. */
static void adopt_value(struct json_doc *d, json_ref r, json_ref from)
{
	d->gen++;
	take_value(d, r, from);
	json_touch(d, d->nodes[r].parent);
}

int json_set_json(struct json_doc *d, json_ref r, const char *text,
		  size_t len)
{
	struct json_parse cp;
	uint32_t off;
	char *p;
	json_ref sub;

	if (json_complete_all(d) != 0)
		return -1;
	p = arena_alloc(d, len, &off);

	if (p == NULL)
		return -1;
	memcpy(p, text, len);
	/* The event's parse is finished (edits finish it first), so its
	 * frames are free for this one. */
	d->work += 1 + len / 64;
	if (parse_all(d, &cp, d->arena, 1, off, len, JSON_STOP_NEVER) !=
	    JSON_OK)
		return -1;
	sub = cp.root;
	adopt_value(d, r, sub);
	return 0;
}

/* Give the copy `dst` of `src` copies of all of src's descendants. Both
 * trees are walked in lock-step preorder through the parent links, so depth
 * costs no C stack. The copies share the (immutable) text. */
static int clone_children(struct json_doc *d, json_ref src, json_ref dst)
{
	json_ref s = src, t = dst;

	for (;;) {
		if (d->nodes[s].first && d->nodes[t].first == 0) {
			json_ref c, last = 0;

			for (c = d->nodes[s].first; c; c = d->nodes[c].next) {
				json_ref k = node_new(d);

				if (k == 0)
					return -1;
				d->work++;
				d->nodes[k] = d->nodes[c];
				d->nodes[k].parent = t;
				d->nodes[k].next = 0;
				d->nodes[k].first = 0;
				if (last)
					d->nodes[last].next = k;
				else
					d->nodes[t].first = k;
				last = k;
			}
		}
		if (d->nodes[s].first) {
			s = d->nodes[s].first;
			t = d->nodes[t].first;
			continue;
		}
		while (s != src && d->nodes[s].next == 0) {
			s = d->nodes[s].parent;
			t = d->nodes[t].parent;
		}
		if (s == src)
			return 0;
		s = d->nodes[s].next;
		t = d->nodes[t].next;
	}
}

int json_set_copy(struct json_doc *d, json_ref r, json_ref from)
{
	const uint8_t keyflags = JN_KEY_ARENA | JN_KEY_ESCAPED |
				 JN_KEY_NONCANON;
	json_ref top;

	if (json_complete_all(d) != 0)
		return -1;
	top = node_new(d);
	if (top == 0)
		return -1;
	d->nodes[top] = d->nodes[from];
	d->nodes[top].flags &= (uint8_t)~keyflags;
	d->nodes[top].key = d->nodes[top].keylen = 0;
	d->nodes[top].next = d->nodes[top].parent = d->nodes[top].first = 0;
	if (clone_children(d, from, top) != 0)
		return -1;
	adopt_value(d, r, top);
	return 0;
}

/* Unlink r from its parent's members (the parent is parsed to there). */
static void unlink_node(struct json_doc *d, json_ref r)
{
	json_ref parent = d->nodes[r].parent, c, prev = 0;

	if (parent == 0)
		return;
	for (c = d->nodes[parent].first; c && c != r; c = d->nodes[c].next) {
		prev = c;
		d->work++;
	}
	if (c == 0)
		return;
	d->gen++;
	if (prev)
		d->nodes[prev].next = d->nodes[r].next;
	else
		d->nodes[parent].first = d->nodes[r].next;
	d->nodes[r].next = 0;
	d->nodes[r].parent = 0;
	json_touch(d, parent);
}

void json_remove(struct json_doc *d, json_ref r)
{
	if (json_complete_all(d) == 0)
		unlink_node(d, r);
}

/* Store `key` (decoded UTF-8) as member `r`'s key, escaped as needed. */
static int set_key(struct json_doc *d, json_ref r, const char *key,
		   size_t keylen)
{
	struct buf tmp;
	struct json_node *n = &d->nodes[r];
	uint32_t off;

	buf_init_fixed(&tmp, d->arena + d->arena_len,
		       d->lim.max_arena - d->arena_len);
	json_encode_string(&tmp, key, keylen);
	if (buf_failed(&tmp)) {
		d->err = JSON_E_MEMORY;
		d->err_msg = "edit memory limit reached";
		return -1;
	}
	/* The text is already in place: claim its body, without quotes. */
	off = d->arena_len;
	d->arena_len += (uint32_t)tmp.len;
	n->key = off + 1;
	n->keylen = (uint32_t)tmp.len - 2;
	n->flags &= (uint8_t)~(JN_KEY_ESCAPED | JN_KEY_NONCANON);
	n->flags |= JN_KEY_ARENA;
	if (memchr(tmp.data + 1, '\\', tmp.len - 2) != NULL)
		n->flags |= JN_KEY_ESCAPED;
	return 0;
}

json_ref json_append_member(struct json_doc *d, json_ref obj,
			    const char *key, size_t keylen)
{
	json_ref r, c, last = 0;

	if (json_complete_all(d) != 0)
		return 0;
	r = node_new(d);
	if (r == 0)
		return 0;
	if (set_key(d, r, key, keylen) != 0)
		return 0;
	d->nodes[r].type = JSON_NULL;
	d->nodes[r].parent = obj;
	if (json_set_scalar(d, r, JSON_NULL, "null", 4) != 0)
		return 0;
	for (c = d->nodes[obj].first; c; c = d->nodes[c].next) {
		last = c;
		d->work++;
	}
	d->gen++;
	if (last)
		d->nodes[last].next = r;
	else
		d->nodes[obj].first = r;
	json_touch(d, obj);
	return r;
}

int json_rename(struct json_doc *d, json_ref r, const char *key,
		size_t keylen)
{
	if (json_complete_all(d) != 0)
		return -1;
	d->gen++;
	if (set_key(d, r, key, keylen) != 0)
		return -1;
	json_touch(d, d->nodes[r].parent);
	return 0;
}

/* ---- the printer --------------------------------------------------------- */

static void write_key(const struct json_doc *d, json_ref r, struct buf *out)
{
	const struct json_node *n = &d->nodes[r];

	buf_putc(out, '"');
	if (d->canonical && (n->flags & JN_KEY_NONCANON))
		write_canonical_body(out, json_key_text(d, r), n->keylen);
	else
		buf_put(out, json_key_text(d, r), n->keylen);
	buf_putc(out, '"');
}

/* Print one node without its children: a scalar or a verbatim container
 * whole (returns 1), or just the opening bracket (returns 0). */
static int write_open(const struct json_doc *d, json_ref r, struct buf *out)
{
	const struct json_node *n = &d->nodes[r];

	if (n->type == JSON_OBJECT || n->type == JSON_ARRAY) {
		if (n->flags & JN_VERBATIM) {
			buf_put(out, json_text(d, r), n->len);
			return 1;
		}
		buf_putc(out, n->type == JSON_OBJECT ? '{' : '[');
		return 0;
	}
	if (n->type == JSON_STRING && d->canonical &&
	    (n->flags & JN_NONCANON)) {
		buf_putc(out, '"');
		write_canonical_body(out, json_text(d, r) + 1, n->len - 2);
		buf_putc(out, '"');
		return 1;
	}
	buf_put(out, json_text(d, r), n->len);
	return 1;
}

void json_write(struct json_doc *d, json_ref top, struct buf *out)
{
	json_ref r = top;

	if (json_complete_all(d) != 0) {
		out->err = BUF_NOMEM;
		return;
	}

	/* Preorder walk using the parent links: no recursion, no stack. */
	for (;;) {
		if (r != top && d->nodes[d->nodes[r].parent].type ==
		    JSON_OBJECT) {
			write_key(d, r, out);
			buf_putc(out, ':');
		}
		if (!write_open(d, r, out)) {
			if (d->nodes[r].first) {
				r = d->nodes[r].first;
				continue;
			}
			buf_putc(out, d->nodes[r].type == JSON_OBJECT
				 ? '}' : ']');
		}
		/* Climb until a node with a next sibling, closing as we go. */
		while (r != top && d->nodes[r].next == 0) {
			r = d->nodes[r].parent;
			buf_putc(out, d->nodes[r].type == JSON_OBJECT
				 ? '}' : ']');
		}
		if (r == top)
			return;
		buf_putc(out, ',');
		r = d->nodes[r].next;
	}
}
