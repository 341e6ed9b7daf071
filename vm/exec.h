/* exec.h - the interpreter's insides, shared by vm.c, path.c, ops.c and
 * match.c. Not a public header: hosts use vm.h. */
#ifndef SCRUB_EXEC_H
#define SCRUB_EXEC_H

#include "ip.h"
#include "vm.h"

enum vm_val_kind { VAL_BOOL, VAL_SET, VAL_CONST };

/* One operand stack slot. A set is a run of node refs in ex->set. */
struct vm_val {
	uint8_t kind;
	uint8_t b;
	uint32_t k;
	uint32_t first, count;
};

/* Look-ups already made for this event (valid while gen matches). */
struct vm_cached {
	uint32_t gen;
	uint32_t first, count;
};

struct vm_exec {
	const struct vm_program *p;
	struct vm_limits lim;
	struct json_doc doc;
	struct vm_val stack[VM_MAX_STACK];

	json_ref *set;		/* node sets selected by paths */
	uint32_t set_len, set_cap;
	struct vm_cached *cache;	/* per path */
	uint32_t gen;		/* bumped when sets or the event change */
	uint8_t *marks;		/* per node, for KEEP */

	struct buf out;		/* the emitted event */
	struct buf tmp;		/* scratch for one transformed string */
	struct buf where;	/* a path as text, for errors and traces */

	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit;
	int re_budgeted;	/* the last regex ran under a lowered limit */

	uint64_t steps;
	uint32_t pc;		/* the instruction running */
	const char *rule;
	struct vm_outcome *o;
	vm_trace_fn trace;
	void *trace_ctx;
};

/* Reject the event: fills the outcome and returns -1, so callers can
 * `return vm_reject(...)`. The message must not contain event data. */
int vm_reject(struct vm_exec *ex, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Charge `n` work units; -1 (event rejected) when over the limit. The
 * document's own look-up and edit work (doc.work) counts too, so every
 * loop over event data is paid for, wherever it runs. */
static inline int vm_charge(struct vm_exec *ex, uint64_t n)
{
	ex->steps += n;
	if (ex->steps + ex->doc.work > ex->lim.max_steps)
		return vm_reject(ex, VM_R_STEPS, "work limit of %llu steps "
				 "exceeded",
				 (unsigned long long)ex->lim.max_steps);
	return 0;
}

/* Before a regex runs over `len` bytes: PCRE2 bounds backtracking per
 * start position, not per call, so share what is left of the step
 * budget among the start positions (VM_RE_MIN..VM_RE_MAX each). Then a
 * hostile pattern costs at most the budget plus VM_RE_MIN per byte. */
#define VM_RE_MIN 100
#define VM_RE_MAX 1000000
void vm_regex_budget(struct vm_exec *ex, size_t len);

/* Reject for a failed PCRE2 call (rc < 0, not "no match"): limit_steps
 * when the budget had lowered the limit, else regex_failed. */
int vm_regex_failed(struct vm_exec *ex, int rc, const char *what);

/* Turn a failed document edit into a reject. */
int vm_doc_failed(struct vm_exec *ex);

/* Select the values at `path`'s first `nsegs` segments into ex->set.
 * Returns 0 with *first and *count set, or -1 (rejected). */
int vm_select(struct vm_exec *ex, const struct vm_path *path,
	      uint32_t nsegs, uint32_t *first, uint32_t *count);

/* Node `r`'s location in the event as a path (in ex->where), for
 * traces. Keys can hold personal data, so reject messages never use it:
 * they name the policy's path instead, with vm_path_name(). */
const char *vm_where(struct vm_exec *ex, json_ref r);
const char *vm_path_name(struct vm_exec *ex, const struct vm_path *path);

/* Tell the observer, if any, that an action changed `r` or is about to
 * remove it; and forget selections, which may now be stale. */
void vm_changed(struct vm_exec *ex, enum vm_opcode op, json_ref r,
		int removing);

/* The values at program path `path`, looked up once per event until the
 * event changes. Returns 0 with *first and *count set, or -1 (rejected). */
int vm_load_path(struct vm_exec *ex, uint32_t path, uint32_t *first,
		 uint32_t *count);

/* The actions (ops.c). Each returns 0, or -1 when the event is rejected.
 * `ops` points at the instruction's operand words. */
int vm_op_set(struct vm_exec *ex, const unsigned char *ops);
int vm_op_delete(struct vm_exec *ex, const unsigned char *ops);
int vm_op_move(struct vm_exec *ex, const unsigned char *ops, int keep);
int vm_op_keep(struct vm_exec *ex, const unsigned char *ops);
int vm_op_mask(struct vm_exec *ex, const unsigned char *ops);
int vm_op_pseudonymize(struct vm_exec *ex, const unsigned char *ops);
int vm_op_replace_re(struct vm_exec *ex, const unsigned char *ops);
int vm_op_replace(struct vm_exec *ex, const unsigned char *ops);
int vm_op_truncate_ip(struct vm_exec *ex, const unsigned char *ops);

/* Conditions (match.c). Each returns 0/1, or -1 when rejected. */
int vm_match(struct vm_exec *ex, uint32_t path, const struct vm_const *m);
int vm_sample(struct vm_exec *ex, const struct vm_const *rate,
	      const struct vm_const *paths);

/* Equality of an event value and a constant, as EventBridge compares
 * exact values: same type, strings by bytes, numbers by spelling. */
int vm_value_is_const(struct vm_exec *ex, json_ref r,
		      const struct vm_const *c);


#endif
