/* replay_pipe.c - read, scrub on N threads, hand back in input order.
 *
 * The chunks form a ring. Chunk k is filled by the reader, scrubbed by
 * whichever worker claims it, and taken back by the caller in the order
 * k = 0, 1, 2...: so the output keeps the input's order however the
 * workers interleave. A full ring stops the reader; that bounds memory.
 * One mutex guards the ring's states; a chunk's contents belong to
 * whoever moved it to its current state.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../../vm/alloc.h"
#include "replay.h"

enum { CH_FREE, CH_READY, CH_BUSY, CH_DONE };

/* A chunk closes at this many bytes or lines: large enough that locking
 * costs nothing, small enough to keep every worker busy. */
#define CHUNK_BYTES (512u * 1024)
#define CHUNK_LINES 2048u

struct rp_pipe {
	const struct rp_config *cfg;
	pthread_mutex_t mu;
	pthread_cond_t cv_reader, cv_worker, cv_taker;
	struct rp_chunk *ring;
	size_t nring;
	uint64_t filled;	/* chunks the reader has filled */
	uint64_t claimed;	/* chunks workers have claimed */
	uint64_t taken;		/* chunks the caller has taken */
	int eof;		/* the reader is done: `filled` is final */
	int stop;
	pthread_t reader, *workers;
	int nworkers, reader_started;
	atomic_int reader_done;
	_Atomic uint64_t raw_done;	/* bytes of the inputs closed */
	_Atomic uint64_t raw_cur;	/* bytes of the current one */
	uint64_t raw_total;
};

/* ---- the reader ---------------------------------------------------------- */

/* Wait for the next ring slot to be free; NULL once stopped. */
static struct rp_chunk *slot_for_fill(struct rp_pipe *p)
{
	struct rp_chunk *c;

	pthread_mutex_lock(&p->mu);
	c = &p->ring[p->filled % p->nring];
	while (!p->stop && c->state != CH_FREE)
		pthread_cond_wait(&p->cv_reader, &p->mu);
	pthread_mutex_unlock(&p->mu);
	if (p->stop)
		return NULL;
	c->nlines = 0;
	c->err = 0;
	c->errmsg[0] = '\0';
	buf_reset(&c->in);
	buf_reset(&c->out);
	return c;
}

static void publish(struct rp_pipe *p, struct rp_chunk *c)
{
	static const char zeros[64];

	/* Initialised bytes after the last line: SIMD code (PCRE2's JIT)
	 * reads whole aligned blocks past a subject's end and ignores the
	 * excess; valgrind would see uninitialised memory there. */
	buf_put(&c->in, zeros, sizeof zeros);
	if (!buf_failed(&c->in))
		c->in.len -= sizeof zeros;
	pthread_mutex_lock(&p->mu);
	c->state = CH_READY;
	p->filled++;
	pthread_cond_signal(&p->cv_worker);
	pthread_mutex_unlock(&p->mu);
}

/* Append one line; -1 when out of memory. */
static int add_line(struct rp_chunk *c, const struct ndjson *r,
		    const char *line, size_t len, int too_long)
{
	struct rp_line *l;

	if (c->nlines == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct rp_line *n = scrub_realloc(c->lines, cap * sizeof *n);

		if (n == NULL)
			return -1;
		c->lines = n;
		c->cap = cap;
	}
	l = &c->lines[c->nlines];
	memset(l, 0, sizeof *l);
	l->off = c->in.len;
	l->len = len;
	l->line = r->line;
	l->end = ndjson_offset(r);
	/* Too long: a reject with no bytes; the worker tells it by this. */
	l->kind = too_long ? RL_REJECT : RL_SKIP;
	buf_put(&c->in, line, len);
	if (buf_failed(&c->in))
		return -1;
	c->nlines++;
	return 0;
}

/* The reader's place: the chunk being filled. */
struct filling {
	struct rp_pipe *p;
	struct rp_chunk *c;
	int input;
	const struct ndjson *r;
};

/* Hand the chunk on and take the next slot; -1 once stopped. */
static int next_chunk(struct filling *f)
{
	atomic_store(&f->p->raw_cur, ndjson_raw_offset(f->r));
	publish(f->p, f->c);
	if ((f->c = slot_for_fill(f->p)) == NULL)
		return -1;
	f->c->input = f->input;
	return 0;
}

/* Before a read that may block (a pipe, a terminal), the lines read so
 * far go on: a slow producer does not hold events back. */
static void before_read(void *ctx)
{
	struct filling *f = ctx;

	if (f->c && f->c->nlines)
		next_chunk(f);
}

/* Open an input, at `offset` when resuming. Returns 0, or -1 with the
 * error in the chunk. */
static int open_input(struct ndjson *r, struct rp_chunk *c,
		      const char *name, size_t max_line, uint64_t offset)
{
	if (ndjson_open(r, name, max_line) != 0) {
		c->err = errno;
		snprintf(c->errmsg, sizeof c->errmsg, "cannot open '%s': %s",
			 name, strerror(errno));
		return -1;
	}
	if (offset && ndjson_skip(r, offset) != 0) {
		c->err = errno;
		snprintf(c->errmsg, sizeof c->errmsg, "cannot resume '%s' at "
			 "byte %llu: %s", name, (unsigned long long)offset,
			 ndjson_strerror(r, errno));
		ndjson_close(r);
		return -1;
	}
	return 0;
}

/* Read one input into chunks. Returns 0, or -1 after publishing a chunk
 * that carries the error (or when stopped). */
static int read_input(struct rp_pipe *p, int input, uint64_t offset,
		      unsigned long line0)
{
	const char *name = p->cfg->inputs[input], *line;
	struct ndjson r;
	struct filling f = { p, slot_for_fill(p), input, &r };
	size_t len;
	int rc, too_long;

	if (f.c == NULL)
		return -1;
	f.c->input = input;
	if (open_input(&r, f.c, name, p->cfg->max_event, offset) != 0) {
		publish(p, f.c);
		return -1;
	}
	r.line = line0;
	r.before_read = before_read;
	r.ctx = &f;
	while ((rc = ndjson_next(&r, &line, &len, &too_long)) > 0) {
		if (f.c == NULL)
			break;		/* stopped */
		if (add_line(f.c, &r, line, len, too_long) != 0) {
			rc = -1;
			errno = ENOMEM;
			break;
		}
		if (f.c->in.len < CHUNK_BYTES && f.c->nlines < CHUNK_LINES)
			continue;
		if (next_chunk(&f) != 0)
			break;
	}
	if (rc < 0 && f.c) {
		f.c->err = errno ? errno : EIO;
		snprintf(f.c->errmsg, sizeof f.c->errmsg, "error reading '%s': "
			 "%s", name, ndjson_strerror(&r, errno));
	}
	atomic_fetch_add(&p->raw_done, ndjson_raw_offset(&r));
	atomic_store(&p->raw_cur, 0);
	ndjson_close(&r);
	/* An empty chunk is not published: the slot stays free. */
	if (f.c && (f.c->nlines || f.c->err))
		publish(p, f.c);
	return rc < 0 || f.c == NULL ? -1 : 0;
}

static void *reader_main(void *arg)
{
	struct rp_pipe *p = arg;
	const struct rp_config *cfg = p->cfg;

	for (int i = cfg->first_input; i < cfg->ninputs; i++) {
		int first = i == cfg->first_input;

		if (read_input(p, i, first ? cfg->first_offset : 0,
			       first ? cfg->first_line : 0) != 0)
			break;
	}
	pthread_mutex_lock(&p->mu);
	p->eof = 1;
	pthread_cond_broadcast(&p->cv_worker);
	pthread_cond_broadcast(&p->cv_taker);
	pthread_mutex_unlock(&p->mu);
	atomic_store(&p->reader_done, 1);
	return NULL;
}

/* ---- the workers --------------------------------------------------------- */

struct worker {
	struct rp_pipe *p;
	scrub_worker *sw;
	struct json_doc doc;	/* the time look-up and the entries */
	struct buf entry;
	char bus_json[4096];
};

static void reject(struct rp_chunk *c, struct rp_line *l, const char *code,
		   const char *msg)
{
	l->kind = RL_REJECT;
	l->name = code;
	l->out = c->out.len;
	l->outlen = strlen(msg);
	buf_put(&c->out, msg, l->outlen);
}

/* Is the event inside the window? 1 yes, 0 no (dropped), -1 no time
 * (rejected), 2 when the event is not JSON: the policy run rejects it. */
static int in_window(struct worker *w, const char *ev, size_t len)
{
	const struct rp_config *cfg = w->p->cfg;
	const char *s;
	size_t slen;
	struct rp_time t;
	json_ref r;

	if (!rp_find_time(ev, len, &s, &slen)) {
		/* The slow way decides the unusual cases exactly. */
		if (json_parse(&w->doc, ev, len, 0, 0) != JSON_OK ||
		    json_type_of(&w->doc, w->doc.root) != JSON_OBJECT)
			return 2;
		r = json_member(&w->doc, w->doc.root, "time", 4);
		if (json_type_of(&w->doc, r) != JSON_STRING ||
		    (s = json_string(&w->doc, r, &slen)) == NULL)
			return -1;
	}
	if (rp_time_parse(s, slen, &t) != 0)
		return -1;
	if (cfg->has_from && rp_time_cmp(&t, &cfg->from) < 0)
		return 0;
	if (cfg->has_to && rp_time_cmp(&t, &cfg->to) >= 0)
		return 0;
	return 1;
}

/* Keep an emitted event: the line itself, or its PutEvents entry. */
static void emit(struct worker *w, struct rp_chunk *c, struct rp_line *l,
		 const char *ev, size_t len)
{
	const struct rp_config *cfg = w->p->cfg;
	const char *code;
	char msg[256];
	uint32_t size;

	if (cfg->bus == NULL) {
		l->kind = RL_EMIT;
		l->out = c->out.len;
		l->outlen = len + 1;
		buf_put(&c->out, ev, len);
		buf_putc(&c->out, '\n');
		return;
	}
	buf_reset(&w->entry);
	if (rp_entry(&w->doc, ev, len, w->bus_json, &w->entry, &size, &code,
		     msg, sizeof msg) != 0) {
		reject(c, l, code, msg);
		return;
	}
	if (size >= cfg->max_request) {
		snprintf(msg, sizeof msg, "the PutEvents entry is %u bytes, "
			 "the limit per call is %llu", size,
			 (unsigned long long)cfg->max_request);
		reject(c, l, "entry_too_large", msg);
		return;
	}
	l->kind = RL_EMIT;
	l->size = size;
	l->out = c->out.len;
	l->outlen = w->entry.len;
	buf_put(&c->out, w->entry.data, w->entry.len);
}

static void scrub_line(struct worker *w, struct rp_chunk *c,
		       struct rp_line *l)
{
	const struct rp_config *cfg = w->p->cfg;
	const char *ev = c->in.data + l->off;
	struct scrub_result r;
	char msg[256];
	int win = 1;

	if (l->kind == RL_REJECT) {
		snprintf(msg, sizeof msg, "event longer than %zu bytes",
			 cfg->max_event);
		reject(c, l, "limit_size", msg);
		return;
	}
	if (cli_blank(ev, l->len))
		return;
	if (cfg->has_from || cfg->has_to)
		win = in_window(w, ev, l->len);
	if (win == 0) {
		l->kind = RL_DROP;
		l->name = "window";
		return;
	}
	if (win < 0) {
		reject(c, l, "invalid_time", "the event's time is missing or "
		       "not an RFC 3339 date-time");
		return;
	}
	switch (scrub_run(w->sw, ev, l->len, &r)) {
	case SCRUB_EMIT:
		emit(w, c, l, r.out, r.out_len);
		return;
	case SCRUB_DROP:
		l->kind = RL_DROP;
		l->name = r.reason;
		return;
	case SCRUB_REJECT:
		reject(c, l, r.code, cli_reject_message(ev, l->len, r.code,
			r.message, msg, sizeof msg));
		l->rule = r.rule;
		l->pfile = r.policy_file;
		l->pline = r.policy_line;
		return;
	}
}

/* Claim the next filled chunk; NULL when there is no more work. */
static struct rp_chunk *claim(struct rp_pipe *p)
{
	struct rp_chunk *c = NULL;

	pthread_mutex_lock(&p->mu);
	while (!p->stop && p->claimed == p->filled && !p->eof)
		pthread_cond_wait(&p->cv_worker, &p->mu);
	if (!p->stop && p->claimed < p->filled) {
		c = &p->ring[p->claimed % p->nring];
		c->state = CH_BUSY;
		p->claimed++;
	}
	pthread_mutex_unlock(&p->mu);
	return c;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct rp_pipe *p = w->p;
	struct rp_chunk *c;

	while ((c = claim(p)) != NULL) {
		for (size_t i = 0; i < c->nlines; i++) {
			scrub_line(w, c, &c->lines[i]);
			if (!buf_failed(&c->out))
				continue;
			/* The lines before this one stand; the run stops
			 * after them with the error. */
			c->nlines = i;
			c->err = ENOMEM;
			snprintf(c->errmsg, sizeof c->errmsg, "out of memory "
				 "holding scrubbed events");
		}
		pthread_mutex_lock(&p->mu);
		c->state = CH_DONE;
		pthread_cond_broadcast(&p->cv_taker);
		pthread_mutex_unlock(&p->mu);
	}
	return w;	/* freed by rp_free after the join */
}

static struct worker *worker_new(struct rp_pipe *p)
{
	const struct rp_config *cfg = p->cfg;
	struct json_limits jl = { cfg->lim->max_depth, cfg->lim->max_values,
				  cfg->lim->max_memory };
	struct worker *w = scrub_calloc(1, sizeof *w);
	struct buf bus;

	if (w == NULL)
		return NULL;
	w->p = p;
	buf_init(&w->entry, RP_ENTRY_TEXT_MAX(cfg->max_request));
	buf_init_fixed(&bus, w->bus_json, sizeof w->bus_json - 1);
	if (cfg->bus)
		json_encode_string(&bus, cfg->bus, strlen(cfg->bus));
	bus.data[bus.len] = '\0';
	w->sw = scrub_worker_new(cfg->prog, cfg->lim);
	if (w->sw == NULL || json_doc_init(&w->doc, &jl) != 0 ||
	    buf_failed(&bus)) {
		scrub_worker_free(w->sw);
		free(w);
		return NULL;
	}
	return w;
}

static void worker_free(struct worker *w)
{
	scrub_worker_free(w->sw);
	json_doc_free(&w->doc);
	buf_free(&w->entry);
	free(w);
}

/* ---- the caller's side --------------------------------------------------- */

int rp_next(struct rp_pipe *p, struct rp_chunk **out, int wait_ms)
{
	struct rp_chunk *c;
	struct timespec until;
	int rc = -1;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += (long)wait_ms * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		c = &p->ring[p->taken % p->nring];
		if (p->stop || (p->eof && p->taken == p->filled)) {
			rc = 0;
			break;
		}
		if (p->taken < p->filled && c->state == CH_DONE) {
			p->taken++;
			*out = c;
			rc = 1;
			break;
		}
		if (pthread_cond_timedwait(&p->cv_taker, &p->mu, &until) != 0)
			break;
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

void rp_release(struct rp_pipe *p, struct rp_chunk *c)
{
	pthread_mutex_lock(&p->mu);
	c->state = CH_FREE;
	pthread_cond_signal(&p->cv_reader);
	pthread_mutex_unlock(&p->mu);
}

void rp_stop(struct rp_pipe *p)
{
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv_reader);
	pthread_cond_broadcast(&p->cv_worker);
	pthread_cond_broadcast(&p->cv_taker);
	pthread_mutex_unlock(&p->mu);
}

uint64_t rp_bytes_read(struct rp_pipe *p)
{
	return atomic_load(&p->raw_done) + atomic_load(&p->raw_cur);
}

uint64_t rp_bytes_total(const struct rp_pipe *p)
{
	return p->raw_total;
}

/* The inputs' total size, when every one is a regular file. */
static uint64_t total_size(const struct rp_config *cfg)
{
	uint64_t sum = 0;
	struct stat st;

	for (int i = cfg->first_input; i < cfg->ninputs; i++) {
		if (strcmp(cfg->inputs[i], "-") == 0 ||
		    stat(cfg->inputs[i], &st) != 0 || !S_ISREG(st.st_mode))
			return 0;
		sum += (uint64_t)st.st_size;
	}
	return sum;
}

/* SIGUSR1 only interrupts the reader's read(). */
static void on_wake(int sig)
{
	(void)sig;
}

static int start_threads(struct rp_pipe *p)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_wake;	/* no SA_RESTART: read() returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	for (int i = 0; i < p->cfg->threads; i++) {
		struct worker *w = worker_new(p);

		if (w == NULL) {
			cli_error("out of memory starting worker %d", i + 1);
			return -1;
		}
		if (pthread_create(&p->workers[i], NULL, worker_main, w)) {
			worker_free(w);
			cli_error("cannot start worker %d", i + 1);
			return -1;
		}
		p->nworkers++;
	}
	if (pthread_create(&p->reader, NULL, reader_main, p) != 0) {
		cli_error("cannot start the reader thread");
		return -1;
	}
	p->reader_started = 1;
	return 0;
}

int rp_start(struct rp_pipe **out, const struct rp_config *cfg)
{
	struct rp_pipe *p = scrub_calloc(1, sizeof *p);

	*out = p;
	if (p == NULL)
		goto nomem;
	p->cfg = cfg;
	p->nring = (size_t)cfg->threads * 2 + 2;
	p->ring = scrub_calloc(p->nring, sizeof *p->ring);
	p->workers = scrub_calloc((size_t)cfg->threads, sizeof *p->workers);
	if (p->ring == NULL || p->workers == NULL)
		goto nomem;
	for (size_t i = 0; i < p->nring; i++) {
		buf_init(&p->ring[i].in, (size_t)1 << 31);
		buf_init(&p->ring[i].out, (size_t)1 << 40);
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv_reader, NULL);
	pthread_cond_init(&p->cv_worker, NULL);
	pthread_cond_init(&p->cv_taker, NULL);
	p->raw_total = total_size(cfg);
	return start_threads(p);
nomem:
	cli_error("out of memory");
	return -1;
}

/* A reader blocked reading a pipe or a terminal never sees the stop:
 * interrupt its read (EINTR) until it notices. */
static void join_reader(struct rp_pipe *p)
{
	while (!atomic_load(&p->reader_done)) {
		pthread_kill(p->reader, SIGUSR1);
		rp_sleep(0.01);
	}
	pthread_join(p->reader, NULL);
}

void rp_free(struct rp_pipe *p)
{
	if (p == NULL)
		return;
	if (p->ring && p->workers) {
		rp_stop(p);
		if (p->reader_started)
			join_reader(p);
		for (int i = 0; i < p->nworkers; i++) {
			void *w;

			pthread_join(p->workers[i], &w);
			worker_free(w);
		}
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv_reader);
		pthread_cond_destroy(&p->cv_worker);
		pthread_cond_destroy(&p->cv_taker);
	}
	for (size_t i = 0; p->ring && i < p->nring; i++) {
		free(p->ring[i].lines);
		buf_free(&p->ring[i].in);
		buf_free(&p->ring[i].out);
	}
	free(p->ring);
	free(p->workers);
	free(p);
}
