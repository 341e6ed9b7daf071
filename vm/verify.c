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

const struct vm_opinfo vm_opinfo[OP__COUNT] = {
#define VM_OPINFO(name, operands, pops, pushes, doc) \
	[OP_##name] = { #name, operands, pops, pushes, doc },
	VM_OPCODES(VM_OPINFO)
#undef VM_OPINFO
};

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

static uint32_t instr_len(enum vm_opcode op)
{
	return 1 + 4 * (uint32_t)strlen(vm_opinfo[op].operands);
}

static int is_terminator(enum vm_opcode op)
{
	return op == OP_HALT || op == OP_DROP || op == OP_JUMP;
}

static int is_jump(enum vm_opcode op)
{
	return op == OP_JUMP || op == OP_JUMP_IF_FALSE ||
	       op == OP_JUMP_IF_TRUE || op == OP_JUMP_FALSE_KEEP ||
	       op == OP_JUMP_TRUE_KEEP;
}

/* Pass 1: instruction boundaries. */
static int decode(struct verifier *v)
{
	uint32_t pc = 0, len = v->p->code_len;

	while (pc < len) {
		uint8_t op = v->p->code[pc];

		if (op >= OP__COUNT)
			return vfail(v, pc, "unknown opcode 0x%02x", op);
		if (instr_len(op) > len - pc)
			return vfail(v, pc, "%s is truncated",
				     vm_opinfo[op].name);
		v->starts[pc] = 1;
		pc += instr_len(op);
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

/* The operands of REDACT and the whole-value operators. Keyed ones need
 * a program that asks for a key, so that none runs unkeyed. */
static int check_new_operands(struct verifier *v, uint32_t pc,
			      enum vm_opcode op, const uint32_t *a)
{
	const struct vm_program *p = v->p;
	uint32_t kind;
	int keyed = 0;

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
		keyed = kind == VM_REDACT_PSEUDONYM || kind == VM_REDACT_FAKE;
		break;
	case OP_ROUND:
	case OP_BUCKET:
		if (!positive(p, a[1]))
			return vfail(v, pc, "%s step is not positive",
				     vm_opinfo[op].name);
		break;
	case OP_SHIFT_DATE:
		if (a[1] < 1 || a[1] > 36500)
			return vfail(v, pc, "SHIFT_DATE days %u is not "
				     "1..36500", a[1]);
		keyed = 1;
		break;
	case OP_TRUNCATE:
		if (a[1] > 1000000)
			return vfail(v, pc, "TRUNCATE length out of range");
		break;
	case OP_TOKENIZE:
		if (a[3] < 1 || a[3] > 51 || !key_id(&p->consts[a[2]]))
			return vfail(v, pc, "TOKENIZE key id or length out "
				     "of range");
		keyed = 1;
		break;
	default:
		break;
	}
	if (keyed && !(p->flags & VM_META_NEEDS_KEY))
		return vfail(v, pc, "%s is keyed but the program does not "
			     "ask for a key", vm_opinfo[op].name);
	return 0;
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

/* Pass 2: one instruction's operands, and what each opcode demands of
 * them beyond their kinds. */
static int check_operands(struct verifier *v, uint32_t pc)
{
	const struct vm_program *p = v->p;
	enum vm_opcode op = p->code[pc];
	const char *kinds = vm_opinfo[op].operands;
	uint32_t a[8], next = pc + instr_len(op);

	for (size_t i = 0; kinds[i]; i++) {
		uint32_t x = vm_u32(p->code + pc + 1 + 4 * i);

		a[i] = x;
		switch (kinds[i]) {
		case 'p':
			if (x >= p->npaths)
				return vfail(v, pc, "path %u out of range", x);
			break;
		case 'k':
			if (want_const(v, pc, x, 0, NULL))
				return -1;
			if (p->consts[x].kind > VM_K_JSON)
				return vfail(v, pc, "constant %u is not a "
					     "value", x);
			break;
		case 's':
		case 'S':
			if (kinds[i] == 'S' && x == VM_NONE)
				break;
			if (want_const(v, pc, x, VM_K_STRING, "a string"))
				return -1;
			/* Names, reasons and masks are checked here once;
			 * a parameter could change them after. */
			if (p->param_of[x] != VM_NONE)
				return vfail(v, pc, "constant %u is a "
					     "parameter's value", x);
			break;
		case 'n':
			if (want_const(v, pc, x, VM_K_NUMBER, "a number"))
				return -1;
			/* A parameter may set a sample rate (binding checks
			 * its range: check_rate), not a step positive()
			 * approved: 0 would divide by zero. */
			if (op != OP_SAMPLE && p->param_of[x] != VM_NONE)
				return vfail(v, pc, "constant %u is a "
					     "parameter's value", x);
			break;
		case 'l':
			if (want_const(v, pc, x, VM_K_LIST, "a list"))
				return -1;
			break;
		case 'L':
			/* The loader saw its paths are all plain ones. */
			if (want_const(v, pc, x, VM_K_PATHLIST,
				       "a path list"))
				return -1;
			break;
		case 'r':
			if (want_const(v, pc, x, VM_K_REGEX, "a regex"))
				return -1;
			break;
		case 'm':
			if (want_const(v, pc, x, VM_K_MATCHER, "a matcher"))
				return -1;
			break;
		case 't':
			if (want_const(v, pc, x, VM_K_PATTERN, "a pattern"))
				return -1;
			break;
		case 'j':
			if (x >= p->code_len - next ||
			    !v->starts[next + x])
				return vfail(v, pc, "jump to %u is out of "
					     "range or mid-instruction",
					     next + x);
			break;
		case 'e':
			if (x > VM_ELSE_DELETE)
				return vfail(v, pc, "bad type-mismatch mode "
					     "%u", x);
			break;
		case 'd':
			if (x == 0 || (x & ~vm_detect_all()))
				return vfail(v, pc, "detector set 0x%x is not "
					     "valid", x);
			break;
		case 'u':
			break;
		default:
			return vfail(v, pc, "opcode table: bad operand kind");
		}
	}

	switch (op) {
	case OP_MATCH:
	case OP_ARRAYS:
	case OP_PATTERN:
		if (p->paths[a[0]].mode != VM_PATH_PATTERN)
			return vfail(v, pc, "%s needs a pattern path",
				     vm_opinfo[op].name);
		break;
	case OP_SET:
		if (!writable(&p->paths[a[0]]))
			return vfail(v, pc, "SET path cannot be written");
		break;
	case OP_RENAME:
	case OP_COPY:
		if (!p->paths[a[0]].definite || !p->paths[a[1]].definite ||
		    !writable(&p->paths[a[1]]))
			return vfail(v, pc, "%s needs definite paths",
				     vm_opinfo[op].name);
		break;
	case OP_MASK:
		if (a[1] > 1000000 || a[2] > 1000000)
			return vfail(v, pc, "MASK keeps too many characters");
		if (a[3] != VM_NONE && p->consts[a[3]].len == 0)
			return vfail(v, pc, "MASK with an empty mask");
		break;
	case OP_BOOL:
		if (a[0] > 1)
			return vfail(v, pc, "BOOL %u is not 0 or 1", a[0]);
		break;
	case OP_PSEUDONYMIZE:
		if (a[1] < 1 || a[1] > 64)
			return vfail(v, pc, "PSEUDONYMIZE length %u is not "
				     "1..64", a[1]);
		/* Without the flag the host would run it unkeyed. */
		if (!(p->flags & VM_META_NEEDS_KEY))
			return vfail(v, pc, "PSEUDONYMIZE in a program not "
				     "marked as needing a key");
		break;
	case OP_SAMPLE:
		return check_rate(v, pc, a[0]);
	case OP_TRUNCATE_IP:
		if ((a[1] > 32 && a[1] != VM_NONE) ||
		    (a[2] > 128 && a[2] != VM_NONE) ||
		    (a[1] == VM_NONE && a[2] == VM_NONE))
			return vfail(v, pc, "TRUNCATE_IP prefixes out of "
				     "range");
		break;
	default:
		if (check_new_operands(v, pc, op, a) != 0)
			return -1;
		break;
	}
	for (size_t i = 0; kinds[i]; i++)
		if (kinds[i] == 'p' && p->paths[a[i]].mode ==
		    VM_PATH_PATTERN && op != OP_MATCH && op != OP_ARRAYS &&
		    op != OP_PATTERN)
			return vfail(v, pc, "pattern path outside MATCH");
	return 0;
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

/* Pass 3: abstract interpretation over the forward-only control flow.
 * Visiting pcs in increasing order sees every predecessor first. */
static int check_flow(struct verifier *v)
{
	const struct vm_program *p = v->p;

	v->at[0] = (struct slot_state){ 0, 0 };
	for (uint32_t pc = 0; pc < p->code_len; pc++) {
		enum vm_opcode op;
		const struct vm_opinfo *info;
		struct slot_state s;
		uint32_t next;
		size_t npop, npush;

		if (!v->starts[pc])
			continue;
		op = p->code[pc];
		info = &vm_opinfo[op];
		next = pc + instr_len(op);
		s = v->at[pc];
		if (s.depth < 0)
			return vfail(v, pc, "unreachable %s", info->name);

		npop = strlen(info->pops);
		npush = strlen(info->pushes);
		if ((size_t)s.depth < npop)
			return vfail(v, pc, "%s: stack underflow", info->name);
		if (npop == 0 && npush == 0 && s.depth != 0 &&
		    !is_jump(op) && op != OP_RULE)
			return vfail(v, pc, "%s needs an empty stack",
				     info->name);
		for (size_t i = 0; i < npop; i++) {
			int slot = s.depth - (int)npop + (int)i;
			int is_bool = (s.bools >> slot) & 1;

			if (is_bool != (info->pops[i] == 'b'))
				return vfail(v, pc, "%s: slot %d holds %s",
					     info->name, slot,
					     is_bool ? "a boolean" : "values");
		}

		/* The _KEEP jumps keep their boolean on the jump edge. */
		if (op == OP_JUMP_FALSE_KEEP || op == OP_JUMP_TRUE_KEEP) {
			uint32_t to = next + vm_u32(p->code + pc + 1);

			if (flow_to(v, pc, to, s) != 0)
				return -1;
		}
		s.depth -= (int)npop;
		s.bools &= s.depth >= 64 ? ~0ull : (1ull << s.depth) - 1;
		for (size_t i = 0; i < npush; i++) {
			if (s.depth >= VM_MAX_STACK)
				return vfail(v, pc, "stack deeper than %d",
					     VM_MAX_STACK);
			if (info->pushes[i] == 'b')
				s.bools |= 1ull << s.depth;
			s.depth++;
		}
		if ((uint32_t)s.depth > v->max_depth)
			v->max_depth = (uint32_t)s.depth;

		if (op == OP_JUMP || op == OP_JUMP_IF_FALSE ||
		    op == OP_JUMP_IF_TRUE) {
			uint32_t to = next + vm_u32(p->code + pc + 1);

			if (flow_to(v, pc, to, s) != 0)
				return -1;
		}
		if (is_terminator(op))
			continue;
		if (next >= p->code_len)
			return vfail(v, pc, "%s runs off the end of the code",
				     info->name);
		if (flow_to(v, pc, next, s) != 0)
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
