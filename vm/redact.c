/* redact.c - REDACT: replace what the detectors find inside strings.
 *
 * The detector sets a program names are compiled when it is loaded, once,
 * and shared by its workers; each worker scans with its own vm_dscan.
 * A string is scanned once for all the detectors of its set; the text
 * between findings is copied as it is and each finding is replaced by
 * what the instruction says. A string without findings stays untouched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "detect.h"
#include "detect_impl.h"
#include "exec.h"

#define OPERAND(ops, i) vm_u32((ops) + 4 * (i))

/* ---- detector sets of a program ----------------------------------------- */

static int add_set(struct vm_program *p, uint32_t set, struct vm_error *err)
{
	struct vm_dset **grown;

	if (vm_program_dset(p, set) != NULL)
		return 0;
	grown = scrub_realloc(p->dsets, (p->ndsets + 1) * sizeof *grown);
	if (grown == NULL) {
		snprintf(err->msg, sizeof err->msg, "out of memory");
		return -1;
	}
	p->dsets = grown;
	p->dsets[p->ndsets] = vm_dset_new(set, err->msg, sizeof err->msg);
	if (p->dsets[p->ndsets] == NULL)
		return -1;
	p->ndsets++;
	return 0;
}

int vm_detect_prepare(struct vm_program *p, struct vm_error *err)
{
	uint32_t pc = 0;

	/* The verifier has checked every instruction and 'd' operand. */
	while (pc < p->code_len) {
		enum vm_opcode op = p->code[pc];
		const char *kinds = vm_opinfo[op].operands;

		for (size_t i = 0; kinds[i]; i++)
			if (kinds[i] == 'd' &&
			    add_set(p, vm_u32(p->code + pc + 1 + 4 * i),
				    err) != 0)
				return -1;
		pc += vm_instr_len(op);
	}
	return 0;
}

void vm_detect_release(struct vm_program *p)
{
	for (uint32_t i = 0; i < p->ndsets; i++)
		vm_dset_free(p->dsets[i]);
	free(p->dsets);
	p->dsets = NULL;
	p->ndsets = 0;
}

const struct vm_dset *vm_program_dset(const struct vm_program *p,
				      uint32_t set)
{
	for (uint32_t i = 0; i < p->ndsets; i++)
		if (vm_dset_set(p->dsets[i]) == set)
			return p->dsets[i];
	return NULL;
}

/* ---- replacing findings ------------------------------------------------- */

struct redact {
	struct vm_exec *ex;
	const struct vm_dset *set;
	uint32_t kind;		/* enum vm_redact */
	uint32_t n1, n2;
	const struct vm_const *text;
	/* The string being rewritten into ex->tmp. */
	const char *s;
	size_t done;		/* bytes of s copied or replaced so far */
};

static void replacement(struct redact *rd, uint32_t det, const char *s,
			size_t len)
{
	struct buf *out = &rd->ex->tmp;
	unsigned char mac[32];
	struct vm_rng rng;

	switch (rd->kind) {
	case VM_REDACT_TEXT:
		buf_put(out, rd->text->data, rd->text->len);
		break;
	case VM_REDACT_LABEL:
		buf_putc(out, '<');
		buf_puts(out, vm_detect_label(det));
		buf_putc(out, '>');
		break;
	case VM_REDACT_MASK:
		vm_mask_text(out, s, len, rd->n1, rd->n2, "*", 1);
		break;
	case VM_REDACT_PSEUDONYM:
		/* The same token `pseudonymize` gives: joinable. */
		vm_hmac(rd->ex->p, NULL, s, len, mac);
		vm_hex(out, mac, rd->n1);
		break;
	default:
		vm_hmac(rd->ex->p, "scrub-fake", s, len, mac);
		vm_rng_init(&rng, mac);
		vm_detect_faker(det)(out, s, len, &rng);
		break;
	}
}

static int on_finding(void *ctx, const struct vm_finding *f)
{
	struct redact *rd = ctx;

	buf_put(&rd->ex->tmp, rd->s + rd->done, f->start - rd->done);
	replacement(rd, f->det, rd->s + f->start, f->end - f->start);
	rd->done = f->end;
	return 0;
}

/* Rewrite `s` into ex->tmp with every finding replaced. */
static int redact_text(struct vm_exec *ex, const char *s, size_t len,
		       struct redact *rd)
{
	uint64_t work = 0;
	int rc;

	rd->s = s;
	rd->done = 0;
	rc = vm_detect_scan(rd->set, ex->dscan, s, len, on_finding, rd,
			    &work);
	if (rc < 0)
		return vm_regex_failed(ex, "redact: the detectors", rc,
				       VM_DETECT_MATCH_LIMIT);
	buf_put(&ex->tmp, s + rd->done, len - rd->done);
	return vm_charge(ex, work);
}

static int redact_value(struct vm_exec *ex, const unsigned char *ops,
			const char *s, size_t len, void *ctx)
{
	(void)ops;
	return redact_text(ex, s, len, ctx);
}

/* Give member `r` the key in ex->tmp, or, when a sibling already has
 * that key, the first of KEY#2, KEY#3... that none has: an object never
 * ends up with a key twice. */
static int rename_member(struct vm_exec *ex, json_ref r)
{
	struct json_doc *d = &ex->doc;
	json_ref parent = d->nodes[r].parent, other;
	size_t base = ex->tmp.len;

	for (uint32_t n = 2;; n++) {
		char suffix[16];

		other = json_member(d, parent, ex->tmp.data, ex->tmp.len);
		if (buf_failed(&ex->tmp))
			return vm_reject(ex, VM_R_MEMORY, "REDACT result "
					 "larger than %u bytes",
					 ex->lim.max_memory);
		if (other == 0 || other == r)
			break;
		if (vm_charge(ex, 1) != 0)
			return -1;
		ex->tmp.len = base;
		snprintf(suffix, sizeof suffix, "#%u", n);
		buf_puts(&ex->tmp, suffix);
	}
	if (json_rename(d, r, ex->tmp.data, ex->tmp.len) != 0)
		return vm_doc_failed(ex);
	vm_changed(ex, OP_REDACT, r, 0);
	return 0;
}

/* `and keys`: the keys of the members the path selects. */
static int redact_keys(struct vm_exec *ex, const unsigned char *ops,
		       struct redact *rd)
{
	const struct vm_path *path = &ex->p->paths[OPERAND(ops, 0)];
	struct json_doc *d = &ex->doc;
	uint32_t first, count;

	if (vm_select(ex, path, path->nsegs, &first, &count) != 0)
		return -1;
	for (uint32_t i = 0; i < count; i++) {
		json_ref r = ex->set[first + i];
		const char *k;
		size_t len;

		if (json_type_of(d, d->nodes[r].parent) != JSON_OBJECT)
			continue;
		k = json_key(d, r, &len);
		if (k == NULL)
			return vm_doc_failed(ex);
		buf_reset(&ex->tmp);
		if (vm_charge(ex, 1 + len / 64) != 0 ||
		    redact_text(ex, k, len, rd) != 0)
			return -1;
		if (ex->tmp.len == len && memcmp(ex->tmp.data, k, len) == 0)
			continue;
		if (rename_member(ex, r) != 0)
			return -1;
	}
	return 0;
}

int vm_op_redact(struct vm_exec *ex, const unsigned char *ops)
{
	uint32_t how = OPERAND(ops, 2), text = OPERAND(ops, 5);
	struct redact rd = {
		.ex = ex,
		.set = vm_program_dset(ex->p, OPERAND(ops, 1)),
		.kind = how & ~(uint32_t)VM_REDACT_KEYS,
		.n1 = OPERAND(ops, 3),
		.n2 = OPERAND(ops, 4),
		.text = text == VM_NONE ? NULL : &ex->p->consts[text],
	};
	uint32_t base = ex->set_len;

	if (vm_each_value(ex, OP_REDACT, ops, OPERAND(ops, 6),
			  1u << JSON_STRING, JSON_STRING, redact_value,
			  &rd) != 0)
		return -1;
	if (!(how & VM_REDACT_KEYS))
		return 0;
	ex->set_len = base;
	return redact_keys(ex, ops, &rd);
}
