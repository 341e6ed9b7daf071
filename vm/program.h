/* program.h - a loaded, verified policy program.
 *
 * vm_load() is the only way to get one: it checks the header, the checksum,
 * every section and every constant, then runs the verifier over the code.
 * Nothing unverified ever reaches the interpreter.
 *
 * A program is immutable while events run, so any number of threads may
 * share one. Parameters and the key are bound before the first run
 * (vm_program_set_param, vm_program_set_key) and are not thread-safe.
 *
 * Ownership: the program keeps its own copy of the file; vm_program_free()
 * releases it and everything derived from it.
 */
#ifndef SCRUB_PROGRAM_H
#define SCRUB_PROGRAM_H

#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <sodium.h>

#include "buf.h"
#include "bytecode.h"
#include "opcodes.h"

/* The deepest operand stack the verifier accepts. */
#define VM_MAX_STACK 64

struct vm_const {
	uint8_t kind;		/* enum vm_const_kind */
	const char *data;	/* payload, in the program's image */
	uint32_t len;
	double num;		/* NUMBER: its value */
	char *json;		/* STRING: canonical JSON text, quoted */
	uint32_t json_len;
	uint32_t count;		/* LIST, PATHLIST, MATCHER: items */
	const unsigned char *items;	/* their u32 words, little-endian */
	pcre2_code *re;		/* REGEX, JIT-compiled when possible */
	uint32_t re_captures;
	char *owned;		/* data replaced by a parameter binding */
};

struct vm_seg {
	uint8_t kind;		/* enum vm_seg_kind */
	const char *name;	/* KEY: decoded UTF-8 */
	uint32_t len;
	uint32_t key;		/* KEY: its string constant */
	int64_t index;
};

struct vm_path {
	uint8_t mode;		/* VM_PATH_PLAIN or VM_PATH_PATTERN */
	uint8_t definite;	/* only KEY and INDEX segments */
	uint32_t nsegs;
	struct vm_seg *segs;
};

struct vm_param {
	const char *name;
	uint32_t name_len;
	uint32_t name_k;	/* the constant holding its name */
	uint32_t konst;		/* the constant holding its value */
	uint32_t flags;
	double min, max;
};

struct vm_line {
	uint32_t pc, file, line;
};

struct vm_program {
	unsigned char *image;	/* the whole file, owned */
	size_t image_len;
	uint16_t minor;
	const char *name;
	uint32_t flags;		/* VM_META_* */
	struct vm_const *consts;
	uint32_t nconsts;
	struct vm_path *paths;
	uint32_t npaths;
	struct vm_param *params;
	uint32_t nparams;
	uint32_t *param_of;	/* per constant: the parameter whose value
				 * it is, or VM_NONE */
	const char **files;
	uint32_t nfiles;
	const unsigned char *code;
	uint32_t code_len;
	struct vm_line *lines;
	uint32_t nlines;
	uint32_t max_stack;	/* found by the verifier */
	uint32_t max_captures;	/* largest capture count of any regex */

	int has_key;
	/* Keyed once, copied for each use. */
	crypto_auth_hmacsha256_state hmac;

	struct vm_dset **dsets;	/* the detector sets REDACT uses,
				 * compiled */
	uint32_t ndsets;
};

/* Why a program was refused: a message and, when it applies, the byte
 * offset in the file (for the header and sections) or the pc. */
struct vm_error {
	char msg[256];
};

/* Load and verify `len` bytes (copied). Returns NULL with `err` filled. */
struct vm_program *vm_load(const void *bytes, size_t len,
			   struct vm_error *err);
void vm_program_free(struct vm_program *p);

/* Bind parameter `name` to `value` (text, parsed as the parameter's type:
 * a number, true/false, or any string). Returns 0, or -1 with `err`. */
int vm_program_set_param(struct vm_program *p, const char *name,
			 const char *value, struct vm_error *err);

/* Is the JSON number `text` a whole number of hundredths: no digit but 0
 * past the second decimal (33.33, 33.330, 3.333e1), as a sample rate
 * must be? */
int vm_number_cents(const char *text, size_t len);

/* Key the pseudonymizing operators. Any length; the key is copied into
 * the HMAC state only. */
void vm_program_set_key(struct vm_program *p, const void *key, size_t len);

/* The policy file and line of the instruction at `pc`, if known. */
int vm_program_line(const struct vm_program *p, uint32_t pc,
		    const char **file, uint32_t *line);

/* Read a little-endian word. */
static inline uint32_t vm_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Check a matcher constant's entries (match.c): called by vm_load. */
int vm_check_matcher(const struct vm_program *p, const struct vm_const *c,
		     struct vm_error *err);

/* Check a PATTERN constant's tree (match.c): called by vm_load. */
int vm_check_pattern(const struct vm_program *p, const struct vm_const *c,
		     struct vm_error *err);

/* Verify the program's code (verify.c): called by vm_load. */
int vm_verify(struct vm_program *p, struct vm_error *err);

/* Compile the detector sets the code names (redact.c): called by vm_load
 * after the verifier; released by vm_program_free. */
int vm_detect_prepare(struct vm_program *p, struct vm_error *err);
void vm_detect_release(struct vm_program *p);
struct vm_dset;
const struct vm_dset *vm_program_dset(const struct vm_program *p,
				      uint32_t set);

/* Print a listing of the whole program (disasm.c). */
void vm_disasm(const struct vm_program *p, struct buf *out);

#endif
