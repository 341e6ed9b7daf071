/* scrub.h - embed scrub: load a policy, run events through it.
 *
 *   scrub_program *p;
 *   scrub_program_open("orders.scrubc", &p, NULL, NULL, err, sizeof err);
 *   scrub_program_set_key(p, key, keylen);          // if it pseudonymizes
 *   scrub_worker *w = scrub_worker_new(p, NULL);     // one per thread
 *   scrub_run(w, event, len, &result);               // emit, drop, reject
 *
 * A program is read-only once set up (parameters and key bound), so any
 * number of workers on any threads may share it. A worker belongs to one
 * thread at a time. The library never prints: errors come back as text,
 * compiler diagnostics through a callback.
 *
 * Ownership: the caller frees what it creates (scrub_program_free,
 * scrub_worker_free). Result pointers belong to the worker and stay valid
 * until its next run.
 */
#ifndef SCRUB_H
#define SCRUB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct scrub_program scrub_program;
typedef struct scrub_worker scrub_worker;

/* Per-event limits (default; range); an event needing more is rejected,
 * never emitted. A worker is refused limits outside their range. */
struct scrub_limits {
	uint32_t max_depth;	/* nesting of objects and arrays (1000;
				 * 1..100000) */
	uint32_t max_values;	/* JSON values in one event (262144;
				 * 1..2^26) */
	uint32_t max_memory;	/* bytes of new text per event (8 MiB;
				 * 1..2^30) */
	uint32_t max_output;	/* bytes of one output event (4 MiB;
				 * 1..2^30) */
	uint64_t max_steps;	/* work units per event (10,000,000;
				 * 1..2^63-1) */
	int lazy_validation;	/* see below (0) */
};

/* With lazy_validation set, an event is parsed only as far as the policy
 * reads it before deciding. Events that are emitted, edited or rejected
 * are still validated whole; an event the policy drops early is not, so
 * malformed JSON after the fields that decided it counts as a drop, not a
 * reject. For bulk replays where most events are sampled out. */

void scrub_limits_default(struct scrub_limits *l);

/* Receives each compiler diagnostic, rendered like gcc's. */
typedef void (*scrub_diag_fn)(void *ctx, const char *text);

/* Load compiled bytecode (verified before it is accepted). */
int scrub_program_load(const void *bytecode, size_t len, scrub_program **out,
		       char *err, size_t errlen);

/* Load a file: compiled bytecode, or .scrub source compiled on the way
 * (its diagnostics go to `diag`, which may be NULL). */
int scrub_program_open(const char *path, scrub_program **out,
		       scrub_diag_fn diag, void *ctx, char *err,
		       size_t errlen);

void scrub_program_free(scrub_program *p);
const char *scrub_program_name(const scrub_program *p);

/* Bind a parameter (`param NAME = DEFAULT` in the policy). */
int scrub_program_set_param(scrub_program *p, const char *name,
			    const char *value, char *err, size_t errlen);

/* Bind every parameter NAME that has an environment variable
 * SCRUB_<NAME in upper case>. */
int scrub_program_params_from_env(scrub_program *p, char *err,
				  size_t errlen);

/* The i-th parameter (from 0): its name, and the environment variable
 * that sets it (SCRUB_<NAME in upper case>), each into a buffer of `len`
 * bytes. Returns 0, or -1 past the last one or when they do not fit. */
int scrub_program_param_env(const scrub_program *p, size_t i, char *name,
			    char *var, size_t len);

/* Does the policy pseudonymize (and so need a key before running)? */
int scrub_program_needs_key(const scrub_program *p);
void scrub_program_set_key(scrub_program *p, const void *key, size_t len);

/* `limits` may be NULL for the defaults. NULL when out of memory or
 * when a limit is outside its range (struct scrub_limits). */
scrub_worker *scrub_worker_new(const scrub_program *p,
			       const struct scrub_limits *limits);
void scrub_worker_free(scrub_worker *w);

enum scrub_status { SCRUB_EMIT, SCRUB_DROP, SCRUB_REJECT };

struct scrub_result {
	enum scrub_status status;
	const char *out;	/* EMIT: the scrubbed event (no newline) */
	size_t out_len;
	const char *reason;	/* DROP: the rule's reason */
	const char *code;	/* REJECT: stable code, e.g. "invalid_json" */
	const char *message;	/* REJECT: what went wrong; no event data */
	const char *rule;	/* REJECT: the rule running, or NULL */
	const char *policy_file;	/* REJECT: the policy position, */
	unsigned policy_line;		/* when the policy was running */
};

enum scrub_status scrub_run(scrub_worker *w, const char *event, size_t len,
			    struct scrub_result *r);

/* Run `n` events. Emitted events are appended to *out (grown with
 * realloc; the caller frees it), each followed by '\n', and results[i].out
 * points into it. Returns 0, or -1 if *out could not grow. */
struct scrub_event {
	const char *data;
	size_t len;
};
int scrub_run_batch(scrub_worker *w, const struct scrub_event *events,
		    size_t n, struct scrub_result *results, char **out,
		    size_t *out_len, size_t *out_cap);

/* What a worker has seen, by outcome and by reason. A table holds
 * SCRUB_MAX_REASONS - 1 reasons by name; the rest are counted together
 * under SCRUB_OTHER_REASONS. */
#define SCRUB_MAX_REASONS 64
#define SCRUB_OTHER_REASONS "(other reasons)"

struct scrub_count {
	const char *name;
	uint64_t count;
};

struct scrub_counters {
	uint64_t events, emitted, dropped, rejected;
	size_t ndrops, nrejects;
	struct scrub_count drops[SCRUB_MAX_REASONS];	/* by reason */
	struct scrub_count rejects[SCRUB_MAX_REASONS];	/* by code */
};

void scrub_worker_counters(const scrub_worker *w, struct scrub_counters *c);

/* Count a record the host rejected before running it (too large, bad
 * base64...). `code` must outlive the worker: a string literal. */
void scrub_worker_note_reject(scrub_worker *w, const char *code);
/* Count `k` more under `name` in a table of `*n` names (a new name is
 * added while there is room, then counted under SCRUB_OTHER_REASONS).
 * `name` must outlive the table. */
void scrub_count_add(struct scrub_count *tab, size_t *n, const char *name,
		     uint64_t k);
/* Add `from` into `into` (for summing workers). */
void scrub_counters_add(struct scrub_counters *into,
			const struct scrub_counters *from);

#ifdef __cplusplus
}
#endif

#endif
