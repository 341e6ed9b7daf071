/* emit.h - build a bytecode image: constants, paths, code, line table.
 *
 * Emitting never fails one call at a time: an allocation failure or a
 * table overflowing its format limit sets a sticky flag that the compiler
 * checks once, at the end (cc_emit_write). Constants and paths are
 * interned, so a value or path used twice is stored once; this is also
 * what lets several patterns share one field look-up at run time.
 */
#ifndef SCRUB_CC_EMIT_H
#define SCRUB_CC_EMIT_H

#include <stddef.h>
#include <stdint.h>

#include "../dsl/ast.h"
#include "../vm/buf.h"
#include "../vm/bytecode.h"
#include "../vm/opcodes.h"

struct cc_blob {
	uint8_t kind;
	uint8_t unique;		/* a parameter's: never shared */
	char *data;
	uint32_t len;
};

/* Where each shared (interned) blob of a table is, by hash: open
 * addressing, a slot holds the blob's index + 1, or 0 when empty. */
struct cc_index {
	uint32_t *slots;
	uint32_t cap;		/* a power of two, or 0 */
};

struct cc_param_entry {
	uint32_t name;		/* string constant */
	uint32_t value;		/* its own, never shared, constant */
	uint32_t flags;
	double min, max;
};

struct cc_emit {
	struct buf code;
	struct cc_blob *consts;
	uint32_t nconsts, consts_cap;
	struct cc_index consts_index;
	struct cc_blob *paths;	/* encoded path entries */
	uint32_t npaths, paths_cap;
	struct cc_index paths_index;
	struct cc_param_entry *params;
	uint32_t nparams;
	uint32_t *lines;	/* triples: pc, file, line */
	uint32_t nlines, lines_cap;
	uint32_t *files;	/* string constants */
	uint32_t nfiles;
	uint32_t name;		/* policy name constant */
	uint32_t flags;		/* VM_META_* */
	uint32_t file, line;	/* position of what is emitted next */
	int failed;
};

void cc_emit_init(struct cc_emit *e);
void cc_emit_free(struct cc_emit *e);

uint32_t cc_const(struct cc_emit *e, uint8_t kind, const void *data,
		  size_t len);
uint32_t cc_const_unique(struct cc_emit *e, uint8_t kind, const void *data,
			 size_t len);
uint32_t cc_string(struct cc_emit *e, const char *s, size_t len);
uint32_t cc_value(struct cc_emit *e, const struct dsl_json *j);
uint32_t cc_path(struct cc_emit *e, const struct dsl_path *p, int mode);
uint32_t cc_pattern_path(struct cc_emit *e, const char *const *keys,
			 const size_t *lens, size_t n);
uint32_t cc_words(struct cc_emit *e, uint8_t kind, const uint32_t *w,
		  size_t n);
uint32_t cc_regex(struct cc_emit *e, const struct dsl_regex *re);
uint32_t cc_file(struct cc_emit *e, const char *name);

/* Emit an instruction; the operands follow as uint32_t, as many as the
 * opcode's layout says. Returns the instruction's pc. */
uint32_t cc_op(struct cc_emit *e, enum vm_opcode op, ...);
uint32_t cc_pc(const struct cc_emit *e);

/* A forward jump: emit it with cc_op and a zero offset, then patch it
 * once the target is known. */
void cc_patch(struct cc_emit *e, uint32_t jump_pc, uint32_t target);

/* Serialize the image (header, checksum, sections) into `out`. */
int cc_emit_write(struct cc_emit *e, struct buf *out);

#endif
