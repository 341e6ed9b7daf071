/* vm.c - the interpreter: one event in, emitted, dropped or rejected.
 *
 * The loop trusts what the verifier proved (operand kinds and ranges,
 * stack depth and slot types, forward jumps) and checks only what depends
 * on the event: its JSON, its types, and the work and memory it costs.
 */
#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "detect.h"
#include "exec.h"

void vm_limits_default(struct vm_limits *l)
{
	l->max_depth = 1000;
	l->max_values = 1u << 18;
	l->max_memory = 8u << 20;
	l->max_output = 4u << 20;
	l->max_steps = 10000000;
	l->lazy = 0;
}

static int in_range(uint64_t v, uint64_t max)
{
	return v >= 1 && v <= max;
}

struct vm_exec *vm_exec_new(const struct vm_program *p,
			    const struct vm_limits *lim)
{
	struct json_limits jl = { lim->max_depth, lim->max_values,
				  lim->max_memory };
	struct vm_exec *ex;

	/* Public input (scrub_limits): UINT32_MAX values wrapped the
	 * node array's size to one byte. */
	if (!in_range(lim->max_depth, VM_LIMIT_DEPTH) ||
	    !in_range(lim->max_values, VM_LIMIT_VALUES) ||
	    !in_range(lim->max_memory, VM_LIMIT_BYTES) ||
	    !in_range(lim->max_output, VM_LIMIT_BYTES) ||
	    !in_range(lim->max_steps, VM_LIMIT_STEPS))
		return NULL;
	ex = scrub_calloc(1, sizeof *ex);
	if (ex == NULL)
		return NULL;
	ex->p = p;
	ex->lim = *lim;
	buf_init(&ex->out, lim->max_output);
	buf_init(&ex->tmp, lim->max_memory);
	buf_init(&ex->where, 4096);
	if (json_doc_init(&ex->doc, &jl) != 0)
		goto fail;

	/* Sets can hold each value about twice (a path's frontier and the
	 * next one); past that a path is selecting absurdly much. */
	ex->set_cap = 2 * lim->max_values + 64;
	ex->set = scrub_malloc((size_t)ex->set_cap * sizeof *ex->set);
	ex->cache = scrub_calloc(p->npaths ? p->npaths : 1, sizeof *ex->cache);
	ex->marks = scrub_malloc((size_t)lim->max_values + 2);
	ex->md = pcre2_match_data_create(p->max_captures + 1, NULL);
	ex->mctx = pcre2_match_context_create(NULL);
	ex->jit = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
	if (p->ndsets > 0)
		ex->dscan = vm_dscan_new();
	if (ex->set == NULL || ex->cache == NULL || ex->marks == NULL ||
	    ex->md == NULL || ex->mctx == NULL || ex->jit == NULL ||
	    (p->ndsets > 0 && ex->dscan == NULL))
		goto fail;
	pcre2_jit_stack_assign(ex->mctx, NULL, ex->jit);
	/* Backtracking is bounded: a pathological regex rejects the event
	 * instead of hanging the worker. */
	pcre2_set_match_limit(ex->mctx, VM_REGEX_MATCH_LIMIT);
	pcre2_set_depth_limit(ex->mctx, VM_REGEX_DEPTH_LIMIT);
	ex->gen = 1;
	return ex;
fail:
	vm_exec_free(ex);
	return NULL;
}

void vm_exec_free(struct vm_exec *ex)
{
	if (ex == NULL)
		return;
	json_doc_free(&ex->doc);
	buf_free(&ex->out);
	buf_free(&ex->tmp);
	buf_free(&ex->where);
	free(ex->set);
	free(ex->cache);
	free(ex->marks);
	pcre2_match_data_free(ex->md);
	pcre2_match_context_free(ex->mctx);
	pcre2_jit_stack_free(ex->jit);
	vm_dscan_free(ex->dscan);
	free(ex);
}

void vm_exec_set_trace(struct vm_exec *ex, vm_trace_fn fn, void *ctx)
{
	ex->trace = fn;
	ex->trace_ctx = ctx;
}

int vm_reject(struct vm_exec *ex, const char *code, const char *fmt, ...)
{
	struct vm_outcome *o = ex->o;
	va_list ap;

	/* The first reason wins: later failures are consequences. */
	if (o->status == VM_REJECT)
		return -1;
	o->status = VM_REJECT;
	o->code = code;
	va_start(ap, fmt);
	vsnprintf(o->message, sizeof o->message, fmt, ap);
	va_end(ap);
	o->rule = ex->rule;
	if (vm_program_line(ex->p, ex->pc, &o->file, &o->line) != 0) {
		o->file = NULL;
		o->line = 0;
	}
	return -1;
}

uint32_t vm_regex_budget(struct vm_exec *ex, size_t len)
{
	uint64_t used = ex->steps + ex->doc.work;
	uint64_t left = used < ex->lim.max_steps ? ex->lim.max_steps - used
						 : 0;
	uint64_t per = left / ((uint64_t)len + 1);
	uint32_t limit = per < VM_REGEX_MIN_LIMIT ? VM_REGEX_MIN_LIMIT
			 : per < VM_REGEX_MATCH_LIMIT ? (uint32_t)per
			 : VM_REGEX_MATCH_LIMIT;

	pcre2_set_match_limit(ex->mctx, limit);
	return limit;
}

int vm_regex_failed(struct vm_exec *ex, const char *what, int rc,
		    uint32_t match_limit)
{
	PCRE2_UCHAR msg[128];
	int budgeted = match_limit < VM_REGEX_MATCH_LIMIT;

	switch (rc) {
	case PCRE2_ERROR_MATCHLIMIT:
	case PCRE2_ERROR_DEPTHLIMIT:
		/* Under a limit the step budget lowered, the budget ran
		 * out, not the regex's own bound. */
		if (budgeted)
			return vm_reject(ex, VM_R_STEPS, "work limit of %llu "
					 "steps exceeded in a regular "
					 "expression",
					 (unsigned long long)ex->lim.max_steps);
		if (rc == PCRE2_ERROR_DEPTHLIMIT)
			return vm_reject(ex, VM_R_REGEX, "%s hit the "
					 "backtracking depth limit (%u)", what,
					 VM_REGEX_DEPTH_LIMIT);
		return vm_reject(ex, VM_R_REGEX, "%s hit the match limit (%u "
				 "steps): it backtracks too much on this "
				 "value", what, match_limit);
	case PCRE2_ERROR_JIT_STACKLIMIT:
		return vm_reject(ex, VM_R_REGEX, "%s ran out of JIT stack "
				 "on this value", what);
	default:
		if (pcre2_get_error_message(rc, msg, sizeof msg) < 0)
			strcpy((char *)msg, "unknown error");
		return vm_reject(ex, VM_R_REGEX, "%s failed: %s (PCRE2 "
				 "error %d)", what, (char *)msg, rc);
	}
}

int vm_doc_failed(struct vm_exec *ex)
{
	struct json_doc *d = &ex->doc;

	switch (d->err) {
	case JSON_E_NODES:
		return vm_reject(ex, VM_R_TOO_MANY, "more than %u values",
				 ex->lim.max_values);
	case JSON_E_SYNTAX:
	case JSON_E_UTF8:
		/* Found late, by a lazy parse: the input's fault, not any
		 * rule's, so the reject names no policy position. */
		vm_reject(ex, d->err == JSON_E_UTF8 ? VM_R_INVALID_UTF8
			  : VM_R_INVALID_JSON, "%s at byte %zu", d->err_msg,
			  d->err_offset);
		ex->o->file = NULL;
		ex->o->line = 0;
		ex->o->rule = NULL;
		ex->o->offset = d->err_offset;
		return -1;
	case JSON_E_DEPTH:
		/* The event's own nesting, found by a lazy parse (which
		 * marks the document failed), or a constant the policy
		 * sets. */
		if (d->failed)
			return vm_reject(ex, VM_R_TOO_DEEP, "objects and "
					 "arrays nested deeper than %u at "
					 "byte %zu", ex->lim.max_depth,
					 d->err_offset);
		return vm_reject(ex, VM_R_TOO_DEEP, "a value the policy sets "
				 "nests deeper than %u", ex->lim.max_depth);
	default:
		return vm_reject(ex, VM_R_MEMORY, "edits need more than %u "
				 "bytes", ex->lim.max_memory);
	}
}

void vm_changed(struct vm_exec *ex, enum vm_opcode op, json_ref r,
		int removing)
{
	struct vm_trace t;

	/* Whatever selections were made may now be stale. */
	ex->gen++;
	if (ex->trace == NULL)
		return;
	t.kind = VM_TRACE_CHANGE;
	t.op = op;
	t.rule = ex->rule;
	t.doc = &ex->doc;
	t.node = r;
	t.removing = removing;
	t.path = vm_where(ex, r);
	t.pc = ex->pc;
	ex->trace(ex->trace_ctx, &t);
}

/* ---- comparing values ---------------------------------------------------- */

/* A scalar to compare: from the event or from the program. */
struct item {
	enum json_type type;
	const char *text;	/* string: decoded bytes; number: spelling */
	size_t len;
	double num;
};

static int item_from_node(struct vm_exec *ex, json_ref r, struct item *it)
{
	it->type = json_type_of(&ex->doc, r);
	it->text = NULL;
	it->len = 0;
	if (it->type == JSON_STRING) {
		it->text = json_string(&ex->doc, r, &it->len);
		if (it->text == NULL)
			return vm_doc_failed(ex);
	} else if (it->type == JSON_NUMBER) {
		it->text = json_text(&ex->doc, r);
		it->len = ex->doc.nodes[r].len;
		it->num = json_number(&ex->doc, r);
	}
	return 0;
}

static void item_from_const(const struct vm_const *c, struct item *it)
{
	static const enum json_type types[] = {
		[VM_K_NULL] = JSON_NULL, [VM_K_FALSE] = JSON_FALSE,
		[VM_K_TRUE] = JSON_TRUE, [VM_K_NUMBER] = JSON_NUMBER,
		[VM_K_STRING] = JSON_STRING, [VM_K_JSON] = JSON_OBJECT,
	};

	it->type = types[c->kind];
	it->text = c->data;
	it->len = c->len;
	it->num = c->num;
}

/* Integers too long for a double to hold exactly compare by digits. */
static int long_integer(const struct item *it)
{
	return it->len > 15 && !memchr(it->text, '.', it->len) &&
	       !memchr(it->text, 'e', it->len) &&
	       !memchr(it->text, 'E', it->len);
}

static int numbers_equal(const struct item *a, const struct item *b)
{
	if (long_integer(a) && long_integer(b)) {
		int na = a->text[0] == '-', nb = b->text[0] == '-';

		return na == nb && a->len == b->len &&
		       memcmp(a->text, b->text, a->len) == 0;
	}
	return a->num == b->num;
}

/* Three-way order of two scalars of one type, or 2 if they have none. */
static int order(const struct item *a, const struct item *b)
{
	if (a->type == JSON_NUMBER && b->type == JSON_NUMBER) {
		if (numbers_equal(a, b))
			return 0;
		if (isnan(a->num) || isnan(b->num))
			return 2;
		return a->num < b->num ? -1 : 1;
	}
	if (a->type == JSON_STRING && b->type == JSON_STRING) {
		size_t n = a->len < b->len ? a->len : b->len;
		int c = memcmp(a->text, b->text, n);

		if (c == 0)
			c = (a->len > b->len) - (a->len < b->len);
		return c < 0 ? -1 : c > 0;
	}
	return 2;
}

static int compare(const struct item *a, const struct item *b,
		   enum vm_opcode op)
{
	int eq, o;

	if (a->type == JSON_OBJECT || a->type == JSON_ARRAY ||
	    b->type == JSON_OBJECT || b->type == JSON_ARRAY)
		return op == OP_NE;
	if (op == OP_EQ || op == OP_NE) {
		if (a->type == b->type && (a->type == JSON_NUMBER ||
					   a->type == JSON_STRING))
			eq = order(a, b) == 0;
		else
			eq = a->type == b->type;
		return op == OP_EQ ? eq : !eq;
	}
	o = order(a, b);
	switch (op) {
	case OP_LT:
		return o == -1;
	case OP_LE:
		return o == -1 || o == 0;
	case OP_GT:
		return o == 1;
	case OP_GE:
		return o == 1 || o == 0;
	default:
		return 0;
	}
}

/* How many items a stack slot holds, and the i-th of them. */
static uint32_t slot_size(const struct vm_val *v)
{
	return v->kind == VAL_SET ? v->count : 1;
}

static int slot_item(struct vm_exec *ex, const struct vm_val *v, uint32_t i,
		     struct item *it)
{
	if (v->kind == VAL_CONST) {
		item_from_const(&ex->p->consts[v->k], it);
		return 0;
	}
	return item_from_node(ex, ex->set[v->first + i], it);
}

/* Does some item of a relate to some item of b? Absent values never do. */
static int compare_slots(struct vm_exec *ex, const struct vm_val *a,
			 const struct vm_val *b, enum vm_opcode op)
{
	uint32_t na = slot_size(a), nb = slot_size(b);

	for (uint32_t i = 0; i < na; i++) {
		struct item x;

		if (slot_item(ex, a, i, &x) != 0)
			return -1;
		for (uint32_t j = 0; j < nb; j++) {
			struct item y;

			if (slot_item(ex, b, j, &y) != 0 ||
			    vm_charge(ex, 1 + (x.len < y.len ? x.len : y.len) /
				      64) != 0)
				return -1;
			/* y's string may sit in the arena next to x's;
			 * both stay valid until the event ends. */
			if (compare(&x, &y, op))
				return 1;
		}
	}
	return 0;
}

int vm_value_is_const(struct vm_exec *ex, json_ref r,
		      const struct vm_const *c)
{
	struct item x, y;

	if (item_from_node(ex, r, &x) != 0)
		return -1;
	item_from_const(c, &y);
	if (x.type != y.type)
		return 0;
	if (x.type == JSON_NUMBER)
		return x.len == y.len && memcmp(x.text, y.text, x.len) == 0;
	if (x.type == JSON_STRING)
		return order(&x, &y) == 0;
	return x.type != JSON_OBJECT && x.type != JSON_ARRAY;
}

static int in_list(struct vm_exec *ex, const struct vm_val *a,
		   const struct vm_const *list)
{
	struct vm_val b = { VAL_CONST, 0, 0, 0, 0 };

	for (uint32_t i = 0; i < list->count; i++) {
		int r;

		b.k = vm_u32(list->items + 4 * i);
		r = compare_slots(ex, a, &b, OP_EQ);
		if (r != 0)
			return r;
	}
	return 0;
}

static int matches(struct vm_exec *ex, const struct vm_val *a,
		   const struct vm_const *re)
{
	for (uint32_t i = 0; i < slot_size(a); i++) {
		struct item x;
		uint32_t limit;
		int rc;

		if (slot_item(ex, a, i, &x) != 0)
			return -1;
		if (x.type != JSON_STRING)
			continue;
		if (vm_charge(ex, 1 + x.len / 64) != 0)
			return -1;
		limit = vm_regex_budget(ex, x.len);
		rc = pcre2_match(re->re, (PCRE2_SPTR)x.text, x.len, 0,
				 PCRE2_NO_UTF_CHECK, ex->md, ex->mctx);
		if (rc >= 0)
			return 1;
		if (rc != PCRE2_ERROR_NOMATCH)
			return vm_regex_failed(ex, "regular expression", rc,
					       limit);
	}
	return 0;
}

/* ---- the loop ------------------------------------------------------------ */

int vm_load_path(struct vm_exec *ex, uint32_t path, uint32_t *first,
		 uint32_t *count)
{
	struct vm_cached *c = &ex->cache[path];

	/* Several rules and patterns often read the same field: look it up
	 * once per event, until something changes. */
	if (c->gen != ex->gen) {
		if (vm_select(ex, &ex->p->paths[path],
			      ex->p->paths[path].nsegs, &c->first,
			      &c->count) != 0)
			return -1;
		c->gen = ex->gen;
		c->crossed = ex->crossed;
	}
	/* Callers give back only the scratch space above a cached
	 * selection, never the selection itself. */
	assert(c->first + c->count <= ex->set_len);
	*first = c->first;
	*count = c->count;
	return 0;
}

static int load(struct vm_exec *ex, uint32_t path, struct vm_val *v)
{
	v->kind = VAL_SET;
	return vm_load_path(ex, path, &v->first, &v->count);
}

static void enter_rule(struct vm_exec *ex, const char *name)
{
	struct vm_trace t;

	ex->rule = name;
	if (ex->trace == NULL)
		return;
	memset(&t, 0, sizeof t);
	t.kind = VM_TRACE_RULE;
	t.rule = name;
	t.doc = &ex->doc;
	t.pc = ex->pc;
	ex->trace(ex->trace_ctx, &t);
}

static int execute(struct vm_exec *ex)
{
	const struct vm_program *p = ex->p;
	const unsigned char *code = p->code;
	struct vm_val *sp = ex->stack;	/* next free slot */
	uint32_t pc = 0;

	for (;;) {
		const unsigned char *ops = code + pc + 1;
		enum vm_opcode op = code[pc];
		uint32_t next;
		int r;

		ex->pc = pc;
		/* The verifier only admits known opcodes: another is our
		 * bug, met before it indexes past the length column. */
		if (code[pc] >= OP__COUNT)
			return vm_reject(ex, VM_R_INTERNAL, "internal error: "
					 "bad opcode 0x%02x at pc %u", code[pc],
					 pc);
		next = pc + vm_instr_len(op);
		if (vm_charge(ex, 1) != 0)
			return -1;
		switch (op) {
		case OP_HALT:
			return 0;
		case OP_DROP:
			ex->o->status = VM_DROP;
			ex->o->reason = p->consts[vm_u32(ops)].data;
			return 0;
		case OP_RULE:
			enter_rule(ex, p->consts[vm_u32(ops)].data);
			break;
		case OP_JUMP:
			next += vm_u32(ops);
			break;
		case OP_JUMP_IF_FALSE:
		case OP_JUMP_IF_TRUE:
			sp--;
			if (sp->b == (op == OP_JUMP_IF_TRUE))
				next += vm_u32(ops);
			break;
		case OP_JUMP_FALSE_KEEP:
		case OP_JUMP_TRUE_KEEP:
			if (sp[-1].b == (op == OP_JUMP_TRUE_KEEP))
				next += vm_u32(ops);
			else
				sp--;
			break;
		case OP_BOOL:
			sp->kind = VAL_BOOL;
			sp->b = vm_u32(ops) != 0;
			sp++;
			break;
		case OP_PUSH:
			sp->kind = VAL_CONST;
			sp->k = vm_u32(ops);
			sp++;
			break;
		case OP_LOAD:
			if (load(ex, vm_u32(ops), sp) != 0)
				return -1;
			sp++;
			break;
		case OP_EXISTS: {
			struct vm_val v;

			if (load(ex, vm_u32(ops), &v) != 0)
				return -1;
			sp->kind = VAL_BOOL;
			sp->b = v.count > 0;
			sp++;
			break;
		}
		case OP_NOT:
			sp[-1].b = !sp[-1].b;
			break;
		case OP_EQ:
		case OP_NE:
		case OP_LT:
		case OP_LE:
		case OP_GT:
		case OP_GE:
			r = compare_slots(ex, &sp[-2], &sp[-1], op);
			if (r < 0)
				return -1;
			sp -= 2;
			sp->kind = VAL_BOOL;
			sp->b = (uint8_t)r;
			sp++;
			break;
		case OP_IN:
			r = in_list(ex, &sp[-1], &p->consts[vm_u32(ops)]);
			if (r < 0)
				return -1;
			sp[-1].kind = VAL_BOOL;
			sp[-1].b = (uint8_t)r;
			break;
		case OP_MATCHES:
			r = matches(ex, &sp[-1], &p->consts[vm_u32(ops)]);
			if (r < 0)
				return -1;
			sp[-1].kind = VAL_BOOL;
			sp[-1].b = (uint8_t)r;
			break;
		case OP_MATCH:
		case OP_PATTERN:
			r = (op == OP_MATCH ? vm_match : vm_match_pattern)
				(ex, vm_u32(ops), &p->consts[vm_u32(ops + 4)]);
			if (r < 0)
				return -1;
			sp->kind = VAL_BOOL;
			sp->b = (uint8_t)r;
			sp++;
			break;
		case OP_ARRAYS: {
			uint32_t first, count;

			if (vm_load_path(ex, vm_u32(ops), &first, &count) != 0)
				return -1;
			sp->kind = VAL_BOOL;
			sp->b = ex->cache[vm_u32(ops)].crossed;
			sp++;
			break;
		}
		case OP_SAMPLE:
			r = vm_sample(ex, &p->consts[vm_u32(ops)],
				      &p->consts[vm_u32(ops + 4)]);
			if (r < 0)
				return -1;
			sp->kind = VAL_BOOL;
			sp->b = (uint8_t)r;
			sp++;
			break;
		case OP_SET:
			if (vm_op_set(ex, ops) != 0)
				return -1;
			break;
		case OP_DELETE:
			if (vm_op_delete(ex, ops) != 0)
				return -1;
			break;
		case OP_RENAME:
			if (vm_op_move(ex, ops, 0) != 0)
				return -1;
			break;
		case OP_COPY:
			if (vm_op_move(ex, ops, 1) != 0)
				return -1;
			break;
		case OP_KEEP:
			if (vm_op_keep(ex, ops) != 0)
				return -1;
			break;
		case OP_MASK:
			if (vm_op_mask(ex, ops) != 0)
				return -1;
			break;
		case OP_PSEUDONYMIZE:
			if (vm_op_pseudonymize(ex, ops) != 0)
				return -1;
			break;
		case OP_REPLACE_RE:
			if (vm_op_replace_re(ex, ops) != 0)
				return -1;
			break;
		case OP_REPLACE:
			if (vm_op_replace(ex, ops) != 0)
				return -1;
			break;
		case OP_TRUNCATE_IP:
			if (vm_op_truncate_ip(ex, ops) != 0)
				return -1;
			break;
		case OP_REDACT:
			if (vm_op_redact(ex, ops) != 0)
				return -1;
			break;
		case OP_ROUND:
		case OP_BUCKET:
			if (vm_op_round(ex, ops, op == OP_BUCKET) != 0)
				return -1;
			break;
		case OP_SHIFT_DATE:
			if (vm_op_shift_date(ex, ops) != 0)
				return -1;
			break;
		case OP_TRUNCATE:
			if (vm_op_truncate(ex, ops) != 0)
				return -1;
			break;
		case OP_TOKENIZE:
			if (vm_op_tokenize(ex, ops) != 0)
				return -1;
			break;
		case OP__COUNT:
			/* Refused above. */
			break;
		}
		/* A lazy parse may have met bad input on the way: the
		 * instruction saw too little. Stop here. */
		if (ex->doc.failed)
			return vm_doc_failed(ex);

		/* With the stack empty only cached look-ups live in the
		 * scratch space. They stay valid until the event changes;
		 * then, or when they fill a quarter of it, the space is
		 * reused, and every cached look-up with it: one made since
		 * the change too (it lies in the space given back). */
		if (sp == ex->stack && ex->set_len == 0) {
			ex->set_gen = ex->gen;
		} else if (sp == ex->stack && (ex->set_gen != ex->gen ||
					       ex->set_len > ex->set_cap / 4)) {
			ex->gen++;
			ex->set_len = 0;
			ex->set_gen = ex->gen;
		}
		pc = next;
	}
}

static const char *json_reject_code(enum json_error e)
{
	switch (e) {
	case JSON_E_UTF8:
		return VM_R_INVALID_UTF8;
	case JSON_E_DEPTH:
		return VM_R_TOO_DEEP;
	case JSON_E_NODES:
		return VM_R_TOO_MANY;
	case JSON_E_MEMORY:
		return VM_R_MEMORY;
	case JSON_E_SYNTAX:
	case JSON_OK:
		break;
	}
	return VM_R_INVALID_JSON;
}

/* The reject for an event that is not valid JSON or breaks a parse
 * limit: the input's fault, so no rule and no policy position. */
static enum vm_status parse_reject(struct vm_exec *ex, enum json_error e)
{
	struct vm_outcome *o = ex->o;

	memset(o, 0, sizeof *o);
	o->status = VM_REJECT;
	o->code = json_reject_code(e);
	o->offset = ex->doc.err_offset;
	if (e == JSON_E_DEPTH)
		snprintf(o->message, sizeof o->message, "objects and "
			 "arrays nested deeper than %u at byte %zu",
			 ex->lim.max_depth, ex->doc.err_offset);
	else if (e == JSON_E_NODES)
		snprintf(o->message, sizeof o->message, "more than %u "
			 "values (at byte %zu)", ex->lim.max_values,
			 ex->doc.err_offset);
	else
		snprintf(o->message, sizeof o->message, "%s at byte "
			 "%zu", ex->doc.err_msg, ex->doc.err_offset);
	return VM_REJECT;
}

/* With deferred validation, an event decided before its parse finished
 * (dropped, or rejected by a rule) must still be valid JSON within the
 * limits: if it is not, it gets the reject a whole parse up front would
 * have given it, whatever the program decided on the way. Lazy
 * validation skips this for drops only: a reject still names the
 * input's own fault first ({"n":01} is invalid_json, not a number that
 * a rule refused). */
static enum vm_status check_rest(struct vm_exec *ex, int defer)
{
	int check = defer || ex->o->status == VM_REJECT;

	if (check && (ex->doc.failed ||
		      json_validate_rest(&ex->doc) != JSON_OK))
		return parse_reject(ex, ex->doc.err);
	return ex->o->status;
}

enum vm_status vm_run(struct vm_exec *ex, const char *event, size_t len,
		      struct vm_outcome *o)
{
	enum json_error e;
	int defer;

	memset(o, 0, sizeof *o);
	o->status = VM_EMIT;
	ex->o = o;
	ex->steps = 0;
	ex->rule = NULL;
	ex->pc = 0;
	ex->set_len = 0;
	ex->gen++;
	ex->set_gen = ex->gen;

	/* Without --lazy-validation every event is validated whole, but an
	 * event dropped early needs no nodes for the rest: parse lazily,
	 * then check what is left without building anything (check_rest).
	 * A trace shows the program running, so traced events are parsed
	 * whole first, as the outcome says. */
	defer = !ex->lim.lazy && ex->trace == NULL;
	e = json_parse(&ex->doc, event, len,
		       (ex->p->flags & VM_META_CANONICAL) != 0,
		       ex->lim.lazy || defer);
	if (e != JSON_OK)
		return parse_reject(ex, e);
	/* The parse is paid for by the input size limit; the budget is
	 * for what the policy does. */
	ex->doc.work = 0;
	if (json_type_of(&ex->doc, ex->doc.root) != JSON_OBJECT) {
		o->status = VM_REJECT;
		o->code = VM_R_NOT_OBJECT;
		snprintf(o->message, sizeof o->message, "the event is a "
			 "JSON %s, not an object",
			 json_type_name(json_type_of(&ex->doc, ex->doc.root)));
		return check_rest(ex, defer);
	}
	if ((ex->p->flags & VM_META_NEEDS_KEY) && !ex->p->has_key) {
		vm_reject(ex, VM_R_NO_KEY, "the policy pseudonymizes but no "
			  "key was given");
		return check_rest(ex, defer);
	}

	/* Every failure rejects with its reason; one that did not would
	 * otherwise emit the event half done. */
	if (execute(ex) != 0 && o->status == VM_EMIT)
		vm_reject(ex, VM_R_INTERNAL, "internal error: the instruction "
			  "at pc %u failed without a reason", ex->pc);
	if (o->status != VM_EMIT)
		return check_rest(ex, defer);

	buf_reset(&ex->out);
	json_write(&ex->doc, ex->doc.root, &ex->out);
	if (ex->doc.failed) {
		if (defer)
			return parse_reject(ex, ex->doc.err);
		vm_doc_failed(ex);
		return VM_REJECT;
	}
	if (buf_failed(&ex->out)) {
		o->code = ex->out.err == BUF_LIMIT ? VM_R_OUTPUT : VM_R_OOM;
		o->status = VM_REJECT;
		snprintf(o->message, sizeof o->message, ex->out.err ==
			 BUF_LIMIT ? "output larger than %u bytes" :
			 "out of memory writing %u bytes",
			 ex->lim.max_output);
		return VM_REJECT;
	}
	o->out = ex->out.data;
	o->out_len = ex->out.len;
	return VM_EMIT;
}
