/* json.h - event documents: parse, look up, edit and print one JSON event.
 *
 * The parser validates the whole input (RFC 8259, plus valid UTF-8 and no
 * lone surrogates as I-JSON, RFC 7493, asks) and indexes it into a flat
 * table of nodes that point back into the input bytes. Nothing is decoded or
 * copied until someone asks: a string's text is unescaped only when read, and
 * the printer copies every untouched subtree straight from the input. That is
 * what keeps untouched data byte-for-byte as it came, numbers included.
 *
 * Edits (set, delete, insert, rename, move) relink nodes and put new text in
 * a per-document arena. The node table and the arena are reserved once at
 * their limits and never move, so refs and text pointers stay valid for the
 * whole life of one parsed event.
 *
 * Ownership: the document never owns the input bytes; they must outlive it
 * until the next json_parse() or json_doc_free(). Everything else belongs
 * to the document.
 */
#ifndef SCRUB_JSON_H
#define SCRUB_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef uint32_t json_ref;	/* a node; 0 means "no node" */

enum json_type {
	JSON_NONE = 0,
	JSON_NULL,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

/* Why a parse or an edit failed. */
enum json_error {
	JSON_OK = 0,
	JSON_E_SYNTAX,		/* not JSON */
	JSON_E_UTF8,		/* invalid UTF-8, or a lone surrogate
				 * escape */
	JSON_E_DEPTH,		/* nested deeper than the limit */
	JSON_E_NODES,		/* more values than the limit */
	JSON_E_MEMORY,		/* arena limit reached, or malloc
				 * failed */
};

struct json_limits {
	uint32_t max_depth;	/* containers nested at most this deep */
	uint32_t max_nodes;	/* values per document */
	uint32_t max_arena;	/* bytes of new text per document */
};

/* Node flags. */
enum {
	JN_TEXT_ARENA = 0x01,	/* text lives in the arena, not the
				 * input */
	JN_KEY_ARENA = 0x02,	/* key lives in the arena */
	JN_ESCAPED = 0x04,	/* string text has backslash escapes */
	JN_KEY_ESCAPED = 0x08,	/* key has backslash escapes */
	JN_NONCANON = 0x10,	/* string escapes differ from canonical */
	JN_KEY_NONCANON = 0x20,	/* key escapes differ from canonical */
	JN_VERBATIM = 0x40,	/* container: its text is its exact output */
	JN_OPEN = 0x80,		/* container: its closing bracket is not
				 * parsed yet (lazy parsing) */
};

struct json_node {
	uint32_t text;		/* scalar token (strings quoted), or
				 * span */
	uint32_t len;
	uint32_t key;		/* object member: key text, quotes
				 * excluded */
	uint32_t keylen;
	json_ref next;		/* next sibling */
	json_ref first;		/* first child of a container */
	json_ref parent;	/* 0 for the root and for detached nodes */
	uint8_t type;		/* enum json_type */
	uint8_t flags;
	uint16_t unused;
};

struct json_frame;

/* Where a paused parse resumes (see json_parse's `lazy`). */
enum json_parse_label { P_START, P_VALUE, P_KEY, P_OPEN, P_AFTER, P_DONE };

#define JSON_STOP_ROOT 0u
#define JSON_STOP_NEVER 0xFFFFFFFFu

struct json_parse {
	const char *base;	/* the text's base: input or arena */
	int arena;
	uint32_t pos, end;	/* offsets from base */
	uint32_t depth;		/* open containers, in doc->frames */
	uint32_t key, keylen;	/* a key read, its value not yet */
	uint8_t keyflags;
	uint8_t label;		/* enum json_parse_label */
	json_ref root;
	json_ref stop;		/* pause when this node grows or closes */
	json_ref added;		/* the child that made it pause */
	const char *want;	/* if set, pause only for stop's members
				 * that may have this key (json_member) */
	uint32_t wantlen;
};

/* A remembered look-up: see json_member_stable(). */
struct json_memo {
	json_ref obj, found;
	const char *key;
	uint32_t keylen;
	uint32_t gen;
};

#define JSON_MEMO 64

struct json_doc {
	const char *src;
	size_t srclen;
	struct json_node *nodes;	/* nodes[0] is unused */
	uint32_t count;
	char *arena;
	uint32_t arena_len;
	json_ref root;
	int canonical;		/* print strings in canonical form */
	struct json_limits lim;
	struct json_frame *frames;
	struct json_parse parse;	/* of the event */
	int failed;		/* a resumed parse failed: d->err says why */
	struct json_memo memo[JSON_MEMO];
	uint32_t gen;		/* bumped when members move or go */
	uint64_t work;		/* look-up and edit work since the parse:
				 * nodes visited, plus bytes / 64 decoded;
				 * the VM charges it to the step budget */

	/* After a failed parse or edit. */
	enum json_error err;
	size_t err_offset;	/* byte offset into the input */
	const char *err_msg;	/* static text */
};

/* Reserve a document for `lim`: -1 when out of memory, or when a limit
 * is 0 or max_nodes is UINT32_MAX (node numbers are 32-bit and one past
 * the last must still count). */
int json_doc_init(struct json_doc *d, const struct json_limits *lim);
void json_doc_free(struct json_doc *d);

/* Parse `len` bytes of `src` (any leading and trailing whitespace allowed)
 * into `d`, dropping whatever it held. Returns JSON_OK or an error, with
 * d->err_offset and d->err_msg saying where and why. With `canonical` set the
 * printer re-escapes every string canonically (see json_encode_string).
 *
 * With `lazy` set, parsing stops once the root exists and resumes only as
 * far as look-ups need: json_member() parses an open object up to the
 * member asked for (or its end); json_first() and every edit or print
 * finish what they touch first. An error found later sets d->failed. So an
 * event can be decided from its first fields without reading the rest;
 * the rest is validated only if the event is edited or printed.
 * Duplicate keys: the first occurrence is kept and later ones removed, so
 * no copy of a key can slip past a rule that handles the other. */
enum json_error json_parse(struct json_doc *d, const char *src, size_t len,
			   int canonical, int lazy);

/* Finish parsing container r, or the whole event. 0, or -1 (d->failed). */
int json_complete(struct json_doc *d, json_ref r);
int json_complete_all(struct json_doc *d);

/* Check the rest of the event after a lazy parse paused, as finishing the
 * parse would, but without making nodes: the same grammar, UTF-8 and
 * limits (each value counts against max_nodes as if it were a node), so
 * the same error at the same byte. For an event decided before its end
 * (dropped): is it valid, at a fraction of the cost of parsing it.
 * Returns JSON_OK, or the error with d->err* and d->failed set. The nodes
 * and the paused parse are left as they were. */
enum json_error json_validate_rest(struct json_doc *d);

static inline struct json_node *json_node(const struct json_doc *d,
					  json_ref r)
{
	return &d->nodes[r];
}

static inline enum json_type json_type_of(const struct json_doc *d,
					  json_ref r)
{
	return r ? (enum json_type)d->nodes[r].type : JSON_NONE;
}

static inline const char *json_text(const struct json_doc *d, json_ref r)
{
	const struct json_node *n = &d->nodes[r];

	return (n->flags & JN_TEXT_ARENA ? d->arena : d->src) + n->text;
}

static inline const char *json_key_text(const struct json_doc *d,
					json_ref r)
{
	const struct json_node *n = &d->nodes[r];

	return (n->flags & JN_KEY_ARENA ? d->arena : d->src) + n->key;
}

/* A container's first child, after finishing its parse if it is open;
 * 0 also when that parse failed (d->failed). */
static inline json_ref json_first(struct json_doc *d, json_ref r)
{
	if ((d->nodes[r].flags & JN_OPEN) && json_complete(d, r) != 0)
		return 0;
	return d->nodes[r].first;
}

static inline json_ref json_next(const struct json_doc *d, json_ref r)
{
	return d->nodes[r].next;
}

/* The node after r in a walk of top's subtree in document order (top
 * first, each node before its children): through the parent links, so
 * depth costs no C stack. 0 once the subtree is done. */
static inline json_ref json_walk_next(struct json_doc *d, json_ref top,
				      json_ref r)
{
	json_ref c = json_first(d, r);

	if (c)
		return c;
	while (r != top && d->nodes[r].next == 0)
		r = d->nodes[r].parent;
	return r == top ? 0 : d->nodes[r].next;
}

const char *json_type_name(enum json_type t);

/* Look-ups. A key is given decoded (UTF-8, no escapes). */
json_ref json_member(struct json_doc *d, json_ref obj, const char *key,
		     size_t keylen);
json_ref json_element(struct json_doc *d, json_ref arr, int64_t index);

/* json_member() for keys whose bytes never change while the document
 * lives (the program's own path names): the answer is remembered, keyed
 * by the key's address, until members are added, removed or renamed. */
json_ref json_member_stable(struct json_doc *d, json_ref obj,
			    const char *key, size_t keylen);
uint32_t json_length(struct json_doc *d, json_ref container);

/* A string's or key's decoded UTF-8. Points into the input when there is
 * nothing to unescape, otherwise into the arena; NULL if the arena is full. */
const char *json_string(struct json_doc *d, json_ref r, size_t *len);
const char *json_key(struct json_doc *d, json_ref r, size_t *len);

/* A number's value as a double (overflow gives +-inf). */
double json_number(struct json_doc *d, json_ref r);

/* Edits. Each returns 0, or -1 with d->err set (arena or node limit). */
int json_set_scalar(struct json_doc *d, json_ref r, enum json_type t,
		    const char *text, size_t len);
int json_set_string(struct json_doc *d, json_ref r, const char *utf8,
		    size_t len);
int json_set_json(struct json_doc *d, json_ref r, const char *text,
		  size_t len);
int json_set_copy(struct json_doc *d, json_ref r, json_ref from);
void json_remove(struct json_doc *d, json_ref r);
json_ref json_append_member(struct json_doc *d, json_ref obj,
			    const char *key, size_t keylen);
int json_rename(struct json_doc *d, json_ref r, const char *key,
		size_t keylen);
void json_touch(struct json_doc *d, json_ref r);

/* Print the value at `r` as compact JSON. Untouched containers are copied
 * from the input when they were already compact. */
void json_write(struct json_doc *d, json_ref r, struct buf *out);

/* Canonical string form, quotes included: UTF-8 written raw; `"` `\` and
 * the controls \b \f \n \r \t as short escapes; other controls below 0x20
 * as \u00xx with lowercase hex. The input must be valid UTF-8; `utf8`
 * may be NULL when `len` is 0. */
void json_encode_string(struct buf *out, const char *utf8, size_t len);

/* Unescape the body of a valid JSON string (quotes excluded) into `out`,
 * which needs room for `len` bytes; returns the decoded length. */
size_t json_unescape(const char *s, size_t len, char *out);

/* The \u escape at s (s[0..1] is "\\u"), within the `avail` bytes at s:
 * returns its length, 6, or 12 for a surrogate pair (its code point then
 * above 0xFFFF), with the code point in *cp; a surrogate in *cp stands
 * alone, which JSON text may not have. 0: no four hex digits follow. */
size_t json_u_escape(const char *s, size_t avail, uint32_t *cp);

/* Code point `cp` (up to 0x10FFFF, no surrogate) as UTF-8 into `out`,
 * which has room for 4 bytes; returns the bytes written. */
size_t json_put_utf8(char *out, uint32_t cp);

/* Check that `len` bytes are valid UTF-8 (RFC 3629). */
int json_utf8_valid(const char *s, size_t len);

/* Are the `len` bytes exactly one JSON number (RFC 8259 section 6, no
 * whitespace)? The parser's own test, for numbers written as strings
 * and for bytecode constants. */
int json_is_number(const char *s, size_t len);

#endif
