/* lower.c - turn a checked policy into bytecode.
 *
 * Statements run top to bottom. The shapes emitted:
 *
 *   select C          C; JUMP_IF_TRUE L; DROP "select"; L:
 *   drop "r" when C   C; JUMP_IF_FALSE L; DROP "r"; L:
 *   sample N% by P    SAMPLE N, P; JUMP_IF_TRUE L; DROP "sample"; L:
 *   rule "n" when C   C; JUMP_IF_FALSE L; RULE "n"; body; RULE outer; L:
 *   a and b           a; JUMP_FALSE_KEEP L; b; L:   (or: JUMP_TRUE_KEEP)
 *
 * Statements after an unconditional drop can never run; they are not
 * emitted (the verifier refuses unreachable code).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vm/alloc.h"
#include "../vm/detect.h"
#include "cc.h"

struct lower {
	struct cc *c;
	const char *rule;	/* the enclosing rule's name, "" at top */
};

static void at(struct lower *l, struct dsl_span span)
{
	unsigned line, col;
	struct cc *c = l->c;

	dsl_line_col(c->ctx, span.file, span.start, &line, &col);
	c->emit.file = cc_file(&c->emit, c->ctx->sources[span.file].name);
	c->emit.line = line;
}

static uint32_t str(struct lower *l, const char *s)
{
	return cc_string(&l->c->emit, s, strlen(s));
}

static uint32_t param_const(struct lower *l, const char *name)
{
	return cc_find_param(l->c, name)->konst;
}

static uint32_t value(struct lower *l, const struct dsl_json *j)
{
	if (j->kind == DJ_PARAM)
		return param_const(l, j->text);
	return cc_value(&l->c->emit, j);
}

static uint32_t path(struct lower *l, const struct dsl_path *p)
{
	return cc_path(&l->c->emit, p, VM_PATH_PLAIN);
}

static uint32_t path_list(struct lower *l, const struct dsl_list *paths)
{
	uint32_t *w = scrub_malloc((paths->n ? paths->n : 1) * sizeof *w);
	uint32_t k;

	if (w == NULL) {
		l->c->emit.failed = 1;
		return 0;
	}
	for (size_t i = 0; i < paths->n; i++)
		w[i] = path(l, paths->items[i]);
	k = cc_words(&l->c->emit, VM_K_PATHLIST, w, paths->n);
	free(w);
	return k;
}

/* ---- conditions ---------------------------------------------------------- */

static void operand(struct lower *l, const struct dsl_expr *e)
{
	struct cc_emit *em = &l->c->emit;

	switch (e->kind) {
	case EX_PATH:
		cc_op(em, OP_LOAD, path(l, e->path));
		break;
	case EX_PARAM:
		cc_op(em, OP_PUSH, param_const(l, e->name));
		break;
	default:
		cc_op(em, OP_PUSH, value(l, e->json));
		break;
	}
}

static const enum vm_opcode cmp_op[] = {
	[CMP_EQ] = OP_EQ, [CMP_NE] = OP_NE, [CMP_LT] = OP_LT,
	[CMP_LE] = OP_LE, [CMP_GT] = OP_GT, [CMP_GE] = OP_GE,
};

static void condition(struct lower *l, const struct dsl_expr *e)
{
	struct cc_emit *em = &l->c->emit;
	uint32_t j, *w, list;

	switch (e->kind) {
	case EX_OR:
	case EX_AND:
		condition(l, e->a);
		j = cc_op(em, e->kind == EX_OR ? OP_JUMP_TRUE_KEEP
					       : OP_JUMP_FALSE_KEEP, 0u);
		condition(l, e->b);
		cc_patch(em, j, cc_pc(em));
		break;
	case EX_NOT:
		condition(l, e->a);
		cc_op(em, OP_NOT);
		break;
	case EX_CMP:
		operand(l, e->a);
		operand(l, e->b);
		cc_op(em, cmp_op[e->cmp]);
		break;
	case EX_IN:
		operand(l, e->a);
		w = scrub_malloc((e->json->items.n + 1) * sizeof *w);
		if (w == NULL) {
			em->failed = 1;
			break;
		}
		for (size_t i = 0; i < e->json->items.n; i++)
			w[i] = value(l, e->json->items.items[i]);
		list = cc_words(em, VM_K_LIST, w, e->json->items.n);
		free(w);
		cc_op(em, OP_IN, list);
		break;
	case EX_MATCHES:
		operand(l, e->a);
		cc_op(em, OP_MATCHES, cc_regex(em, e->re));
		break;
	case EX_EXISTS:
		cc_op(em, OP_EXISTS, path(l, e->path));
		break;
	case EX_PATTERN:
		cc_lower_pattern(l->c, e->json);
		break;
	case EX_PATH:
	case EX_LITERAL:
	case EX_PARAM:
		/* Refused by the checker. */
		em->failed = 1;
		break;
	}
}

/* ---- statements ---------------------------------------------------------- */

static const struct dsl_opt *find_opt(const struct dsl_stmt *s,
				      enum dsl_opt_kind k)
{
	for (size_t i = 0; i < s->opts.n; i++)
		if (((const struct dsl_opt *)s->opts.items[i])->kind == k)
			return s->opts.items[i];
	return NULL;
}

static uint32_t else_mode(const struct dsl_stmt *s)
{
	const struct dsl_opt *o = find_opt(s, OPT_ELSE);

	if (o == NULL || strcmp(o->word, "reject") == 0)
		return VM_ELSE_REJECT;
	return strcmp(o->word, "null") == 0 ? VM_ELSE_NULL : VM_ELSE_DELETE;
}

static uint32_t num_opt(const struct dsl_stmt *s, enum dsl_opt_kind k,
			uint32_t dflt)
{
	const struct dsl_opt *o = find_opt(s, k);

	return o ? (uint32_t)o->num : dflt;
}

/* redact: the detector set, and what replaces a finding (the checker
 * has made sure every name and option is right). */
static void redact(struct lower *l, const struct dsl_stmt *s, uint32_t p,
		   uint32_t e)
{
	const struct dsl_json *names = find_opt(s, OPT_USING)->value;
	const struct dsl_opt *with = find_opt(s, OPT_WITH);
	const char *kind = with ? with->word : NULL;
	uint32_t set = 0, how = VM_REDACT_TEXT, n1 = 0, n2 = 0;
	uint32_t text = VM_NONE;

	for (size_t i = 0; i < names->items.n; i++) {
		const struct dsl_json *n = names->items.items[i];

		set |= vm_detect_lookup(n->text, n->len);
	}
	if (kind == NULL) {
		text = with ? value(l, with->value) : str(l, "[REDACTED]");
	} else if (strcmp(kind, "label") == 0) {
		how = VM_REDACT_LABEL;
	} else if (strcmp(kind, "mask") == 0) {
		how = VM_REDACT_MASK;
		n1 = num_opt(s, OPT_KEEP_FIRST, 0);
		n2 = num_opt(s, OPT_KEEP_LAST, 0);
	} else {
		how = strcmp(kind, "fake") == 0 ? VM_REDACT_FAKE
						: VM_REDACT_PSEUDONYM;
		n1 = how == VM_REDACT_FAKE ? 0 : num_opt(s, OPT_LENGTH, 16);
	}
	if (find_opt(s, OPT_KEYS))
		how |= VM_REDACT_KEYS;
	cc_op(&l->c->emit, OP_REDACT, p, set, how, n1, n2, text, e);
}

/* The whole-value operators of the same family as redact. */
static void transform(struct lower *l, const struct dsl_stmt *s, uint32_t p,
		      uint32_t e)
{
	struct cc_emit *em = &l->c->emit;
	const struct dsl_opt *o;

	switch (s->kind) {
	case ST_ROUND:
		o = find_opt(s, OPT_TO_NUMBER);
		cc_op(em, OP_ROUND, p, value(l, o->value), e);
		break;
	case ST_BUCKET:
		o = find_opt(s, OPT_BY_NUMBER);
		cc_op(em, OP_BUCKET, p, value(l, o->value), e);
		break;
	case ST_SHIFT:
		cc_op(em, OP_SHIFT_DATE, p, num_opt(s, OPT_WITHIN, 0),
		      path(l, find_opt(s, OPT_BY_PATH)->path), e);
		break;
	case ST_TOKENIZE:
		o = find_opt(s, OPT_PREFIX_TEXT);
		cc_op(em, OP_TOKENIZE, p, o ? value(l, o->value) : VM_NONE,
		      value(l, find_opt(s, OPT_KEY_ID)->value),
		      num_opt(s, OPT_LENGTH, 26), e);
		break;
	default:
		o = find_opt(s, OPT_TO_NUMBER);
		cc_op(em, OP_TRUNCATE, p,
		      (uint32_t)strtoul(o->value->text, NULL, 10), e);
		break;
	}
}

/* truncate PATH to /N[, /M]: IP addresses. */
static void truncate_ip(struct lower *l, const struct dsl_stmt *s,
			uint32_t p, uint32_t e)
{
	const struct dsl_json *to = find_opt(s, OPT_PREFIX)->value;
	const struct dsl_json *v4 = to->items.items[0];
	const struct dsl_json *v6 = to->items.n > 1 ? to->items.items[1]
						    : NULL;

	cc_op(&l->c->emit, OP_TRUNCATE_IP, p,
	      (uint32_t)strtoul(v4->text, NULL, 10),
	      v6 ? (uint32_t)strtoul(v6->text, NULL, 10) : VM_NONE, e);
}

/* Emit one action instruction per path of the statement (delete and
 * keep take them all in one). */
static void action(struct lower *l, const struct dsl_stmt *s)
{
	struct cc_emit *em = &l->c->emit;
	const struct dsl_opt *o, *m;
	uint32_t e = else_mode(s);

	for (size_t i = 0; i < s->paths.n; i++) {
		uint32_t p = path(l, s->paths.items[i]);

		switch (s->kind) {
		case ST_SET:
			cc_op(em, OP_SET, p, value(l, s->value));
			break;
		case ST_RENAME:
		case ST_COPY:
			cc_op(em, s->kind == ST_RENAME ? OP_RENAME : OP_COPY,
			      p, path(l, s->dest));
			break;
		case ST_MASK:
			o = find_opt(s, OPT_WITH);
			m = find_opt(s, OPT_AS);
			cc_op(em, OP_MASK, p, num_opt(s, OPT_KEEP_FIRST, 0),
			      num_opt(s, OPT_KEEP_LAST, 0),
			      o ? value(l, o->value) : VM_NONE,
			      m ? value(l, m->value) : VM_NONE, e);
			break;
		case ST_PSEUDONYMIZE:
			cc_op(em, OP_PSEUDONYMIZE, p,
			      num_opt(s, OPT_LENGTH, 16), e);
			break;
		case ST_REPLACE:
			o = find_opt(s, OPT_WITH);
			m = find_opt(s, OPT_MATCHING);
			if (m)
				cc_op(em, OP_REPLACE_RE, p, cc_regex(em, m->re),
				      value(l, o->value), e);
			else
				cc_op(em, OP_REPLACE, p, value(l, o->value));
			break;
		case ST_REDACT:
			redact(l, s, p, e);
			break;
		case ST_ROUND:
		case ST_BUCKET:
		case ST_SHIFT:
		case ST_TOKENIZE:
			transform(l, s, p, e);
			break;
		case ST_TRUNCATE:
			if (find_opt(s, OPT_TO_NUMBER))
				transform(l, s, p, e);
			else
				truncate_ip(l, s, p, e);
			break;
		default:
			break;
		}
	}
}

static void drop_unless(struct lower *l, enum vm_opcode skip_if,
			const char *reason)
{
	struct cc_emit *em = &l->c->emit;
	uint32_t j = cc_op(em, skip_if, 0u);

	cc_op(em, OP_DROP, str(l, reason));
	cc_patch(em, j, cc_pc(em));
}

static int stmts(struct lower *l, const struct dsl_list *list);

/* Lower one statement; returns 1 when it always drops the event. */
static int stmt(struct lower *l, const struct dsl_stmt *s)
{
	struct cc_emit *em = &l->c->emit;
	char name[64];
	unsigned line, col;

	at(l, s->span);
	dsl_line_col(l->c->ctx, s->span.file, s->span.start, &line, &col);
	switch (s->kind) {
	case ST_POLICY:
	case ST_INCLUDE:
	case ST_PARAM:
	case ST_OUTPUT:
		return 0;
	case ST_SELECT:
		condition(l, s->cond);
		drop_unless(l, OP_JUMP_IF_TRUE, "select");
		return 0;
	case ST_DROP:
		snprintf(name, sizeof name, "line %u", line);
		if (s->cond == NULL) {
			cc_op(em, OP_DROP, str(l, s->name ? s->name : name));
			return 1;
		}
		condition(l, s->cond);
		drop_unless(l, OP_JUMP_IF_FALSE, s->name ? s->name : name);
		return 0;
	case ST_SAMPLE:
		cc_op(em, OP_SAMPLE, s->rate->kind == EX_PARAM
		      ? param_const(l, s->rate->name)
		      : value(l, s->rate->json), path_list(l, &s->paths));
		drop_unless(l, OP_JUMP_IF_TRUE, "sample");
		return 0;
	case ST_RULE: {
		struct lower inner = *l;
		uint32_t j = 0;
		int dropped;

		snprintf(name, sizeof name, "line %u", line);
		inner.rule = s->implicit_name ? dsl_strndup(&l->c->arena, name,
							    strlen(name))
					      : s->name;
		if (inner.rule == NULL) {
			em->failed = 1;
			return 0;
		}
		if (s->cond) {
			condition(l, s->cond);
			j = cc_op(em, OP_JUMP_IF_FALSE, 0u);
		}
		cc_op(em, OP_RULE, str(l, inner.rule));
		dropped = stmts(&inner, &s->body);
		if (!dropped) {
			at(l, s->span);
			cc_op(em, OP_RULE, str(l, l->rule));
		}
		if (s->cond)
			cc_patch(em, j, cc_pc(em));
		return dropped && s->cond == NULL;
	}
	case ST_KEEP:
		cc_op(em, OP_KEEP, path_list(l, &s->paths));
		return 0;
	case ST_DELETE:
		/* One instruction for all paths: each is resolved before
		 * any value is removed. */
		cc_op(em, OP_DELETE, path_list(l, &s->paths));
		return 0;
	default:
		action(l, s);
		return 0;
	}
}

static int stmts(struct lower *l, const struct dsl_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		const struct dsl_stmt *s = list->items[i];

		if (!stmt(l, s))
			continue;
		/* Everything after an unconditional drop is dead. */
		for (size_t k = i + 1; k < list->n; k++) {
			const struct dsl_stmt *dead = list->items[k];

			if (dead->kind == ST_POLICY || dead->kind == ST_PARAM ||
			    dead->kind == ST_INCLUDE || dead->kind == ST_OUTPUT)
				continue;
			dsl_diag(l->c->ctx, DSL_WARNING, dead->kw,
				 "unreachable", "this statement never runs: "
				 "an unconditional drop comes before it");
			break;
		}
		return 1;
	}
	return 0;
}

static void emit_params(struct cc *c)
{
	struct cc_emit *em = &c->emit;

	em->params = scrub_calloc(c->nparams ? c->nparams : 1,
				  sizeof *em->params);
	if (em->params == NULL) {
		em->failed = 1;
		return;
	}
	for (size_t i = 0; i < c->nparams; i++) {
		struct cc_param *p = &c->params[i];
		const struct dsl_json *v = p->decl->value;
		struct cc_param_entry *e = &em->params[em->nparams++];
		static const uint8_t kinds[] = {
			[DJ_NULL] = VM_K_NULL, [DJ_TRUE] = VM_K_TRUE,
			[DJ_FALSE] = VM_K_FALSE, [DJ_NUMBER] = VM_K_NUMBER,
			[DJ_STRING] = VM_K_STRING,
		};

		/* Its own constant: binding it must not change others. */
		p->konst = cc_const_unique(em, kinds[v->kind], v->text,
					   v->kind == DJ_NUMBER ||
					   v->kind == DJ_STRING ? v->len : 0);
		e->name = cc_string(em, p->decl->name,
				    strlen(p->decl->name));
		e->value = p->konst;
		if (p->is_rate) {
			e->flags = VM_PARAM_RANGE | VM_PARAM_CENTS;
			e->min = 0;
			e->max = 100;
		}
	}
}

void cc_lower(struct cc *c)
{
	struct lower l = { c, "" };
	const char *name = c->policy ? c->policy->name : "pattern";

	c->emit.name = cc_string(&c->emit, name, strlen(name));
	if (c->canonical)
		c->emit.flags |= VM_META_CANONICAL;
	emit_params(c);
	if (!stmts(&l, &c->stmts))
		cc_op(&c->emit, OP_HALT);
}
