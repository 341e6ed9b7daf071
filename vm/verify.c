/* verify.c - prove a program safe to run before it ever runs.
 *
 * In the spirit of the eBPF verifier, in three passes over the code:
 *
 *   1. decode: every opcode is known and every instruction complete;
 *   2. operands: each index is in range and names a constant of the kind
 *      the opcode needs; jumps go forward and land on an instruction;
 *   3. flow: following every path from pc 0, the stack never underflows or
 *      exceeds VM_MAX_STACK, holds the slot types each opcode expects, is
 *      the same wherever paths meet, and is empty when an action runs;
 *      no instruction is unreachable and no path runs off the end.
 *
 * Jumps only go forward and no opcode loops over code, so a verified
 * program runs at most one step per instruction: it always terminates.
 */
#include "program.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "detect.h"

/* Abstract state at one pc: stack depth (-1: not reached yet) and the
 * slot types as bits, bit i set when slot i holds a boolean. */
struct slot_state {
	int depth;
	uint64_t bools;
};

struct verifier {
	struct vm_program *p;
	struct vm_error *err;
	uint8_t *starts;	/* 1 where an instruction begins */
	struct slot_state *at;	/* per pc */
	uint32_t max_depth;
};

static int vfail(struct verifier *v, uint32_t pc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int vfail(struct verifier *v, uint32_t pc, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(v->err->msg, sizeof v->err->msg, "code, pc %u: %s", pc,
		 what);
	return -1;
}

/* Whether `op` jumps: a jump's j operand is its first (opcodes.h). */
static int is_jump(enum vm_opcode op)
{
	return vm_opinfo[op].operands[0] == 'j';
}

/* Pass 1: instruction boundaries. */
static int decode(struct verifier *v)
{
	uint32_t pc = 0, len = v->p->code_len;

	while (pc < len) {
		uint8_t op = v->p->code[pc];

		if (op >= OP__COUNT)
			return vfail(v, pc, "unknown opcode 0x%02x", op);
		if (vm_instr_len(op) > len - pc)
			return vfail(v, pc, "%s is truncated",
				     vm_opinfo[op].name);
		v->starts[pc] = 1;
		pc += vm_instr_len(op);
	}
	return 0;
}

static int want_const(struct verifier *v, uint32_t pc, uint32_t k,
		      uint8_t kind, const char *what)
{
	if (k >= v->p->nconsts)
		return vfail(v, pc, "constant %u out of range", k);
	if (kind && v->p->consts[k].kind != kind)
		return vfail(v, pc, "constant %u is not %s", k, what);
	return 0;
}

/* Paths an action writes through must end in something it can write. */
static int writable(const struct vm_path *path)
{
	for (uint32_t i = 0; i < path->nsegs; i++)
		if (path->segs[i].kind == VM_SEG_DEEP)
			return 0;
	return path->mode == VM_PATH_PLAIN && path->nsegs > 0;
}

/* A positive, finite number constant, written in at most 64 bytes. */
static int positive(const struct vm_program *p, uint32_t k)
{
	return p->consts[k].num > 0 && p->consts[k].num <= 1e300 &&
	       p->consts[k].len <= 64;
}

/* A key id: 1 to 32 ASCII letters and digits. */
static int key_id(const struct vm_const *c)
{
	if (c->len < 1 || c->len > 32)
		return 0;
	for (uint32_t i = 0; i < c->len; i++) {
		char ch = c->data[i];

		if (!((ch >= '0' && ch <= '9') ||
		      ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z')))
			return 0;
	}
	return 1;
}

/* A sample rate is a percentage, and stays one when it is a parameter:
 * then binding checks the parameter's range, which must lie in 0..100. */
static int check_rate(struct verifier *v, uint32_t pc, uint32_t k)
{
	const struct vm_program *p = v->p;
	uint32_t param = p->param_of[k];
	double rate = p->consts[k].num;

	if (!(rate >= 0 && rate <= 100))
		return vfail(v, pc, "SAMPLE rate is not within 0..100");
	if (param != VM_NONE &&
	    (!(p->params[param].flags & VM_PARAM_RANGE) ||
	     !(p->params[param].min >= 0) || !(p->params[param].max <= 100)))
		return vfail(v, pc, "SAMPLE rate parameter %u is not limited "
			     "to 0..100", param);
	return 0;
}

/* One operand `x` of kind `kind`: an index in range naming what the kind
 * says, a jump to an instruction, a known mode or detector set. */
static int check_operand(struct verifier *v, uint32_t pc,
			 enum vm_opcode op, char kind, uint32_t x,
			 uint32_t next)
{
	const struct vm_program *p = v->p;

	switch (kind) {
	case 'p':
		if (x >= p->npaths)
			return vfail(v, pc, "path %u out of range", x);
		return 0;
	case 'k':
		if (want_const(v, pc, x, 0, NULL))
			return -1;
		if (p->consts[x].kind > VM_K_JSON)
			return vfail(v, pc, "constant %u is not a value", x);
		return 0;
	case 'S':
		if (x == VM_NONE)
			return 0;
		/* fall through */
	case 's':
		if (want_const(v, pc, x, VM_K_STRING, "a string"))
			return -1;
		/* Names, reasons and masks are checked here once; a
		 * parameter could change them after. */
		if (p->param_of[x] != VM_NONE)
			return vfail(v, pc, "constant %u is a parameter's "
				     "value", x);
		return 0;
	case 'n':
		if (want_const(v, pc, x, VM_K_NUMBER, "a number"))
			return -1;
		/* A parameter may set a sample rate (binding checks its
		 * range: check_rate), not a step positive() approved: 0
		 * would divide by zero. */
		if (op != OP_SAMPLE && p->param_of[x] != VM_NONE)
			return vfail(v, pc, "constant %u is a parameter's "
				     "value", x);
		return 0;
	case 'l':
		return want_const(v, pc, x, VM_K_LIST, "a list");
	case 'L':
		/* The loader saw its paths are all plain ones. */
		return want_const(v, pc, x, VM_K_PATHLIST, "a path list");
	case 'r':
		return want_const(v, pc, x, VM_K_REGEX, "a regex");
	case 'm':
		return want_const(v, pc, x, VM_K_MATCHER, "a matcher");
	case 't':
		return want_const(v, pc, x, VM_K_PATTERN, "a pattern");
	case 'j':
		if (x >= p->code_len - next || !v->starts[next + x])
			return vfail(v, pc, "jump to %u is out of range or "
				     "mid-instruction", next + x);
		return 0;
	case 'e':
		if (x > VM_ELSE_DELETE)
			return vfail(v, pc, "bad type-mismatch mode %u", x);
		return 0;
	case 'd':
		if (x == 0 || (x & ~vm_detect_all()))
			return vfail(v, pc, "detector set 0x%x is not valid",
				     x);
		return 0;
	case 'u':
		return 0;
	default:
		return vfail(v, pc, "opcode table: bad operand kind");
	}
}

/* What the whole-value operators demand of their operands beyond their
 * kinds. */
static int check_value_rules(struct verifier *v, uint32_t pc,
			     enum vm_opcode op, const uint32_t *a)
{
	const struct vm_program *p = v->p;
	uint32_t kind;

	switch (op) {
	case OP_REDACT:
		kind = a[2] & ~(uint32_t)VM_REDACT_KEYS;
		if (kind >= VM_REDACT__KINDS || (kind == VM_REDACT_TEXT &&
						 a[5] == VM_NONE))
			return vfail(v, pc, "REDACT replacement %u is not "
				     "valid", a[2]);
		if (a[3] > 1000000 || a[4] > 1000000 ||
		    (kind == VM_REDACT_PSEUDONYM && (a[3] < 1 || a[3] > 64)))
			return vfail(v, pc, "REDACT count out of range");
		return 0;
	case OP_ROUND:
	case OP_BUCKET:
		if (!positive(p, a[1]))
			return vfail(v, pc, "%s step is not positive",
				     vm_opinfo[op].name);
		return 0;
	case OP_SHIFT_DATE:
		if (a[1] < 1 || a[1] > 36500)
			return vfail(v, pc, "SHIFT_DATE days %u is not "
				     "1..36500", a[1]);
		return 0;
	case OP_TRUNCATE:
		if (a[1] > 1000000)
			return vfail(v, pc, "TRUNCATE length out of range");
		return 0;
	case OP_TOKENIZE:
		if (a[3] < 1 || a[3] > 51 || !key_id(&p->consts[a[2]]))
			return vfail(v, pc, "TOKENIZE key id or length out "
				     "of range");
		return 0;
	case OP_PSEUDONYMIZE:
		if (a[1] < 1 || a[1] > 64)
			return vfail(v, pc, "PSEUDONYMIZE length %u is not "
				     "1..64", a[1]);
		return 0;
	case OP_MASK:
		if (a[1] > 1000000 || a[2] > 1000000)
			return vfail(v, pc, "MASK keeps too many characters");
		if (a[3] != VM_NONE && p->consts[a[3]].len == 0)
			return vfail(v, pc, "MASK with an empty mask");
		return 0;
	case OP_TRUNCATE_IP:
		if ((a[1] > 32 && a[1] != VM_NONE) ||
		    (a[2] > 128 && a[2] != VM_NONE) ||
		    (a[1] == VM_NONE && a[2] == VM_NONE))
			return vfail(v, pc, "TRUNCATE_IP prefixes out of "
				     "range");
		return 0;
	default:
		return 0;
	}
}

/* What the other opcodes demand of their operands beyond their kinds. */
static int check_rules(struct verifier *v, uint32_t pc, enum vm_opcode op,
		       const uint32_t *a)
{
	const struct vm_program *p = v->p;

	switch (op) {
	case OP_SET:
		if (!writable(&p->paths[a[0]]))
			return vfail(v, pc, "SET path cannot be written");
		return 0;
	case OP_RENAME:
	case OP_COPY:
		if (!p->paths[a[0]].definite || !p->paths[a[1]].definite ||
		    !writable(&p->paths[a[1]]))
			return vfail(v, pc, "%s needs definite paths",
				     vm_opinfo[op].name);
		return 0;
	case OP_BOOL:
		if (a[0] > 1)
			return vfail(v, pc, "BOOL %u is not 0 or 1", a[0]);
		return 0;
	case OP_SAMPLE:
		return check_rate(v, pc, a[0]);
	default:
		return check_value_rules(v, pc, op, a);
	}
}

/* Pattern paths belong to the opcodes flagged VM_OPF_PATTERN (their p
 * operand is always one), and to no other. */
static int check_pattern_paths(struct verifier *v, uint32_t pc,
			       enum vm_opcode op, const uint32_t *a)
{
	const struct vm_program *p = v->p;
	const char *kinds = vm_opinfo[op].operands;

	if (vm_opinfo[op].flags & VM_OPF_PATTERN) {
		if (p->paths[a[0]].mode != VM_PATH_PATTERN)
			return vfail(v, pc, "%s needs a pattern path",
				     vm_opinfo[op].name);
		return 0;
	}
	for (size_t i = 0; kinds[i]; i++)
		if (kinds[i] == 'p' &&
		    p->paths[a[i]].mode == VM_PATH_PATTERN)
			return vfail(v, pc, "pattern path outside MATCH");
	return 0;
}

/* Pass 2: one instruction's operands, one by one as their kinds say,
 * then what its opcode demands of them together. */
static int check_operands(struct verifier *v, uint32_t pc)
{
	const struct vm_program *p = v->p;
	enum vm_opcode op = p->code[pc];
	const char *kinds = vm_opinfo[op].operands;
	uint32_t a[VM_MAX_OPERANDS], next = pc + vm_instr_len(op);

	for (size_t i = 0; kinds[i]; i++) {
		a[i] = vm_u32(p->code + pc + 1 + 4 * i);
		if (check_operand(v, pc, op, kinds[i], a[i], next) != 0)
			return -1;
	}
	if (vm_opinfo[op].flags & VM_OPF_PATTERN)
		return check_pattern_paths(v, pc, op, a);
	if (check_rules(v, pc, op, a) != 0)
		return -1;
	/* Without the flag the host would run it unkeyed. */
	if (vm_op_keyed(op, a) && !(p->flags & VM_META_NEEDS_KEY))
		return vfail(v, pc, "%s is keyed but the program does not "
			     "ask for a key", vm_opinfo[op].name);
	return check_pattern_paths(v, pc, op, a);
}

/* Merge state `s` into pc `to`; paths that meet must agree. */
static int flow_to(struct verifier *v, uint32_t from, uint32_t to,
		   struct slot_state s)
{
	struct slot_state *t = &v->at[to];

	if (t->depth < 0) {
		*t = s;
		return 0;
	}
	if (t->depth != s.depth || t->bools != s.bools)
		return vfail(v, from, "stack differs where paths meet at pc "
			     "%u", to);
	return 0;
}

/* Where the jump at `pc` goes. */
static uint32_t jump_target(const struct vm_program *p, uint32_t pc)
{
	return pc + vm_instr_len(p->code[pc]) + vm_u32(p->code + pc + 1);
}

/* The stack `s` before the instruction at `pc` holds what it pops, and
 * nothing more where it needs an empty stack. */
static int check_slots(struct verifier *v, uint32_t pc, struct slot_state s)
{
	const struct vm_opinfo *info = &vm_opinfo[v->p->code[pc]];
	size_t npop = strlen(info->pops);

	if ((size_t)s.depth < npop)
		return vfail(v, pc, "%s: stack underflow", info->name);
	if ((info->flags & VM_OPF_EMPTY) && s.depth != 0)
		return vfail(v, pc, "%s needs an empty stack", info->name);
	for (size_t i = 0; i < npop; i++) {
		int slot = s.depth - (int)npop + (int)i;
		int is_bool = (s.bools >> slot) & 1;

		if (is_bool != (info->pops[i] == 'b'))
			return vfail(v, pc, "%s: slot %d holds %s",
				     info->name, slot,
				     is_bool ? "a boolean" : "values");
	}
	return 0;
}

/* The stack `s` after the instruction at `pc` pops and pushes. */
static int step_slots(struct verifier *v, uint32_t pc, struct slot_state *s)
{
	const struct vm_opinfo *info = &vm_opinfo[v->p->code[pc]];

	s->depth -= (int)strlen(info->pops);
	s->bools &= s->depth >= 64 ? ~0ull : (1ull << s->depth) - 1;
	for (size_t i = 0; info->pushes[i]; i++) {
		if (s->depth >= VM_MAX_STACK)
			return vfail(v, pc, "stack deeper than %d",
				     VM_MAX_STACK);
		if (info->pushes[i] == 'b')
			s->bools |= 1ull << s->depth;
		s->depth++;
	}
	if ((uint32_t)s->depth > v->max_depth)
		v->max_depth = (uint32_t)s->depth;
	return 0;
}

/* Pass 3: abstract interpretation over the forward-only control flow.
 * Visiting pcs in increasing order sees every predecessor first. */
static int check_flow(struct verifier *v)
{
	const struct vm_program *p = v->p;

	v->at[0] = (struct slot_state){ 0, 0 };
	for (uint32_t pc = 0; pc < p->code_len; pc++) {
		enum vm_opcode op;
		uint32_t flags;
		struct slot_state s;

		if (!v->starts[pc])
			continue;
		op = p->code[pc];
		flags = vm_opinfo[op].flags;
		s = v->at[pc];
		if (s.depth < 0)
			return vfail(v, pc, "unreachable %s",
				     vm_opinfo[op].name);
		if (check_slots(v, pc, s) != 0)
			return -1;
		/* A jump flagged KEEPB keeps its boolean on the jump edge;
		 * the others pop it first. */
		if ((flags & VM_OPF_KEEPB) &&
		    flow_to(v, pc, jump_target(p, pc), s) != 0)
			return -1;
		if (step_slots(v, pc, &s) != 0)
			return -1;
		if (is_jump(op) && !(flags & VM_OPF_KEEPB) &&
		    flow_to(v, pc, jump_target(p, pc), s) != 0)
			return -1;
		if (flags & VM_OPF_END)
			continue;
		if (pc + vm_instr_len(op) >= p->code_len)
			return vfail(v, pc, "%s runs off the end of the code",
				     vm_opinfo[op].name);
		if (flow_to(v, pc, pc + vm_instr_len(op), s) != 0)
			return -1;
	}
	return 0;
}

int vm_verify(struct vm_program *p, struct vm_error *err)
{
	struct verifier v = { p, err, NULL, NULL, 0 };
	int rc = -1;

	v.starts = scrub_calloc(p->code_len, 1);
	v.at = scrub_malloc(p->code_len * sizeof *v.at);
	if (v.starts == NULL || v.at == NULL) {
		snprintf(err->msg, sizeof err->msg, "out of memory");
		goto out;
	}
	for (uint32_t i = 0; i < p->code_len; i++)
		v.at[i].depth = -1;
	if (decode(&v) != 0)
		goto out;
	for (uint32_t pc = 0; pc < p->code_len; pc++)
		if (v.starts[pc] && check_operands(&v, pc) != 0)
			goto out;
	if (check_flow(&v) != 0)
		goto out;
	p->max_stack = v.max_depth;
	rc = 0;
out:
	free(v.starts);
	free(v.at);
	return rc;
}
