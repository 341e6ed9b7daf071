/* ast.h - the syntax tree of a .scrub policy.
 *
 * The parser builds it; the compiler checks and lowers it. Every node keeps
 * the span it was parsed from so that any later stage can point at it.
 *
 * Ownership: all nodes and strings live in one arena (struct dsl_arena) and
 * are freed together by dsl_arena_free(); nothing in the tree is freed on
 * its own. That keeps error recovery in the parser leak-free for free.
 */
#ifndef SCRUB_DSL_AST_H
#define SCRUB_DSL_AST_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

struct dsl_arena_block;

struct dsl_arena {
	struct dsl_arena_block *head;
	int failed;		/* an allocation failed */
};

void *dsl_alloc(struct dsl_arena *a, size_t n);	/* zeroed */
char *dsl_strndup(struct dsl_arena *a, const char *s, size_t n);
void dsl_arena_free(struct dsl_arena *a);

/* A growable array of pointers, arena-backed. */
struct dsl_list {
	void **items;
	size_t n, cap;
};

int dsl_list_push(struct dsl_arena *a, struct dsl_list *l, void *item);

/* ---- JSON literals (values, event patterns) ------------------------------ */

enum dsl_json_kind {
	DJ_NULL,
	DJ_TRUE,
	DJ_FALSE,
	DJ_NUMBER,
	DJ_STRING,
	DJ_ARRAY,
	DJ_OBJECT,
	DJ_PARAM,		/* $name where a value is expected */
};

struct dsl_json {
	enum dsl_json_kind kind;
	struct dsl_span span;
	char *text;		/* number: as written; string: decoded UTF-8;
				 * parameter: its name */
	size_t len;
	char *key;		/* member of an object: decoded key */
	size_t keylen;
	struct dsl_span key_span;
	struct dsl_list items;	/* array elements or object members */
};

/* ---- paths --------------------------------------------------------------- */

enum dsl_seg_kind {
	SEG_KEY,		/* .name or ."quoted" or ["quoted"] */
	SEG_INDEX,		/* [3], [-1] */
	SEG_ELEMENTS,		/* [*] every element of an array */
	SEG_MEMBERS,		/* .* every member of an object */
	SEG_DEEP,		/* .** zero or more levels, any key or index */
};

struct dsl_seg {
	enum dsl_seg_kind kind;
	char *name;		/* SEG_KEY, decoded */
	size_t len;
	int64_t index;		/* SEG_INDEX */
	struct dsl_span span;
};

struct dsl_path {
	struct dsl_seg *segs;
	size_t n;		/* 0 is the whole event */
	struct dsl_span span;
};

/* ---- expressions --------------------------------------------------------- */

enum dsl_expr_kind {
	EX_OR,
	EX_AND,
	EX_NOT,
	EX_CMP,			/* a OP b */
	EX_IN,			/* a in [list] */
	EX_MATCHES,		/* a matches /re/ */
	EX_EXISTS,		/* exists path */
	EX_PATTERN,		/* an EventBridge event pattern */
	EX_PATH,
	EX_LITERAL,
	EX_PARAM,		/* $name */
};

enum dsl_cmp { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };

struct dsl_regex {
	char *source;		/* between the slashes, as written */
	size_t len;
	char flags[8];		/* letters after the closing slash */
	struct dsl_span span;
};

struct dsl_expr {
	enum dsl_expr_kind kind;
	struct dsl_span span;
	enum dsl_cmp cmp;
	struct dsl_expr *a, *b;
	struct dsl_path *path;
	struct dsl_json *json;	/* literal, IN list, or pattern */
	struct dsl_regex *re;
	char *name;		/* EX_PARAM */
	uint32_t depth;		/* and/or/not levels: EX_OR, EX_AND, EX_NOT */
};

/* Conditions are walked recursively (checked, lowered, formatted): past
 * this many levels of 'and', 'or' and 'not' one is refused, so a long
 * generated chain cannot exhaust the stack. Bison's own stack bounds
 * brackets, not a flat chain, which it reduces as it goes. */
#define DSL_MAX_COND_DEPTH 1000

/* ---- statements ---------------------------------------------------------- */

enum dsl_stmt_kind {
	ST_POLICY,		/* policy "name" */
	ST_INCLUDE,		/* include "file.scrub" */
	ST_PARAM,		/* param name = literal */
	ST_OUTPUT,		/* output canonical|verbatim */
	ST_SELECT,		/* select COND */
	ST_DROP,		/* drop ["reason"] [when COND] */
	ST_SAMPLE,		/* sample RATE% by PATH, ... */
	ST_RULE,		/* rule "name" [when COND] { ... },
				 * on COND { ... } */
	ST_SET,			/* set PATH = VALUE */
	ST_DELETE,		/* delete PATH, ... */
	ST_RENAME,		/* rename PATH to PATH */
	ST_COPY,		/* copy PATH to PATH */
	ST_KEEP,		/* keep PATH, ... (allowlist) */
	ST_MASK,		/* mask PATH, ... [options] */
	ST_PSEUDONYMIZE,	/* pseudonymize PATH, ... [length N] */
	ST_REPLACE,		/* replace PATH, ... [matching /re/]
				 * with V */
	ST_TRUNCATE,		/* truncate PATH, ... to /N[, /M] | to N */
	ST_REDACT,		/* redact PATH, ... using NAME, ...
				 * [with K] */
	ST_ROUND,		/* round PATH, ... to N */
	ST_BUCKET,		/* bucket PATH, ... by N */
	ST_SHIFT,		/* shift PATH, ... within N days by PATH */
	ST_TOKENIZE,		/* tokenize PATH, ... key "ID"
				 * [prefix "P"] */
};

/* Options written after an action's paths. Which ones an action takes is
 * checked by the compiler, so the grammar stays small. */
enum dsl_opt_kind {
	OPT_KEEP_FIRST,		/* keep first N */
	OPT_KEEP_LAST,		/* keep last N */
	OPT_WITH,		/* with "c" / with VALUE */
	OPT_AS,			/* as "template" */
	OPT_LENGTH,		/* length N */
	OPT_PREFIX,		/* to /N */
	OPT_ELSE,		/* else null|delete|reject */
	OPT_MATCHING,		/* matching /re/ */
	OPT_USING,		/* using NAME, ...: value is an array */
	OPT_KEYS,		/* and keys */
	OPT_TO_NUMBER,		/* to N */
	OPT_BY_NUMBER,		/* by N */
	OPT_BY_PATH,		/* by PATH */
	OPT_WITHIN,		/* within N days */
	OPT_PREFIX_TEXT,	/* prefix "P" */
	OPT_KEY_ID,		/* key "ID" */
};

struct dsl_opt {
	enum dsl_opt_kind kind;
	struct dsl_span span;
	int64_t num;
	struct dsl_json *value;
	struct dsl_regex *re;
	char *word;		/* OPT_ELSE, OPT_KEYS, OPT_WITHIN's unit, and
				 * OPT_WITH's kind (label, mask...) */
	struct dsl_path *path;	/* OPT_BY_PATH */
};

struct dsl_stmt {
	enum dsl_stmt_kind kind;
	struct dsl_span span;	/* the whole statement */
	struct dsl_span kw;	/* its keyword */
	char *name;		/* policy or rule name, reason, file,
				 * param, mode */
	struct dsl_span name_span;
	struct dsl_expr *cond;	/* select, drop, rule */
	struct dsl_list paths;	/* of struct dsl_path */
	struct dsl_path *dest;	/* rename, copy */
	struct dsl_json *value;	/* set, param default */
	struct dsl_expr *rate;	/* sample: a number (EX_LITERAL) or
				 * EX_PARAM */
	struct dsl_list opts;	/* of struct dsl_opt */
	struct dsl_list body;	/* rule: of struct dsl_stmt */
	int implicit_name;	/* rule written as "on COND { }" */
};

/* One parsed file. */
struct dsl_file {
	uint32_t source;
	struct dsl_list stmts;	/* of struct dsl_stmt */
	int saw_policy;		/* a `policy` keyword was read, even one
				 * whose statement did not parse */
};

/* Parse source `file` of the context into `*out` (arena-allocated).
 * Diagnostics go to the context; returns the number of errors found. */
unsigned dsl_parse(struct dsl_ctx *c, struct dsl_arena *a, uint32_t file,
		   struct dsl_file **out);

/* Parse source `file` as a lone JSON value (an event pattern). */
unsigned dsl_parse_pattern(struct dsl_ctx *c, struct dsl_arena *a,
			   uint32_t file, struct dsl_json **out);

const char *dsl_stmt_keyword(enum dsl_stmt_kind k);

/* Print a path the way it would be written in a policy. */
void dsl_path_format(const struct dsl_path *p, struct buf *out);

/* Can `name` be written bare after a dot (no quotes)? */
int dsl_plain_name(const char *name, size_t len);

#endif
