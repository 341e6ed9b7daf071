/* opcodes.h - the one list of VM instructions.
 *
 * Everything that needs to know the instruction set expands this list: the
 * opcode enum, the names, the operand layouts the loader verifies and the
 * disassembler prints, and the interpreter's dispatch switch. Adding an
 * opcode here and forgetting one of those is a compile error.
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
 * X(NAME, operands, pops, pushes, meaning). Pops and pushes are stack slot
 * types, top last: b a boolean, v a set of values (a constant, or the
 * values a path selected). The two _KEEP jumps keep their boolean when they
 * jump. Actions change the event and need an empty stack.
 */
#ifndef SCRUB_OPCODES_H
#define SCRUB_OPCODES_H

#define VM_OPCODES(X)							\
	/* control */							\
	X(HALT, "", "", "", "stop and emit the event")			\
	X(DROP, "s", "", "", "stop and drop the event for reason s")	\
	X(RULE, "s", "", "", "enter rule s (named in errors)")		\
	X(JUMP, "j", "", "", "continue j bytes further on")		\
	X(JUMP_IF_FALSE, "j", "b", "", "pop; jump if it was false")	\
	X(JUMP_IF_TRUE, "j", "b", "", "pop; jump if it was true")	\
	X(JUMP_FALSE_KEEP, "j", "b", "",				\
	  "if the top is false, jump and keep it; else pop it")	\
	X(JUMP_TRUE_KEEP, "j", "b", "",				\
	  "if the top is true, jump and keep it; else pop it")		\
	/* values and conditions */					\
	X(BOOL, "u", "", "b", "push the boolean u (0 or 1)")		\
	X(PUSH, "k", "", "v", "push constant k")			\
	X(LOAD, "p", "", "v", "push the values at path p (none: absent)")\
	X(EXISTS, "p", "", "b", "true if path p has a value")		\
	X(NOT, "", "b", "b", "logical not")				\
	X(EQ, "", "vv", "b", "some value of a equals some value of b")	\
	X(NE, "", "vv", "b", "some value of a differs from some of b")	\
	X(LT, "", "vv", "b", "some a < some b (same type)")		\
	X(LE, "", "vv", "b", "some a <= some b (same type)")		\
	X(GT, "", "vv", "b", "some a > some b (same type)")		\
	X(GE, "", "vv", "b", "some a >= some b (same type)")		\
	X(IN, "l", "v", "b", "some value equals an item of list l")	\
	X(MATCHES, "r", "v", "b", "some string value matches regex r")	\
	X(MATCH, "pm", "", "b",						\
	  "event-pattern field test: values at p against matcher m")	\
	X(ARRAYS, "p", "", "b",						\
	  "true if looking up pattern path p crosses an array")		\
	X(PATTERN, "pt", "", "b",					\
	  "pattern object t at path p, its fields in one element")	\
	X(SAMPLE, "nL", "", "b",					\
	  "first string at paths L hashes into the n% sample")		\
	/* actions: run with an empty stack */				\
	X(SET, "pk", "", "", "set path p to constant k")		\
	X(DELETE, "L", "", "",						\
	  "remove the values at paths L, all found before any goes")	\
	X(RENAME, "pp", "", "", "move the value at p1 to p2")		\
	X(COPY, "pp", "", "", "copy the value at p1 to p2")		\
	X(KEEP, "L", "", "", "remove everything not on the paths L")	\
	X(MASK, "puuSSe", "", "",					\
	  "mask strings at p: keep first u1 and last u2 characters, "	\
	  "mask with S1, or fill template S2")				\
	X(PSEUDONYMIZE, "pue", "", "",					\
	  "replace strings at p by u hex digits of their keyed HMAC")	\
	X(REPLACE_RE, "prse", "", "",					\
	  "replace each match of r in strings at p by s")		\
	X(REPLACE, "pk", "", "", "replace the values at p by constant k")\
	X(TRUNCATE_IP, "puue", "", "",					\
	  "zero the host bits of IPs at p: IPv4 to /u1, IPv6 to /u2")	\
	X(REDACT, "pduuuSe", "", "",					\
	  "replace what detectors d find in strings at p by what u1 "	\
	  "says (VM_REDACT_*), with numbers u2, u3 and text S")	\
	X(ROUND, "pne", "", "",						\
	  "round numbers at p to a multiple of n")			\
	X(BUCKET, "pne", "", "",					\
	  "replace numbers at p by their bucket of width n, \"[lo,hi)\"") \
	X(SHIFT_DATE, "pupe", "", "",					\
	  "move dates at p by 1..u days, keyed by the value at p2")	\
	X(TRUNCATE, "pue", "", "", "cut strings at p to u characters")	\
	X(TOKENIZE, "pSsue", "", "",					\
	  "replace strings at p by S, key id s, '_' and u base32 "	\
	  "characters of their keyed HMAC")

enum vm_opcode {
#define VM_OPCODE_ENUM(name, operands, pops, pushes, doc) OP_##name,
	VM_OPCODES(VM_OPCODE_ENUM)
#undef VM_OPCODE_ENUM
	OP__COUNT
};

struct vm_opinfo {
	const char *name;
	const char *operands;	/* one letter per operand, see above */
	const char *pops;	/* slot types, top last */
	const char *pushes;
	const char *doc;
};

extern const struct vm_opinfo vm_opinfo[OP__COUNT];

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
	VM_REDACT_MASK,		/* masked, keeping first u2 and last u3 */
	VM_REDACT_PSEUDONYM,	/* u2 hex digits of the keyed HMAC */
	VM_REDACT_FAKE,		/* a safe fake of the same shape */
	VM_REDACT__KINDS,
	VM_REDACT_KEYS = 0x100,
};

#endif
