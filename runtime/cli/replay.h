/* replay.h - the parts of `scrub replay`: RFC 3339 time stamps, the
 * pipeline that reads and scrubs events on several threads and hands them
 * back in input order, the PutEvents sink, and the report (progress bar,
 * summary, stats, checkpoint).
 *
 * Threads: one reader fills chunks of lines, N workers scrub whole chunks
 * (each with its own scrub_worker over the one shared program), and the
 * caller's thread takes the chunks back in order and feeds the sink. Only
 * the caller's thread prints or touches the sink.
 */
#ifndef SCRUB_REPLAY_H
#define SCRUB_REPLAY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "../../vm/buf.h"
#include "../../vm/json.h"
#include "cli.h"

/* ---- time stamps (replay_time.c) ----------------------------------------- */

struct rp_time {
	int64_t sec;		/* seconds since 1970-01-01T00:00:00Z */
	int32_t nsec;
};

/* Parse an RFC 3339 date-time (section 5.6: "2023-04-21T14:00:00Z",
 * fractions and numeric offsets allowed). Returns 0, or -1 if it is not
 * one. */
int rp_time_parse(const char *s, size_t len, struct rp_time *t);

int rp_time_cmp(const struct rp_time *a, const struct rp_time *b);

/* Find the top-level "time" member of an event without parsing all of
 * it. Returns 1 with the string's body (no escapes in it) in *s and *len,
 * or 0 when a full parse has to decide: no such member, more than one,
 * escapes, not a string, or text that is not plainly an object. */
int rp_find_time(const char *ev, size_t len, const char **s, size_t *slen);

/* ---- the pipeline (replay_pipe.c) ---------------------------------------- */

enum rp_kind { RL_SKIP, RL_EMIT, RL_DROP, RL_REJECT };

/* One input line, and once scrubbed, what became of it. */
struct rp_line {
	uint64_t end;		/* offset past the line in its input */
	unsigned long line;	/* line number in its input */
	size_t off, len;	/* the line in chunk->in */
	size_t out, outlen;	/* EMIT: the event line or the PutEvents
				 * entry; REJECT: the message; in chunk->out */
	uint32_t size;		/* EMIT to a bus: entry size (AWS
				 * formula) */
	uint8_t kind;		/* enum rp_kind */
	const char *name;	/* DROP: reason; REJECT: code (static or the
				 * program's: lives as long as the program) */
	const char *rule, *pfile;	/* REJECT: where in the policy */
	unsigned pline;
};

/* Lines of one input, in order. A read error ends the stream after the
 * chunk that carries it. */
struct rp_chunk {
	int input;		/* index into the inputs */
	int state;		/* the pipeline's */
	int err;		/* a read or open error after these lines */
	char errmsg[256];
	struct rp_line *lines;
	size_t nlines, cap;
	struct buf in, out;
};

struct rp_config {
	const scrub_program *prog;
	const struct scrub_limits *lim;
	char *const *inputs;
	int ninputs;
	int first_input;	/* where to start (resuming) */
	uint64_t first_offset;
	unsigned long first_line;
	size_t max_event;	/* longest line read */
	int threads;
	int has_from, has_to;	/* window: from <= time < to */
	struct rp_time from, to;
	/* Set to make each emitted event a PutEvents entry. */
	const char *bus;
	uint64_t max_request;	/* entry sizes per call stay below this */
};

struct rp_pipe;

/* Start the reader and the workers. Returns 0, or -1 (message printed). */
int rp_start(struct rp_pipe **out, const struct rp_config *cfg);

/* The next chunk in input order: 1 with *c set, 0 at the end of the
 * input (or after rp_stop), -1 when none came within `wait_ms`. */
int rp_next(struct rp_pipe *p, struct rp_chunk **c, int wait_ms);

/* Give a chunk taken with rp_next back to the reader. */
void rp_release(struct rp_pipe *p, struct rp_chunk *c);

/* Stop reading and scrubbing; rp_next then reports the end. */
void rp_stop(struct rp_pipe *p);

/* Join the threads and free everything. */
void rp_free(struct rp_pipe *p);

/* Bytes of the input files read so far (compressed bytes for gzip), and
 * their total size, 0 when unknown (standard input, pipes). */
uint64_t rp_bytes_read(struct rp_pipe *p);
uint64_t rp_bytes_total(const struct rp_pipe *p);

/* Build the PutEvents entry for one scrubbed event into `out`: Time,
 * Source, Resources, DetailType, Detail (the event's detail as a JSON
 * string, byte for byte) and EventBusName (`bus_json`: the name, already
 * a JSON string). Returns 0 with the entry's size by AWS's formula in
 * *size, or -1 with a reject code and message. */
/* The most JSON text entries of `max_request` bytes (by the formula) can
 * take: escaping can make a byte six. */
#define RP_ENTRY_TEXT_MAX(max_request) ((size_t)(max_request) * 6 + 65536)

int rp_entry(struct json_doc *d, const char *ev, size_t len,
	     const char *bus_json, struct buf *out, uint32_t *size,
	     const char **code, char *msg, size_t msglen);

/* ---- the PutEvents sink (sink_eventbridge.c) ----------------------------- */

struct eb_config {
	const char *bus, *region;
	/* NULL: https://events.REGION.amazonaws.com/ */
	const char *endpoint;
	uint64_t max_request;	/* entry sizes per call stay below this */
	unsigned max_entries;	/* per call, at most 10 */
	unsigned connections;	/* calls in flight at once */
	unsigned max_attempts;	/* per entry, the first one included */
	unsigned retry_base_ms, retry_max_ms;
	long timeout_ms;	/* per call */
	double rate;		/* events per second; 0: no cap */
	int dry_run;		/* write the request bodies to dry_out */
	struct output *dry_out;
	struct output *rejects;	/* may be NULL */
	char *const *inputs;	/* input names, for reject records */
	void (*tick)(void *ctx);	/* called while waiting */
	void *tick_ctx;
};

/* What the sink did; `fails` names live until eb_free. */
struct eb_stats {
	uint64_t sent, failed, requests, retried;
	size_t nfails;
	struct scrub_count fails[SCRUB_MAX_REASONS];	/* by error code */
};

struct eb_sink;

/* Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * AWS_SESSION_TOKEN (not needed for a dry run). */
int eb_open(struct eb_sink **out, const struct eb_config *cfg, char *err,
	    size_t errlen);

/* Add one entry (copied). May wait for a free batch, sending meanwhile.
 * Returns 0, or -1 once the sink has failed for good (eb_fatal). */
int eb_put(struct eb_sink *s, const char *entry, size_t len, uint32_t size,
	   int input, unsigned long line);

/* Move calls along without waiting (between chunks). */
void eb_poll(struct eb_sink *s);

/* Send what is batched and wait for every call to end, retries
 * included; with `abandon` set, entries waiting for a retry go to the
 * rejects instead. Returns 0, or -1 when the sink failed for good. */
int eb_flush(struct eb_sink *s, const volatile sig_atomic_t *abandon);

/* Why the sink stopped for good, or NULL. */
const char *eb_fatal(const struct eb_sink *s);

void eb_stats_get(const struct eb_sink *s, struct eb_stats *st);
void eb_free(struct eb_sink *s);

/* ---- the report (replay_report.c) ---------------------------------------- */

/* Everything counted, for the summary, --stats and the checkpoint. */
struct rp_counts {
	struct scrub_counters run;	/* read, emitted, dropped, rejected */
	struct eb_stats sink;
	uint64_t bytes;			/* input bytes read, unzipped */
};

/* Add `from` into `into`; names are shared, not copied. */
void rp_counts_add(struct rp_counts *into, const struct rp_counts *from);

struct rp_progress {
	int on;			/* drawing (stderr is a terminal) */
	double start, last;
	int drawn;
};

/* Monotonic seconds; sleep for some. */
double rp_now(void);
void rp_sleep(double seconds);
void rp_progress_draw(struct rp_progress *pr, const struct rp_counts *c,
		      uint64_t read, uint64_t total, int force);
void rp_progress_clear(struct rp_progress *pr);

/* Where a run stopped, and the counts up to there. */
struct rp_checkpoint {
	int input;		/* index of the input to go on with */
	uint64_t offset;	/* in that input, unzipped */
	unsigned long line;	/* lines of that input already read */
	int complete;		/* every input was read to its end */
	uint64_t output_bytes, rejects_bytes;	/* file sizes then */
	struct rp_counts counts;
};

/* The counts as the members of a JSON object (no braces). */
void rp_counts_json(struct buf *b, const struct rp_counts *c,
		    const char *sink);

/* --stats: the counts, how the run ended ("complete", "interrupted",
 * "failed") and its wall time. Returns 0, or -1 with a message printed. */
int rp_stats_write(const char *path, const struct rp_counts *c,
		   const char *sink, const char *outcome, double seconds);

/* What a checkpoint is for: a resume must name the same inputs, window
 * and output files ("" for none). */
struct rp_identity {
	char *const *inputs;
	int ninputs;
	const char *window, *output, *rejects;
};

/* Write a checkpoint (to a temporary file, then renamed over `path`).
 * Returns 0, or -1 with a message printed. */
int rp_checkpoint_write(const char *path, const struct rp_checkpoint *cp,
			const struct rp_identity *id, const char *sink);

/* Read one back, checking that it was made for the same `id`. Names in
 * its counts are allocated; rp_checkpoint_free frees them. Returns 0,
 * or -1 with a message printed. */
int rp_checkpoint_read(const char *path, struct rp_checkpoint *cp,
		       const struct rp_identity *id);
void rp_checkpoint_free(struct rp_checkpoint *cp);

#endif
