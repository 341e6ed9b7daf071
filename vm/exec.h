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

/* Look-ups already made for this event (valid while gen matches). 64
 * bits: a worker lives for billions of events, and a wrapped counter
 * would revive an entry whose values the scratch space has reused. */
struct vm_cached {
	uint64_t gen;
	uint32_t first, count;
	uint8_t crossed;	/* a pattern path went through an array */
};

struct vm_exec {
	const struct vm_program *p;
	struct vm_limits lim;
	struct json_doc doc;
	struct vm_val stack[VM_MAX_STACK];

	json_ref *set;		/* node sets selected by paths */
	uint32_t set_len, set_cap;
	struct vm_cached *cache;	/* per path */
	uint64_t gen;		/* bumped when the event changes */
	uint64_t set_gen;	/* the gen ex->set's contents belong to */
	uint8_t crossed;	/* the last vm_select crossed an array */
	uint64_t lookups;	/* vm_select calls, for tests of sharing */
	uint8_t *marks;		/* per node, for KEEP */

	struct buf out;		/* the emitted event */
	struct buf tmp;		/* scratch for one transformed string */
	struct buf where;	/* a path as text, for errors and traces */

	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit;
	struct vm_dscan *dscan;	/* detectors' scanner, if the program
				 * has detector sets */
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

/* Bounds on one match of a policy's regex (vm_exec_new sets them). */
#define VM_REGEX_MATCH_LIMIT 1000000u
#define VM_REGEX_DEPTH_LIMIT 10000u

/* Reject for PCRE2's error `rc` at run time, in plain words: "WHAT hit
 * the match limit (N steps)" (`match_limit`: the one in force), or
 * PCRE2's own message. Returns -1, as vm_reject. */
int vm_regex_failed(struct vm_exec *ex, const char *what, int rc,
		    uint32_t match_limit);

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
 * budget among the start positions (VM_REGEX_MIN_LIMIT to
 * VM_REGEX_MATCH_LIMIT each). Then a hostile pattern costs at most the
 * budget plus VM_REGEX_MIN_LIMIT per byte. Returns the limit set, for
 * vm_regex_failed; under a lowered one, hitting it is limit_steps. */
#define VM_REGEX_MIN_LIMIT 100u
uint32_t vm_regex_budget(struct vm_exec *ex, size_t len);

/* Turn a failed document edit into a reject. */
int vm_doc_failed(struct vm_exec *ex);

/* Select the values at `path`'s first `nsegs` segments into ex->set.
 * Returns 0 with *first and *count set, or -1 (rejected). Sets
 * ex->crossed when a pattern path went through an array. */
int vm_select(struct vm_exec *ex, const struct vm_path *path,
	      uint32_t nsegs, uint32_t *first, uint32_t *count);

/* Append `r` to ex->set; -1 (rejected) when the set is full. */
int vm_set_push(struct vm_exec *ex, json_ref r);

/* Push the values of pattern key `name` in object `obj` onto ex->set,
 * arrays crossed as for a pattern path. */
int vm_pattern_values(struct vm_exec *ex, json_ref obj, const char *name,
		      size_t len, uint32_t *first, uint32_t *count);

/* Node `r`'s location in the event as a path (in ex->where), for
 * traces. Keys can hold personal data, so reject messages never use it:
 * they name the policy's path instead, with vm_path_name(). */
const char *vm_where(struct vm_exec *ex, json_ref r);
const char *vm_path_name(struct vm_exec *ex, const struct vm_path *path);

/* Tell the observer, if any, that an action changed `r` or is about to
 * remove it; and forget look-ups, which may now be stale. Until then they
 * are kept across statements, so patterns share them. */
void vm_changed(struct vm_exec *ex, enum vm_opcode op, json_ref r,
		int removing);

/* The values at program path `path`, looked up once per event until the
 * event changes. Returns 0 with *first and *count set, or -1 (rejected). */
int vm_load_path(struct vm_exec *ex, uint32_t path, uint32_t *first,
		 uint32_t *count);

/* Rewrite the text `s` of one value into ex->tmp. Returns 0 (done), 1
 * (the value does not fit the operator: the reason is in ex->tmp, see
 * vm_mismatch, and the `else` mode applies), 2 (the same, but the value
 * counts as another type: passed over under a wildcard) or -1
 * (rejected). */
typedef int (*vm_value_fn)(struct vm_exec *ex, const unsigned char *ops,
			   const char *s, size_t len, void *ctx);

/* Apply `fn` to each value at the instruction's path (operand 0) whose
 * type is in `want` (bits 1 << JSON_*): a string's decoded text or a
 * number's spelling. The result replaces the value as type `out`, or as
 * the type it had when `out` is JSON_NONE; an unchanged result leaves
 * the value untouched. Null is passed over; other types are passed over
 * under a wildcard path and otherwise get `else_mode`. */
int vm_each_value(struct vm_exec *ex, enum vm_opcode op,
		  const unsigned char *ops, uint32_t else_mode, unsigned want,
		  enum json_type out, vm_value_fn fn, void *ctx);

/* From inside a vm_value_fn: the value does not fit, because `why`
 * (copied into ex->tmp). Returns 1. */
int vm_mismatch(struct vm_exec *ex, const char *why);

/* Mask letters, digits and non-ASCII characters of `s` into `out` by
 * `mch`, keeping the first and last so many of them (none when the value
 * has no more than that). */
void vm_mask_text(struct buf *out, const char *s, size_t len,
		  uint32_t keep_first, uint32_t keep_last, const char *mch,
		  size_t mlen);

/* HMAC-SHA256 under the program's key of `s`, after `domain` and its NUL
 * when `domain` is not NULL; and its first n hex digits. */
void vm_hmac(const struct vm_program *p, const char *domain, const char *s,
	     size_t len, unsigned char mac[32]);
void vm_hex(struct buf *out, const unsigned char *mac, uint32_t n);

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

/* Detectors (redact.c) and the whole-value operators (transform.c). */
int vm_op_redact(struct vm_exec *ex, const unsigned char *ops);
int vm_op_round(struct vm_exec *ex, const unsigned char *ops, int bucket);
int vm_op_shift_date(struct vm_exec *ex, const unsigned char *ops);
int vm_op_truncate(struct vm_exec *ex, const unsigned char *ops);
int vm_op_tokenize(struct vm_exec *ex, const unsigned char *ops);

/* Conditions (match.c). Each returns 0/1, or -1 when rejected. */
int vm_match(struct vm_exec *ex, uint32_t path, const struct vm_const *m);
int vm_match_pattern(struct vm_exec *ex, uint32_t path,
		     const struct vm_const *tree);
int vm_sample(struct vm_exec *ex, const struct vm_const *rate,
	      const struct vm_const *paths);

/* Equality of an event value and a constant, as EventBridge compares
 * exact values: same type, strings by bytes, numbers by spelling. */
int vm_value_is_const(struct vm_exec *ex, json_ref r,
		      const struct vm_const *c);


#endif
