/* opcodes.h - the one list of VM instructions.
 *
 * Everything that needs to know the instruction set expands this list: the
 * opcode enum, the names, the operand layouts the loader verifies and the
 * disassembler prints, the instruction lengths, the flags the verifier
 * follows, and the interpreter's dispatch switch. Adding an opcode here and
 * forgetting one of those is a compile error.
 *
 * An instruction is one opcode byte followed by its operands, each a 32-bit
 * little-endian word. Operand kinds, one letter per operand:
 *
 *   p  path index              j  forward jump, in bytes past this instruction
 *   k  constant, any kind      s  string constant    S  string constant or none
 *   n  number constant         l  list constant      L  path-list constant
 *   r  regex constant          m  matcher constant   u  unsigned immediate
 *   t  pattern-tree constant
 *   e  what to do with a value of the wrong type: 0 reject, 1 null, 2 delete
 *   d  a set of detectors, one bit each (detect.h)
 *
 * A jump is an instruction with a j operand, and that is its first.
 *
 * X(NAME, operands, pops, pushes, flags, word, meaning). Pops and pushes
 * are stack slot types, top last: b a boolean, v a set of values (a
 * constant, or the values a path selected). Flags are VM_OPF_* below. The
 * word is the policy statement that writes the instruction, as messages
 * name it; "" where no one statement does.
 */
#ifndef SCRUB_OPCODES_H
#define SCRUB_OPCODES_H

#include <stdint.h>

/* What the verifier must know of an opcode beyond its operands and stack
 * slots. */
enum vm_opflag {
	VM_OPF_END = 1,		/* never goes on to the next one */
	VM_OPF_EMPTY = 2,	/* runs with an empty stack: actions, ends */
	VM_OPF_KEEPB = 4,	/* a jump that keeps its boolean when taken */
	VM_OPF_KEYED = 8,	/* hashes with the key (REDACT: see u1) */
	VM_OPF_PATTERN = 16,	/* its p operand is a pattern path */
};

/* The most operands an instruction has. */
#define VM_MAX_OPERANDS 8

#define VM_OPCODES(X)							\
	/* control */							\
	X(HALT, "", "", "", VM_OPF_END | VM_OPF_EMPTY, "",		\
	  "stop and emit the event")					\
	X(DROP, "s", "", "", VM_OPF_END | VM_OPF_EMPTY, "drop",	\
	  "stop and drop the event for reason s")			\
	X(RULE, "s", "", "", 0, "rule", "enter rule s (named in errors)")\
	X(JUMP, "j", "", "", VM_OPF_END, "",				\
	  "continue j bytes further on")				\
	X(JUMP_IF_FALSE, "j", "b", "", 0, "",				\
	  "pop; jump if it was false")					\
	X(JUMP_IF_TRUE, "j", "b", "", 0, "", "pop; jump if it was true")\
	X(JUMP_FALSE_KEEP, "j", "b", "", VM_OPF_KEEPB, "",		\
	  "if the top is false, jump and keep it; else pop it")	\
	X(JUMP_TRUE_KEEP, "j", "b", "", VM_OPF_KEEPB, "",		\
	  "if the top is true, jump and keep it; else pop it")		\
	/* values and conditions */					\
	X(BOOL, "u", "", "b", 0, "", "push the boolean u (0 or 1)")	\
	X(PUSH, "k", "", "v", 0, "", "push constant k")		\
	X(LOAD, "p", "", "v", 0, "",					\
	  "push the values at path p (none: absent)")			\
	X(EXISTS, "p", "", "b", 0, "", "true if path p has a value")	\
	X(NOT, "", "b", "b", 0, "", "logical not")			\
	X(EQ, "", "vv", "b", 0, "",					\
	  "some value of a equals some value of b")			\
	X(NE, "", "vv", "b", 0, "",					\
	  "some value of a differs from some of b")			\
	X(LT, "", "vv", "b", 0, "", "some a < some b (same type)")	\
	X(LE, "", "vv", "b", 0, "", "some a <= some b (same type)")	\
	X(GT, "", "vv", "b", 0, "", "some a > some b (same type)")	\
	X(GE, "", "vv", "b", 0, "", "some a >= some b (same type)")	\
	X(IN, "l", "v", "b", 0, "",					\
	  "some value equals an item of list l")			\
	X(MATCHES, "r", "v", "b", 0, "",				\
	  "some string value matches regex r")				\
	X(MATCH, "pm", "", "b", VM_OPF_PATTERN, "",			\
	  "event-pattern field test: values at p against matcher m")	\
	X(ARRAYS, "p", "", "b", VM_OPF_PATTERN, "",			\
	  "true if looking up pattern path p crosses an array")		\
	X(PATTERN, "pt", "", "b", VM_OPF_PATTERN, "",			\
	  "pattern object t at path p, its fields in one element")	\
	X(SAMPLE, "nL", "", "b", 0, "sample",				\
	  "first string at paths L hashes into the n% sample")		\
	/* actions: change the event, with an empty stack */		\
	X(SET, "pk", "", "", VM_OPF_EMPTY, "set",			\
	  "set path p to constant k")					\
	X(DELETE, "L", "", "", VM_OPF_EMPTY, "delete",			\
	  "remove the values at paths L, all found before any goes")	\
	X(RENAME, "pp", "", "", VM_OPF_EMPTY, "rename",		\
	  "move the value at p1 to p2")					\
	X(COPY, "pp", "", "", VM_OPF_EMPTY, "copy",			\
	  "copy the value at p1 to p2")					\
	X(KEEP, "L", "", "", VM_OPF_EMPTY, "keep",			\
	  "remove everything not on the paths L")			\
	X(MASK, "puuSSe", "", "", VM_OPF_EMPTY, "mask",		\
	  "mask strings at p: keep first u1 and last u2 characters, "	\
	  "mask with S1, or fill template S2")				\
	X(PSEUDONYMIZE, "pue", "", "", VM_OPF_EMPTY | VM_OPF_KEYED,	\
	  "pseudonymize",						\
	  "replace strings at p by u hex digits of their keyed HMAC")	\
	X(REPLACE_RE, "prse", "", "", VM_OPF_EMPTY, "replace",		\
	  "replace each match of r in strings at p by s")		\
	X(REPLACE, "pk", "", "", VM_OPF_EMPTY, "replace",		\
	  "replace the values at p by constant k")			\
	X(TRUNCATE_IP, "puue", "", "", VM_OPF_EMPTY, "truncate",	\
	  "zero the host bits of IPs at p: IPv4 to /u1, IPv6 to /u2")	\
	X(REDACT, "pduuuSe", "", "", VM_OPF_EMPTY, "redact",		\
	  "replace what detectors d find in strings at p by what u1 "	\
	  "says (VM_REDACT_*), with numbers u2, u3 and text S; keyed "	\
	  "when u1 says pseudonym or fake")				\
	X(ROUND, "pne", "", "", VM_OPF_EMPTY, "round",			\
	  "round numbers at p to a multiple of n")			\
	X(BUCKET, "pne", "", "", VM_OPF_EMPTY, "bucket",		\
	  "replace numbers at p by their bucket of width n, \"[lo,hi)\"") \
	X(SHIFT_DATE, "pupe", "", "", VM_OPF_EMPTY | VM_OPF_KEYED,	\
	  "shift",							\
	  "move dates at p by 1..u days, keyed by the value at p2")	\
	X(TRUNCATE, "pue", "", "", VM_OPF_EMPTY, "truncate",		\
	  "cut strings at p to u characters")				\
	X(TOKENIZE, "pSsue", "", "", VM_OPF_EMPTY | VM_OPF_KEYED,	\
	  "tokenize",							\
	  "replace strings at p by S, key id s, '_' and u base32 "	\
	  "characters of their keyed HMAC")

enum vm_opcode {
#define VM_OPCODE_ENUM(name, operands, pops, pushes, flags, word, doc) \
	OP_##name,
	VM_OPCODES(VM_OPCODE_ENUM)
#undef VM_OPCODE_ENUM
	OP__COUNT
};

struct vm_opinfo {
	const char *name;
	const char *operands;	/* one letter per operand, see above */
	const char *pops;	/* slot types, top last */
	const char *pushes;
	uint32_t flags;		/* VM_OPF_* */
	const char *word;	/* the policy statement, lower case */
	const char *doc;
	uint8_t len;		/* bytes: the opcode and its operands */
};

extern const struct vm_opinfo vm_opinfo[OP__COUNT];

/* The length of an instruction with opcode `op`, a known one. */
static inline uint32_t vm_instr_len(enum vm_opcode op)
{
	return vm_opinfo[op].len;
}

/* Operand value meaning "no constant" for S, and "no prefix" for
 * TRUNCATE_IP's u operands. */
#define VM_NONE 0xFFFFFFFFu

/* The `e` operand. */
enum vm_else { VM_ELSE_REJECT = 0, VM_ELSE_NULL = 1, VM_ELSE_DELETE = 2 };

/* REDACT's u1: what replaces a finding, plus VM_REDACT_KEYS to scan
 * object keys as well. */
enum vm_redact {
	VM_REDACT_TEXT = 0,	/* the string S */
	VM_REDACT_LABEL,	/* <DETECTOR> */
	VM_REDACT_MASK,		/* masked, keeping first u2, last u3 */
	VM_REDACT_PSEUDONYM,	/* u2 hex digits of the keyed HMAC */
	VM_REDACT_FAKE,		/* a safe fake of the same shape */
	VM_REDACT__KINDS,
	VM_REDACT_KEYS = 0x100,
};

/* Whether the instruction `op` with operands `a` hashes with the key: a
 * program that has one must ask for a key (VM_META_NEEDS_KEY). */
static inline int vm_op_keyed(enum vm_opcode op, const uint32_t *a)
{
	uint32_t how;

	if (vm_opinfo[op].flags & VM_OPF_KEYED)
		return 1;
	if (op != OP_REDACT)
		return 0;
	how = a[2] & ~(uint32_t)VM_REDACT_KEYS;
	return how == VM_REDACT_PSEUDONYM || how == VM_REDACT_FAKE;
}

#endif
