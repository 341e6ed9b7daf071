/* bytecode.h - the compiled policy file format. This is an ABI: the
 * compiler writes it, the loader reads it, and a Lambda built today must
 * reject, not misread, a file from a future compiler.
 *
 * All integers are little-endian. A file is a 24-byte header and a body:
 *
 *   0   magic      "SCRB"
 *   4   u16 major  format version; a loader rejects any other major
 *   6   u16 minor  compatible additions; must be <= the loader's
 *   8   u32 flags  reserved, must be zero
 *   12  u32 size   of the body in bytes
 *   16  u64 xxh3   XXH3-64 (seed 0) of the body
 *   24  body       sections, each: u32 tag, u32 length, payload
 *
 * Each section appears exactly once, in this order:
 *
 *   META  u32 name (string const), u32 flags (VM_META_*)
 *   SRCS  u32 count, then count string consts: policy file names
 *   CONS  u32 count, then constants: u8 kind, u32 length, payload
 *   PATH  u32 count, then paths: u8 mode, u32 nsegs, then segments:
 *         u8 kind, then a u32 string const (KEY) or an i64 index (INDEX)
 *   PARM  u32 count, then params: u32 name (string const), u32 value
 *         (const), u32 flags (VM_PARAM_*), f64 min, f64 max
 *   CODE  instructions (opcodes.h)
 *   LINE  u32 count, then u32 pc, u32 file (index into SRCS), u32 line;
 *         pcs strictly increasing, the first one 0
 *
 * Constant payloads by kind:
 *   NULL, FALSE, TRUE  empty
 *   NUMBER             the number as written (JSON syntax)
 *   STRING             UTF-8 bytes
 *   JSON               a JSON array or object, as text, within
 *                      VM_JSON_MAX_NEST and VM_JSON_MAX_VALUES
 *   LIST               u32 count, then count constant indices
 *   PATHLIST           u32 count, then count path indices
 *   REGEX              u32 flags (VM_RE_*), then the pattern
 *   MATCHER            u32 count, then count entries of 4 u32 words:
 *                      kind (VM_MATCH_*), a, b, c
 *   PATTERN            u32 count, then count u32 words: an event-pattern
 *                      object as a tree, each node 3 words, kind
 *                      (VM_PT_*), key (string const or VM_NONE: the key
 *                      segment leading to the node from its parent) and
 *                      for a FIELD its matcher constant, else the number
 *                      of child nodes, which follow in preorder. An OBJ's
 *                      children are its terms; an OR's are alternatives
 *                      (OBJs without a key). The root is an OBJ without a
 *                      key; nodes nest at most VM_PATTERN_MAX_NEST deep.
 */
#ifndef SCRUB_BYTECODE_H
#define SCRUB_BYTECODE_H

#include <stdint.h>

#define VM_MAGIC "SCRB"
#define VM_FORMAT_MAJOR 2
#define VM_FORMAT_MINOR 0
#define VM_HEADER_SIZE 24

#define VM_TAG(a, b, c, d) \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | \
	 (uint32_t)(d) << 24)
#define VM_SEC_META VM_TAG('M', 'E', 'T', 'A')
#define VM_SEC_SRCS VM_TAG('S', 'R', 'C', 'S')
#define VM_SEC_CONS VM_TAG('C', 'O', 'N', 'S')
#define VM_SEC_PATH VM_TAG('P', 'A', 'T', 'H')
#define VM_SEC_PARM VM_TAG('P', 'A', 'R', 'M')
#define VM_SEC_CODE VM_TAG('C', 'O', 'D', 'E')
#define VM_SEC_LINE VM_TAG('L', 'I', 'N', 'E')

/* META flags. */
enum {
	VM_META_CANONICAL = 1,	/* print strings in canonical form */
	VM_META_NEEDS_KEY = 2,	/* uses keyed operators: refused
				 * without a key */
	VM_META__ALL = 3,
};

enum vm_const_kind {
	VM_K_NULL = 1,
	VM_K_FALSE,
	VM_K_TRUE,
	VM_K_NUMBER,
	VM_K_STRING,
	VM_K_JSON,
	VM_K_LIST,
	VM_K_PATHLIST,
	VM_K_REGEX,
	VM_K_MATCHER,
	VM_K_PATTERN,
	VM_K__MAX = VM_K_PATTERN,
};

/* Path modes. */
enum {
	VM_PATH_PLAIN = 0,	/* as written */
	VM_PATH_PATTERN = 1,	/* event-pattern field: arrays are
				 * crossed */
};

/* Path segment kinds. */
enum vm_seg_kind {
	VM_SEG_KEY = 1,
	VM_SEG_INDEX,
	VM_SEG_ELEMENTS,	/* [*] */
	VM_SEG_MEMBERS,		/* .* */
	VM_SEG_DEEP,		/* .** */
};

/* REGEX flags. */
enum {
	VM_RE_CASELESS = 1,	/* i */
	VM_RE_MULTILINE = 2,	/* m */
	VM_RE_DOTALL = 4,	/* s */
	VM_RE_EXTENDED = 8,	/* x */
	VM_RE__ALL = 15,
};

/* PARM flags. */
enum {
	VM_PARAM_RANGE = 1,	/* a number between min and max */
	VM_PARAM_CENTS = 2,	/* a number of hundredths: a sample rate */
	VM_PARAM__ALL = 3,
};

/* Matcher entry kinds: one EventBridge comparison each. A field matches
 * when any entry matches any of its values (or, for EXISTS, the field as a
 * whole). a, b, c are constant indices unless said otherwise; the
 * anything-but kinds match every value of any type but the ones they
 * name. */
#define VM_MATCH_KINDS(X)						\
	X(EXACT, "value equal to constant a, same type and spelling")	\
	X(PREFIX, "string starting with string a")			\
	X(SUFFIX, "string ending with string a")			\
	X(PREFIX_CI, "prefix a ignoring case: regex b says how")	\
	X(SUFFIX_CI, "suffix a ignoring case: regex b says how")	\
	X(EQUALS_CI, "string equal to a ignoring case: regex b")	\
	X(WILDCARD, "string matching wildcard a")			\
	X(NUMERIC, "number within: a = op1 | op2 << 8, b, c numbers")	\
	X(CIDR, "IP string inside network a (string)")			\
	X(EXISTS, "field present (a = 1) or absent (a = 0); a is raw")	\
	X(BUT_VALUES, "anything but the values in list a (numbers by "	\
		      "value)")						\
	X(BUT_PREFIX, "anything but a string starting with one in a")	\
	X(BUT_SUFFIX, "anything but a string ending with one in a")	\
	X(BUT_EQUALS_CI, "anything but one of list a ignoring case: "	\
			 "regex b")					\
	X(BUT_WILDCARD, "anything but a string matching one of a")

enum vm_match_kind {
	VM_MATCH__NONE = 0,
#define VM_MATCH_ENUM(name, doc) VM_MATCH_##name,
	VM_MATCH_KINDS(VM_MATCH_ENUM)
#undef VM_MATCH_ENUM
	VM_MATCH__COUNT
};

/* A JSON constant nests at most this many objects and arrays deep (the
 * most an event may), and holds at most this many values (objects,
 * arrays and scalars alike, the root included): the compiler refuses a
 * literal past either, and so does the loader. */
#define VM_JSON_MAX_NEST 1000
#define VM_JSON_MAX_VALUES (1u << 20)

/* PATTERN tree node kinds. */
enum vm_pt_kind { VM_PT_OBJ = 1, VM_PT_FIELD, VM_PT_OR };

/* Key segments of a pattern field at most; tree nodes nest at most
 * twice as deep (each $or adds an OR and an OBJ level). */
#define VM_PATTERN_MAX_DEPTH 64
#define VM_PATTERN_MAX_NEST (2 * VM_PATTERN_MAX_DEPTH + 2)

/* NUMERIC comparison operators, packed into entry word a. */
enum vm_numop { VM_NUM_NONE = 0, VM_NUM_EQ, VM_NUM_LT, VM_NUM_LE,
		VM_NUM_GT, VM_NUM_GE };

#endif
