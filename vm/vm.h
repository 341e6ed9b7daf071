/* vm.h - run a verified program over one event at a time.
 *
 * A struct vm_exec is one worker: its document, operand stack, scratch
 * space and regex match data. It is reused event after event and never
 * shared between threads; many workers may share one program.
 *
 * Each run has limits (struct vm_limits). An event that needs more is
 * rejected with the limit named: fail closed, never emitted half-done.
 */
#ifndef SCRUB_VM_H
#define SCRUB_VM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "json.h"
#include "program.h"

struct vm_limits {
	uint32_t max_depth;	/* nesting of objects and arrays */
	uint32_t max_values;	/* JSON values in one event */
	uint32_t max_memory;	/* bytes of new text per event */
	uint32_t max_output;	/* bytes of one output event */
	uint64_t max_steps;	/* work units: instructions, values
				 * visited */
	int lazy;		/* validate only what the policy reads before
				 * it drops an event (json_parse's `lazy`) */
};

/* The defaults: EventBridge's 1000 levels, room for a 1 MB event. */
void vm_limits_default(struct vm_limits *l);

/* The ranges vm_exec_new accepts, from 1 up to these (the hosts offer the
 * same): the worker reserves its space at the limits, and larger ones
 * would not fit its size arithmetic or its step counter. */
#define VM_LIMIT_DEPTH 100000u
#define VM_LIMIT_VALUES (1u << 26)
#define VM_LIMIT_BYTES (1u << 30)	/* max_memory and max_output */
#define VM_LIMIT_STEPS (UINT64_MAX / 2)

enum vm_status { VM_EMIT, VM_DROP, VM_REJECT };

/* Reject codes: stable identifiers, safe to log. */
#define VM_R_INVALID_JSON "invalid_json"
#define VM_R_INVALID_UTF8 "invalid_utf8"
#define VM_R_NOT_OBJECT "not_an_object"
#define VM_R_TOO_DEEP "limit_depth"
#define VM_R_TOO_MANY "limit_values"
#define VM_R_MEMORY "limit_memory"
#define VM_R_OUTPUT "limit_output"
#define VM_R_STEPS "limit_steps"
#define VM_R_TYPE "type_mismatch"
#define VM_R_REGEX "regex_failed"
#define VM_R_NO_KEY "no_key"
#define VM_R_OOM "out_of_memory"
/* scrub's own bug (an instruction the verifier should have refused, a
 * failure without a reason): the event is refused, never emitted. */
#define VM_R_INTERNAL "internal_error"

struct vm_outcome {
	enum vm_status status;
	const char *out;	/* EMIT: the event, valid until the next run */
	size_t out_len;
	const char *reason;	/* DROP: the rule's reason */
	const char *code;	/* REJECT: one of VM_R_* */
	char message[256];	/* REJECT: what and where, no event data */
	const char *rule;	/* REJECT: the rule running, or NULL */
	const char *file;	/* REJECT: policy position, if known */
	uint32_t line;
	size_t offset;		/* REJECT for bad JSON: byte in the
				 * event */
};

/* What the interpreter reports to an optional observer. */
enum vm_trace_kind { VM_TRACE_RULE, VM_TRACE_CHANGE };

struct vm_trace {
	enum vm_trace_kind kind;
	enum vm_opcode op;	/* CHANGE: the action */
	const char *rule;	/* RULE: its name */
	const struct json_doc *doc;
	json_ref node;		/* CHANGE: the value changed or removed */
	int removing;		/* CHANGE: node is about to be removed */
	const char *path;	/* CHANGE: where, as written in the event */
	uint32_t pc;
};

typedef void (*vm_trace_fn)(void *ctx, const struct vm_trace *t);

struct vm_exec;

/* A worker for `p`, or NULL when out of memory or when a limit is out of
 * its range (VM_LIMIT_*). */
struct vm_exec *vm_exec_new(const struct vm_program *p,
			    const struct vm_limits *lim);
void vm_exec_free(struct vm_exec *ex);
void vm_exec_set_trace(struct vm_exec *ex, vm_trace_fn fn, void *ctx);

/* Run the program over one event (`len` bytes of JSON text). The outcome
 * is filled in every case; the return value is its status. */
enum vm_status vm_run(struct vm_exec *ex, const char *event, size_t len,
		      struct vm_outcome *out);

#endif
