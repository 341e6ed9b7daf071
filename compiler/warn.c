/* warn.c - warnings: statements that cannot do what they say.
 *
 * The policy is flattened into its uses of paths, in the order they run,
 * each with the conditional rules around it. Then:
 *
 *   no-effect       an action on a value an earlier delete or keep
 *                   removed (and nothing put back);
 *   reads-removed   a condition on such a value, or the entity a
 *                   shift goes by: it is never there;
 *   sample-key-removed  a sampling key such a statement removed: every
 *                   event is then without a key, and dropped;
 *   undone          an action whose result a later delete, keep or
 *                   overwrite throws away before anything reads it;
 *   unknown-path    with schemas: a path no event of theirs has;
 *   unknown-field   without: a top-level name no EventBridge event has;
 *   truncate-ip     `truncate ... to N` (characters) on a field whose
 *                   name says it holds IP addresses: `to /N` was meant.
 *
 * A removal only counts for a later statement when it runs whenever that
 * statement runs: it sits outside every conditional rule the later one is
 * in. Rules that can never match are found by warn_match.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../vm/alloc.h"
#include "cc.h"
#include "pathrel.h"
#include "schema.h"

enum {
	U_READS = 1,		/* a condition or a sampling key reads it */
	U_NEEDS = 2,		/* acts on the value only if it is there */
	U_CREATES = 4,		/* may create it: set, move targets */
	U_REMOVES = 8,
	U_REPLACES = 16,	/* puts a whole new value in its place */
	U_CHANGES = 32,		/* rewrites it in place */
	U_KEEPS = 64,		/* keep: removes all off its paths */
	U_SAMPLE = 128,		/* the read is a sampling key */
	U_PATTERN = 256,	/* an event pattern's field */
	U_ENTITY = 512,		/* the read is shift's `by` entity */
};

struct use {
	const struct dsl_stmt *s;
	const struct dsl_path *path;	/* NULL for keep */
	unsigned what;			/* U_*; 0: only named (keep) */
	int gone;			/* acts on a value already removed */
	const struct dsl_stmt **chain;	/* conditional rules around it */
	size_t depth;
};

struct warn {
	struct cc *c;
	struct use *uses;
	size_t n, cap;
	const struct dsl_stmt **chain;
	size_t depth;
};

static void add(struct warn *w, const struct dsl_stmt *s,
		const struct dsl_path *p, unsigned what)
{
	struct use *u;

	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct use *grown = scrub_realloc(w->uses, cap * sizeof *grown);

		if (grown == NULL) {
			w->c->ctx->oom = 1;
			return;
		}
		w->uses = grown;
		w->cap = cap;
	}
	u = &w->uses[w->n++];
	u->s = s;
	u->path = p;
	u->what = what;
	u->gone = 0;
	u->chain = w->chain;
	u->depth = w->depth;
}

/* ---- collecting uses ----------------------------------------------------- */

struct keychain {
	const struct dsl_json *key[64];
	size_t n;
};

/* A pattern field as a path of names, each pointing at its key. */
static void pattern_field(struct warn *w, const struct dsl_stmt *s,
			  const struct keychain *k)
{
	struct dsl_path *p = cc_keys_path(&w->c->arena, k->key, k->n);

	if (p == NULL) {
		w->c->ctx->oom = 1;
		return;
	}
	add(w, s, p, U_READS | U_PATTERN);
}

static void pattern_uses(struct warn *w, const struct dsl_stmt *s,
			 const struct dsl_json *obj, struct keychain *k)
{
	for (size_t i = 0; i < obj->items.n; i++) {
		const struct dsl_json *m = obj->items.items[i];

		if (m->keylen == 3 && memcmp(m->key, "$or", 3) == 0 &&
		    m->kind == DJ_ARRAY) {
			for (size_t j = 0; j < m->items.n; j++) {
				const struct dsl_json *alt = m->items.items[j];

				if (alt->kind == DJ_OBJECT)
					pattern_uses(w, s, alt, k);
			}
			continue;
		}
		if (k->n == 64)
			return;
		k->key[k->n++] = m;
		if (m->kind == DJ_OBJECT)
			pattern_uses(w, s, m, k);
		else
			pattern_field(w, s, k);
		k->n--;
	}
}

static void expr_uses(struct warn *w, const struct dsl_stmt *s,
		      const struct dsl_expr *e)
{
	struct keychain k;

	if (e == NULL)
		return;
	switch (e->kind) {
	case EX_OR:
	case EX_AND:
	case EX_CMP:
		expr_uses(w, s, e->a);
		expr_uses(w, s, e->b);
		break;
	case EX_NOT:
	case EX_IN:
	case EX_MATCHES:
		expr_uses(w, s, e->a);
		break;
	case EX_PATH:
	case EX_EXISTS:
		add(w, s, e->path, U_READS);
		break;
	case EX_PATTERN:
		k.n = 0;
		if (e->json->kind == DJ_OBJECT)
			pattern_uses(w, s, e->json, &k);
		break;
	default:
		/* Literals and parameters read no path; a newer kind is
		 * read as nothing, which hides warnings, never makes one. */
		break;
	}
}

static int has_opt(const struct dsl_stmt *s, enum dsl_opt_kind k)
{
	for (size_t i = 0; i < s->opts.n; i++)
		if (((const struct dsl_opt *)s->opts.items[i])->kind == k)
			return 1;
	return 0;
}

static void stmts_uses(struct warn *w, const struct dsl_list *list);

/* A rule's body runs inside its condition: one more link in the chain
 * when it has one. */
static void rule_uses(struct warn *w, const struct dsl_stmt *s)
{
	const struct dsl_stmt **outer = w->chain, **inner;
	size_t depth = w->depth;

	expr_uses(w, s, s->cond);
	if (s->cond) {
		inner = dsl_alloc(&w->c->arena, (depth + 1) * sizeof *inner);
		if (inner == NULL) {
			w->c->ctx->oom = 1;
			return;
		}
		if (depth)
			memcpy(inner, outer, depth * sizeof *inner);
		inner[depth] = s;
		w->chain = inner;
		w->depth = depth + 1;
	}
	stmts_uses(w, &s->body);
	w->chain = outer;
	w->depth = depth;
}

/* shift ... by PATH reads its entity: the dates of one entity move
 * alike, and without a value there no date can move. */
static void entity_use(struct warn *w, const struct dsl_stmt *s)
{
	for (size_t i = 0; i < s->opts.n; i++) {
		const struct dsl_opt *o = s->opts.items[i];

		if (o->kind == OPT_BY_PATH)
			add(w, s, o->path, U_READS | U_ENTITY);
	}
}

/* What each statement does to its paths. A statement kind not listed
 * here only reads: it can hide a warning, never cause one. */
static void stmt_uses(struct warn *w, const struct dsl_stmt *s)
{
	unsigned what;

	switch (s->kind) {
	case ST_SELECT:
	case ST_DROP:
		expr_uses(w, s, s->cond);
		return;
	case ST_RULE:
		rule_uses(w, s);
		return;
	case ST_KEEP:
		add(w, s, NULL, U_KEEPS);
		/* The paths it lists are only named: checked for typos. */
		for (size_t i = 0; i < s->paths.n; i++)
			add(w, s, s->paths.items[i], 0);
		return;
	case ST_RENAME:
	case ST_COPY:
		add(w, s, s->paths.items[0], U_NEEDS | U_READS |
		    (s->kind == ST_RENAME ? U_REMOVES : 0));
		add(w, s, s->dest, U_CREATES | U_REPLACES);
		return;
	case ST_SAMPLE:
		what = U_READS | U_SAMPLE;
		break;
	case ST_SET:
		what = U_CREATES | U_REPLACES;
		break;
	case ST_DELETE:
		what = U_NEEDS | U_REMOVES;
		break;
	case ST_REPLACE:
		what = U_NEEDS | (has_opt(s, OPT_MATCHING) ? U_CHANGES
				  : U_REPLACES);
		break;
	case ST_SHIFT:
		entity_use(w, s);
		what = U_NEEDS | U_CHANGES;
		break;
	case ST_MASK:
	case ST_PSEUDONYMIZE:
	case ST_TRUNCATE:
	case ST_REDACT:
	case ST_ROUND:
	case ST_BUCKET:
	case ST_TOKENIZE:
		what = U_NEEDS | U_CHANGES;
		break;
	default:
		what = U_READS;
		break;
	}
	for (size_t i = 0; i < s->paths.n; i++)
		add(w, s, s->paths.items[i], what);
}

static void stmts_uses(struct warn *w, const struct dsl_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		stmt_uses(w, list->items[i]);
}

/* ---- relations between uses ---------------------------------------------- */

/* Does `r` run whenever `u` does (as far as rules go)? */
static int runs_with(const struct use *r, const struct use *u)
{
	if (r->depth > u->depth)
		return 0;
	for (size_t i = 0; i < r->depth; i++)
		if (r->chain[i] != u->chain[i])
			return 0;
	return 1;
}

/* After use r, is every value at path p gone? */
static int removes(const struct use *r, const struct dsl_path *p)
{
	const struct dsl_stmt *s = r->s;

	if (r->what & U_KEEPS) {
		for (size_t i = 0; i < s->paths.n; i++)
			if (cc_overlap(s->paths.items[i], p))
				return 0;
		return 1;
	}
	return (r->what & U_REMOVES) && cc_covers(r->path, p);
}

/* Does anything between uses [from, to) put a value back at p? */
static int recreated(const struct warn *w, size_t from, size_t to,
		     const struct dsl_path *p)
{
	for (size_t i = from; i < to; i++)
		if ((w->uses[i].what & U_CREATES) &&
		    cc_overlap(w->uses[i].path, p))
			return 1;
	return 0;
}

/* ---- messages ------------------------------------------------------------ */

/* The path as written in a policy, cut short with "..." if long. */
static const char *path_text(const struct dsl_path *p, char *out,
			     size_t len)
{
	struct buf b;

	buf_init_fixed(&b, out, len - 4);
	dsl_path_format(p, &b);
	if (buf_failed(&b)) {
		memcpy(out + b.len, "...", 4);
		return out;
	}
	out[b.len] = '\0';
	return out;
}

/* "line 12", or "base.scrub:12" for a statement of another file. */
static const char *line_of(struct warn *w, const struct dsl_stmt *s,
			   struct dsl_span from, char *out, size_t len)
{
	const struct dsl_ctx *ctx = w->c->ctx;
	unsigned line, col;

	dsl_line_col(ctx, s->kw.file, s->kw.start, &line, &col);
	if (s->kw.file == from.file)
		snprintf(out, len, "line %u", line);
	else
		snprintf(out, len, "%s:%u", ctx->sources[s->kw.file].name,
			 line);
	return out;
}

static void note(struct warn *w, struct dsl_span at, const char *code,
		 const char *msg)
{
	dsl_diag(w->c->ctx, DSL_NOTE, at, code, "%s", msg);
}

/* ---- removed values ------------------------------------------------------ */

static void warn_gone(struct warn *w, const struct use *u,
		      const struct use *r)
{
	char path[128], line[160];
	const char *by = dsl_stmt_keyword(r->s->kind);
	const char *act = dsl_stmt_keyword(u->s->kind);
	struct dsl_span at = u->path->span;

	path_text(u->path, path, sizeof path);
	line_of(w, r->s, at, line, sizeof line);
	if (u->what & U_SAMPLE)
		dsl_diag(w->c->ctx, DSL_WARNING, at, "sample-key-removed",
			 "sampling key %s is never there: the %s at %s "
			 "removed it, and events without a key are dropped",
			 path, by, line);
	else if (u->what & U_ENTITY)
		dsl_diag(w->c->ctx, DSL_WARNING, at, "reads-removed",
			 "this shift goes by %s, which the %s at %s removed: "
			 "without it no date moves, each is a type mismatch",
			 path, by, line);
	else if (u->what & U_NEEDS)
		dsl_diag(w->c->ctx, DSL_WARNING, at, "no-effect",
			 "this %s has no effect: the %s at %s removed %s",
			 act, by, line, path);
	else
		dsl_diag(w->c->ctx, DSL_WARNING, at, "reads-removed",
			 "this condition reads %s, which the %s at %s "
			 "removed: it is never there", path, by, line);
	note(w, r->s->kw, "removed-here", r->what & U_KEEPS
	     ? "removed by this allowlist: the path is on none of its paths"
	     : "removed here");
}

/* Each read of a value, and each action on one, after it was removed. */
static void find_gone(struct warn *w)
{
	for (size_t k = 0; k < w->n; k++) {
		const struct use *u = &w->uses[k];

		if (!(u->what & (U_READS | U_NEEDS)) || u->path->n == 0)
			continue;
		for (size_t i = k; i-- > 0;) {
			const struct use *r = &w->uses[i];

			if (r->s == u->s || !runs_with(r, u) ||
			    !removes(r, u->path))
				continue;
			if (!recreated(w, i + 1, k, u->path)) {
				warn_gone(w, u, r);
				w->uses[k].gone = 1;
			}
			break;
		}
	}
}

/* ---- undone actions ------------------------------------------------------ */

/* Does use b throw away what use a did at a's path? */
static int discards(const struct use *b, const struct use *a)
{
	if (b->what & U_KEEPS)
		return removes(b, a->path);
	return (b->what & (U_REMOVES | U_REPLACES)) &&
	       cc_covers(b->path, a->path);
}

static void warn_undone(struct warn *w, const struct use *a,
			const struct use *b)
{
	char line[160];
	const char *what = b->what & U_KEEPS ? "removes"
			   : b->what & U_REMOVES ? "removes" : "replaces";

	line_of(w, b->s, a->path->span, line, sizeof line);
	dsl_diag(w->c->ctx, DSL_WARNING, a->path->span, "undone",
		 "the effect of this %s is undone: the %s at %s %s the value "
		 "before anything reads it", dsl_stmt_keyword(a->s->kind),
		 dsl_stmt_keyword(b->s->kind), line, what);
	note(w, b->s->kw, "undone-here", "undone here");
}

static void find_undone(struct warn *w)
{
	for (size_t k = 0; k < w->n; k++) {
		const struct use *a = &w->uses[k];

		/* Nothing to undo where there was nothing to act on. */
		if (!(a->what & (U_CHANGES | U_REPLACES)) || a->path->n == 0 ||
		    a->gone)
			continue;
		for (size_t i = k + 1; i < w->n; i++) {
			const struct use *b = &w->uses[i];

			if (b->s == a->s)
				continue;
			/* Something reads the result: it was not for
			 * nothing. */
			if ((b->what & U_READS) && cc_overlap(b->path, a->path))
				break;
			if (runs_with(b, a) && discards(b, a)) {
				warn_undone(w, a, b);
				break;
			}
		}
	}
}

/* ---- paths events do not have -------------------------------------------- */

/* May the policy itself make a value at p (or around it)? */
static int policy_made(const struct warn *w, const struct dsl_path *p)
{
	for (size_t i = 0; i < w->n; i++)
		if ((w->uses[i].what & U_CREATES) &&
		    cc_overlap(w->uses[i].path, p))
			return 1;
	return 0;
}

static const char *const envelope[] = {
	"version", "id", "detail-type", "source", "account", "time",
	"region", "resources", "detail", "replay-name", NULL,
};

static void check_envelope(struct warn *w, const struct dsl_path *p)
{
	const struct dsl_seg *s = &p->segs[0];
	struct dsl_diag *d;
	const char *near;

	if (s->kind != SEG_KEY)
		return;
	for (size_t i = 0; envelope[i]; i++)
		if (strlen(envelope[i]) == s->len &&
		    memcmp(envelope[i], s->name, s->len) == 0)
			return;
	d = dsl_diag(w->c->ctx, DSL_WARNING, s->span, "unknown-field",
		     "EventBridge events have no top-level field '%.*s'",
		     (int)s->len, s->name);
	/* A one- or two-letter name is close to too much to guess. */
	near = s->len > 2 ? dsl_nearest(s->name, s->len, envelope) : NULL;
	if (near)
		dsl_diag_hint(w->c->ctx, d, "did you mean '%s'?", near);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Can a value of the schema's node be where segment s leads: an object
 * for a name, an array for an index? */
static int schema_may_hold(const struct cc_snode *n, const struct dsl_seg *s)
{
	unsigned want = s->kind == SEG_KEY || s->kind == SEG_MEMBERS
			? CC_T_OBJECT : s->kind == SEG_DEEP
			? CC_T_OBJECT | CC_T_ARRAY : CC_T_ARRAY;

	return n->types == 0 || (n->types & want);
}

static const char *type_words(unsigned t)
{
	t &= ~(unsigned)CC_T_NULL;
	return t == CC_T_STRING ? "a string" : t == CC_T_NUMBER ? "a number"
	       : t == CC_T_BOOL ? "true or false" : t == CC_T_ARRAY
	       ? "an array" : t == CC_T_OBJECT ? "an object"
	       : "not an object";
}

/* Members under n as dotted names, up to three levels down ("card",
 * "card.number"...), for a path that splits or joins its names where the
 * schema does not. Names that would need quotes are left out. */
enum { DOTTED_MAX = 256, DOTTED_LEN = 96 };

struct dotted {
	char text[DOTTED_MAX][DOTTED_LEN];
	const char *list[DOTTED_MAX + 1];
	size_t n;
};

static void collect_dotted(const struct cc_snode *n, const char *prefix,
			   size_t plen, int levels, struct dotted *out)
{
	for (const struct cc_snode *m = n->members; m; m = m->next) {
		char *t;

		if (out->n == DOTTED_MAX)
			return;
		if (!dsl_plain_name(m->name, m->len) ||
		    plen + 1 + m->len >= DOTTED_LEN)
			continue;
		t = out->text[out->n];
		memcpy(t, prefix, plen);
		if (plen)
			t[plen] = '.';
		memcpy(t + plen + (plen != 0), m->name, m->len);
		t[plen + (plen != 0) + m->len] = '\0';
		out->list[out->n++] = t;
		if (levels > 1)
			collect_dotted(m, t, strlen(t), levels - 1, out);
	}
}

/* The rest of p from segment `from`, spelt "a.b.c"; 0 when a segment is
 * not a plain name. */
static int dotted_rest(const struct dsl_path *p, size_t from, char *out,
		       size_t len)
{
	size_t k = 0;

	for (size_t i = from; i < p->n; i++) {
		const struct dsl_seg *s = &p->segs[i];

		if (s->kind != SEG_KEY || !dsl_plain_name(s->name, s->len) ||
		    k + s->len + 2 > len)
			return 0;
		if (k)
			out[k++] = '.';
		memcpy(out + k, s->name, s->len);
		k += s->len;
	}
	out[k] = '\0';
	return k > 0;
}

/* "did you mean '.detail.card.number'?" for .detail.card_number, and the
 * other way round: the nearest dotted name under the object that lacks
 * the path's segment `seg`. */
static void hint_regrouped(struct warn *w, struct dsl_diag *d,
			   const struct dsl_path *p, size_t seg,
			   const struct cc_snode *at)
{
	struct dsl_path parent = { p->segs, seg, p->span };
	struct dotted *cands = scrub_malloc(sizeof *cands);
	char rest[DOTTED_LEN], text[128];
	const char *near;

	if (cands == NULL)
		return;
	cands->n = 0;
	if (dotted_rest(p, seg, rest, sizeof rest) && strlen(rest) > 2) {
		collect_dotted(at, "", 0, 3, cands);
		cands->list[cands->n] = NULL;
		near = dsl_nearest(rest, strlen(rest), cands->list);
		if (near && seg == 0)
			dsl_diag_hint(w->c->ctx, d, "did you mean '.%s'?",
				      near);
		else if (near)
			dsl_diag_hint(w->c->ctx, d, "did you mean '%s.%s'?",
				      path_text(&parent, text, sizeof text),
				      near);
	}
	free(cands);
}

static void check_schemas(struct warn *w, const struct use *u)
{
	const struct cc_options *o = &w->c->opts;
	const struct dsl_path *p = u->path;
	struct cc_slookup best = { CC_S_MISSING, 0, NULL }, r;
	const struct cc_schema *where = NULL;
	char text[128];
	struct dsl_diag *d;

	for (size_t i = 0; i < o->nschemas; i++) {
		cc_schema_lookup(o->schemas[i], p->segs, p->n,
				 (u->what & U_PATTERN) != 0, &r);
		if (r.status != CC_S_MISSING)
			return;
		if (where == NULL || r.seg > best.seg) {
			best = r;
			where = o->schemas[i];
		}
	}
	path_text(p, text, sizeof text);
	d = dsl_diag(w->c->ctx, DSL_WARNING, p->segs[best.seg].span,
		     "unknown-path", "no event of %s has %s",
		     o->nschemas == 1 ? base_name(where->file) : "the schemas",
		     text);
	if (best.node && best.seg > 0 && !schema_may_hold(best.node,
							 &p->segs[best.seg])) {
		struct dsl_path parent = { p->segs, best.seg, p->span };

		path_text(&parent, text, sizeof text);
		dsl_diag_hint(w->c->ctx, d, "%s is %s", text,
			      type_words(best.node->types));
	} else if (p->segs[best.seg].kind == SEG_KEY && best.node &&
		   p->segs[best.seg].len > 2) {
		const char *near = cc_schema_nearest(best.node,
						     p->segs[best.seg].name,
						     p->segs[best.seg].len);

		if (near)
			dsl_diag_hint(w->c->ctx, d, "did you mean '%s'?",
				      near);
		else
			hint_regrouped(w, d, p, best.seg, best.node);
	}
}

static void find_unknown(struct warn *w)
{
	for (size_t k = 0; k < w->n; k++) {
		const struct use *u = &w->uses[k];

		if (u->path == NULL || u->path->n == 0 ||
		    (u->what & U_CREATES) || policy_made(w, u->path))
			continue;
		if (w->c->opts.nschemas)
			check_schemas(w, u);
		else
			check_envelope(w, u->path);
	}
}

/* ---- IP addresses cut as text ------------------------------------------- */

static int is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static int is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

/* Does `ip` start a word of name[0..n) at i: the start, after a
 * character that is not a letter, or a capital after a small letter
 * (clientIp, sourceIPAddress)? */
static int word_starts(const char *name, size_t i)
{
	return i == 0 || !(is_lower(name[i - 1]) || is_upper(name[i - 1])) ||
	       (is_lower(name[i - 1]) && is_upper(name[i]));
}

/* Does a word end at i: the end, a character that is not a letter, or
 * a capital after a small letter or digit (ipAddress, IPv4Address)? */
static int word_ends(const char *name, size_t n, size_t i)
{
	return i == n || !(is_lower(name[i]) || is_upper(name[i])) ||
	       (is_upper(name[i]) && !is_upper(name[i - 1]));
}

/* A name that says it holds IP addresses: the word "ip", alone or
 * followed by v4, v6, s, addr, address or addresses, in any case, where
 * words are split at '_', '-', '.', digits and camelCase humps: ip,
 * client_ip, ipAddress, sourceIPAddress, IPv6, ip-addresses. Not zip,
 * VIP, tip or clientip (no word starts at its "ip"). */
int cc_ip_field_name(const char *name, size_t n)
{
	static const char *const tails[] = { "addresses", "address", "addr",
					     "v4", "v6", "s", "", NULL };

	for (size_t i = 0; i + 2 <= n; i++) {
		if ((name[i] | 0x20) != 'i' || (name[i + 1] | 0x20) != 'p' ||
		    !word_starts(name, i))
			continue;
		for (size_t t = 0; tails[t]; t++) {
			size_t k = strlen(tails[t]), end = i + 2 + k;

			if (end <= n && strncasecmp(name + i + 2, tails[t],
						    k) == 0 &&
			    word_ends(name, n, end))
				return 1;
		}
	}
	return 0;
}

/* The name a path ends in, indexes and [*] aside; none when it ends in
 * .* or .** (those name no field). */
static const struct dsl_seg *last_name(const struct dsl_path *p)
{
	for (size_t i = p->n; i-- > 0;) {
		if (p->segs[i].kind == SEG_KEY)
			return &p->segs[i];
		if (p->segs[i].kind != SEG_INDEX &&
		    p->segs[i].kind != SEG_ELEMENTS)
			return NULL;
	}
	return NULL;
}

static void warn_truncate_ip(struct warn *w, const struct dsl_path *p,
			     const struct dsl_opt *o)
{
	char path[128];
	long n = strtol(o->value->text, NULL, 10);
	struct dsl_diag *d;

	path_text(p, path, sizeof path);
	/* The longest IPv4 text is 15 characters, IPv6 45. */
	d = dsl_diag(w->c->ctx, DSL_WARNING, p->span, "truncate-ip",
		     "'to %ld' keeps the first %ld characters of %s, an IP "
		     "address field: %s", n, n, path, n >= 45
		     ? "every address passes unchanged" : n >= 15
		     ? "an IPv4 address passes unchanged"
		     : "an address is cut short, not reduced to its network");
	if (n <= 32)
		dsl_diag_hint(w->c->ctx, d, "did you mean 'to /%ld' (zero the "
			      "host bits)?", n);
	else if (n <= 128)
		dsl_diag_hint(w->c->ctx, d, "did you mean 'to /24, /%ld' "
			      "(IPv4, then IPv6 prefix)?", n);
	else
		dsl_diag_hint(w->c->ctx, d, "a network prefix is 'to /24' "
			      "(IPv4) or 'to /24, /48' (IPv4, IPv6)");
}

static void find_truncate_ip(struct warn *w)
{
	for (size_t k = 0; k < w->n; k++) {
		const struct use *u = &w->uses[k];
		const struct dsl_seg *name;
		const struct dsl_opt *o = NULL;

		if (u->s->kind != ST_TRUNCATE || u->path == NULL)
			continue;
		for (size_t i = 0; i < u->s->opts.n; i++)
			if (((const struct dsl_opt *)u->s->opts.items[i])
			    ->kind == OPT_TO_NUMBER)
				o = u->s->opts.items[i];
		name = last_name(u->path);
		if (o && name && cc_ip_field_name(name->name, name->len))
			warn_truncate_ip(w, u->path, o);
	}
}

/* ---- order --------------------------------------------------------------- */

static int before(const struct dsl_diag *a, const struct dsl_diag *b)
{
	return a->span.file < b->span.file ||
	       (a->span.file == b->span.file && a->span.start < b->span.start);
}

/* Put the diagnostics from *from on in source order, each with the notes
 * that follow it (a stable insertion sort: there are few). */
static void sort_from(struct dsl_ctx *ctx, struct dsl_diag **from)
{
	struct dsl_diag *rest = *from, *sorted = NULL, **tail;

	while (rest) {
		struct dsl_diag *head = rest, *last = rest, **at = &sorted;

		while (last->next && last->next->severity == DSL_NOTE)
			last = last->next;
		rest = last->next;
		while (*at && !before(head, *at)) {
			/* Skip a whole group: its lead and its notes. */
			at = &(*at)->next;
			while (*at && (*at)->severity == DSL_NOTE)
				at = &(*at)->next;
		}
		last->next = *at;
		*at = head;
	}
	*from = sorted;
	for (tail = from; *tail; tail = &(*tail)->next)
		;
	ctx->diag_tail = tail;
}

void cc_warn(struct cc *c)
{
	struct dsl_diag **from = c->ctx->diag_tail;
	struct warn w;

	memset(&w, 0, sizeof w);
	w.c = c;
	stmts_uses(&w, &c->stmts);
	if (!c->ctx->oom) {
		find_unknown(&w);
		find_gone(&w);
		find_undone(&w);
		find_truncate_ip(&w);
		cc_warn_matches(c);
	}
	free(w.uses);
	sort_from(c->ctx, from);
}
