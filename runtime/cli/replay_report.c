/* replay_report.c - what `scrub replay` tells: the progress bar, the
 * counts as JSON (--stats, checkpoints), and checkpoints. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../vm/alloc.h"
#include "../../vm/file.h"
#include "replay.h"

double rp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void rp_sleep(double seconds)
{
	struct timespec ts;

	if (seconds <= 0)
		return;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

static void add_table(struct scrub_count *into, size_t *n,
		      const struct scrub_count *from, size_t nfrom)
{
	for (size_t i = 0; i < nfrom; i++)
		scrub_count_add(into, n, from[i].name, from[i].count);
}

void rp_counts_add(struct rp_counts *into, const struct rp_counts *from)
{
	struct eb_stats *s = &into->sink;

	scrub_counters_add(&into->run, &from->run);
	s->sent += from->sink.sent;
	s->failed += from->sink.failed;
	s->requests += from->sink.requests;
	s->retried += from->sink.retried;
	add_table(s->fails, &s->nfails, from->sink.fails, from->sink.nfails);
	into->bytes += from->bytes;
}

/* ---- the progress bar ---------------------------------------------------- */

static void clock_text(char *s, size_t n, double secs)
{
	unsigned long t = secs > 0 && secs < 1e7 ? (unsigned long)secs : 0;

	snprintf(s, n, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
}

/* "[####......] 42.0% " and "  ETA 0:01:23", when the size is known. */
static void bar_text(char *bar, size_t barlen, char *eta, size_t etalen,
		     uint64_t read, uint64_t total, double secs)
{
	int fill;

	bar[0] = eta[0] = '\0';
	if (total == 0 || read > total)
		return;
	fill = (int)(20.0 * (double)read / (double)total);
	snprintf(bar, barlen, "%.*s%.*s %5.1f%%  ", fill,
		 "####################", 20 - fill, "....................",
		 100.0 * (double)read / (double)total);
	if (read > 0) {
		snprintf(eta, etalen, "  ETA ");
		clock_text(eta + 6, etalen - 6,
			   (double)(total - read) * secs / (double)read);
	}
}

void rp_progress_draw(struct rp_progress *pr, const struct rp_counts *c,
		      uint64_t read, uint64_t total, int force)
{
	double now = rp_now(), secs = now - pr->start;
	char bar[64], eta[32], sent[48] = "";

	if (!pr->on || (!force && now - pr->last < 0.2))
		return;
	pr->last = now;
	if (secs <= 0)
		secs = 1e-9;
	bar_text(bar, sizeof bar, eta, sizeof eta, read, total, secs);
	if (c->sink.requests)
		snprintf(sent, sizeof sent, "  %llu sent",
			 (unsigned long long)c->sink.sent);
	fprintf(stderr, "\r%s%llu events%s  %.0f ev/s  %.1f MB/s%s\033[K",
		bar, (unsigned long long)c->run.events, sent,
		(double)c->run.events / secs, (double)read / secs / 1e6, eta);
	pr->drawn = 1;
}

void rp_progress_clear(struct rp_progress *pr)
{
	if (pr->drawn)
		fputs("\r\033[K", stderr);
	pr->drawn = 0;
}

/* ---- counts as JSON ------------------------------------------------------ */

static void put_u64(struct buf *b, const char *key, uint64_t v)
{
	char num[64];

	snprintf(num, sizeof num, ",\"%s\":%llu", key, (unsigned long long)v);
	buf_puts(b, num);
}

static void put_table(struct buf *b, const char *key,
		      const struct scrub_count *tab, size_t n)
{
	buf_puts(b, ",\"");
	buf_puts(b, key);
	buf_puts(b, "\":{");
	for (size_t i = 0; i < n; i++) {
		char num[32];

		if (i)
			buf_putc(b, ',');
		json_encode_string(b, tab[i].name, strlen(tab[i].name));
		snprintf(num, sizeof num, ":%llu",
			 (unsigned long long)tab[i].count);
		buf_puts(b, num);
	}
	buf_putc(b, '}');
}

void rp_counts_json(struct buf *b, const struct rp_counts *c,
		    const char *sink)
{
	const struct scrub_counters *r = &c->run;

	buf_puts(b, "\"sink\":");
	json_encode_string(b, sink, strlen(sink));
	put_u64(b, "read", r->events);
	put_u64(b, "emitted", r->emitted);
	put_u64(b, "dropped", r->dropped);
	put_table(b, "drops", r->drops, r->ndrops);
	put_u64(b, "rejected", r->rejected);
	put_table(b, "rejects", r->rejects, r->nrejects);
	put_u64(b, "sent", c->sink.sent);
	put_u64(b, "failed", c->sink.failed);
	put_table(b, "failures", c->sink.fails, c->sink.nfails);
	put_u64(b, "requests", c->sink.requests);
	put_u64(b, "retried", c->sink.retried);
	put_u64(b, "bytes", c->bytes);
}

/* ---- checkpoints --------------------------------------------------------- */

/* Write and sync a whole file. Returns 0, or -1 with errno. */
static int write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	return fd < 0 ? -1 : vm_file_write_synced(fd, data, len);
}

static void put_string(struct buf *b, const char *key, const char *v)
{
	buf_puts(b, ",\"");
	buf_puts(b, key);
	buf_puts(b, "\":");
	json_encode_string(b, v, strlen(v));
}

int rp_checkpoint_write(const char *path, const struct rp_checkpoint *cp,
			const struct rp_identity *id, const char *sink)
{
	struct buf b, tmp;
	int rc = -1;

	buf_init(&b, (size_t)1 << 30);
	buf_init(&tmp, 4096);
	buf_puts(&b, "{\"scrub_replay_checkpoint\":1,\"inputs\":[");
	for (int i = 0; i < id->ninputs; i++) {
		if (i)
			buf_putc(&b, ',');
		json_encode_string(&b, id->inputs[i], strlen(id->inputs[i]));
	}
	buf_putc(&b, ']');
	put_string(&b, "window", id->window);
	put_string(&b, "output", id->output);
	put_string(&b, "rejects", id->rejects);
	if (cp->input < id->ninputs)
		put_string(&b, "file", id->inputs[cp->input]);
	else
		buf_puts(&b, ",\"file\":null");
	put_u64(&b, "input", (uint64_t)cp->input);
	put_u64(&b, "offset", cp->offset);
	put_u64(&b, "line", cp->line);
	buf_puts(&b, cp->complete ? ",\"complete\":true" :
		 ",\"complete\":false");
	put_u64(&b, "output_bytes", cp->output_bytes);
	put_u64(&b, "rejects_bytes", cp->rejects_bytes);
	buf_puts(&b, ",\"counts\":{");
	rp_counts_json(&b, &cp->counts, sink);
	buf_puts(&b, "}}\n");

	/* Written aside and renamed over the old one: a crash leaves
	 * either checkpoint whole. */
	buf_puts(&tmp, path);
	buf_puts(&tmp, ".tmp");
	buf_putc(&tmp, '\0');
	if (buf_failed(&b) || buf_failed(&tmp)) {
		errno = ENOMEM;
		goto out;
	}
	rc = write_file(tmp.data, b.data, b.len);
	if (rc == 0 && rename(tmp.data, path) != 0)
		rc = -1;
out:
	if (rc != 0)
		cli_error("cannot write the checkpoint '%s': %s", path,
			  strerror(errno ? errno : EIO));
	buf_free(&b);
	buf_free(&tmp);
	return rc;
}

int rp_stats_write(const char *path, const struct rp_counts *c,
		   const char *sink, const char *outcome, double seconds)
{
	struct buf b;
	char num[64];
	int rc;

	buf_init(&b, (size_t)1 << 20);
	buf_putc(&b, '{');
	rp_counts_json(&b, c, sink);
	buf_puts(&b, ",\"outcome\":");
	json_encode_string(&b, outcome, strlen(outcome));
	snprintf(num, sizeof num, ",\"seconds\":%.3f}\n", seconds);
	buf_puts(&b, num);
	rc = buf_failed(&b) ? -1 : write_file(path, b.data, b.len);
	if (rc != 0)
		cli_error("cannot write the stats '%s': %s", path,
			  buf_failed(&b) ? "out of memory" : strerror(errno));
	buf_free(&b);
	return rc;
}

/* ---- reading a checkpoint back ------------------------------------------- */

/* A whole-number member. */
static int get_u64(struct json_doc *d, json_ref obj, const char *key,
		   uint64_t *v)
{
	json_ref r = json_member(d, obj, key, strlen(key));
	const char *t;
	char num[32];
	size_t n;

	if (json_type_of(d, r) != JSON_NUMBER)
		return -1;
	t = json_text(d, r);
	n = json_node(d, r)->len;
	if (n == 0 || n >= sizeof num || strspn(t, "0123456789") < n)
		return -1;
	memcpy(num, t, n);
	num[n] = '\0';
	*v = strtoull(num, NULL, 10);
	return 0;
}

/* A name -> count table, names copied. */
static int get_table(struct json_doc *d, json_ref obj, const char *key,
		     struct scrub_count *tab, size_t *n)
{
	json_ref t = json_member(d, obj, key, strlen(key));
	uint64_t v;

	*n = 0;
	if (json_type_of(d, t) != JSON_OBJECT)
		return -1;
	for (json_ref r = json_first(d, t); r; r = json_next(d, r)) {
		size_t len;
		const char *name = json_key(d, r, &len);
		char num[32];
		size_t tl = json_node(d, r)->len;

		if (name == NULL || *n == SCRUB_MAX_REASONS ||
		    json_type_of(d, r) != JSON_NUMBER || tl >= sizeof num)
			return -1;
		memcpy(num, json_text(d, r), tl);
		num[tl] = '\0';
		v = strtoull(num, NULL, 10);
		tab[*n].name = scrub_strndup(name, len);
		if (tab[*n].name == NULL)
			return -1;
		tab[(*n)++].count = v;
	}
	return 0;
}

static int get_counts(struct json_doc *d, json_ref c, struct rp_counts *k)
{
	struct scrub_counters *r = &k->run;

	if (json_type_of(d, c) != JSON_OBJECT)
		return -1;
	return get_u64(d, c, "read", &r->events) ||
	       get_u64(d, c, "emitted", &r->emitted) ||
	       get_u64(d, c, "dropped", &r->dropped) ||
	       get_u64(d, c, "rejected", &r->rejected) ||
	       get_u64(d, c, "sent", &k->sink.sent) ||
	       get_u64(d, c, "failed", &k->sink.failed) ||
	       get_u64(d, c, "requests", &k->sink.requests) ||
	       get_u64(d, c, "retried", &k->sink.retried) ||
	       get_u64(d, c, "bytes", &k->bytes) ||
	       get_table(d, c, "drops", r->drops, &r->ndrops) ||
	       get_table(d, c, "rejects", r->rejects, &r->nrejects) ||
	       get_table(d, c, "failures", k->sink.fails, &k->sink.nfails)
	       ? -1 : 0;
}

/* Is member `key` the string `want`? */
static int same_string(struct json_doc *d, json_ref r, const char *want)
{
	const char *s;
	size_t n;

	if (json_type_of(d, r) != JSON_STRING ||
	    (s = json_string(d, r, &n)) == NULL)
		return 0;
	return n == strlen(want) && memcmp(s, want, n) == 0;
}

static int same_inputs(struct json_doc *d, json_ref list,
		       char *const *inputs, int ninputs)
{
	json_ref r;
	int i = 0;

	if (json_type_of(d, list) != JSON_ARRAY)
		return 0;
	for (r = json_first(d, list); r && i < ninputs; r = json_next(d, r))
		if (!same_string(d, r, inputs[i++]))
			return 0;
	return r == 0 && i == ninputs;
}

static int parse_checkpoint(struct json_doc *d, struct rp_checkpoint *cp,
			    const struct rp_identity *id)
{
	json_ref root = d->root, c;
	uint64_t input, line;
	int ninputs = id->ninputs;

	if (!same_inputs(d, json_member(d, root, "inputs", 6), id->inputs,
			 ninputs) ||
	    !same_string(d, json_member(d, root, "window", 6), id->window) ||
	    !same_string(d, json_member(d, root, "output", 6), id->output) ||
	    !same_string(d, json_member(d, root, "rejects", 7), id->rejects))
		return 1;
	c = json_member(d, root, "complete", 8);
	cp->complete = json_type_of(d, c) == JSON_TRUE;
	if (get_u64(d, root, "input", &input) || input > (uint64_t)ninputs ||
	    get_u64(d, root, "offset", &cp->offset) ||
	    get_u64(d, root, "line", &line) ||
	    get_u64(d, root, "output_bytes", &cp->output_bytes) ||
	    get_u64(d, root, "rejects_bytes", &cp->rejects_bytes) ||
	    get_counts(d, json_member(d, root, "counts", 6), &cp->counts))
		return -1;
	cp->input = (int)input;
	cp->line = (unsigned long)line;
	return 0;
}

int rp_checkpoint_read(const char *path, struct rp_checkpoint *cp,
		       const struct rp_identity *id)
{
	struct json_limits jl = { 8, 1u << 20, 1u << 24 };
	struct json_doc d;
	struct buf b;
	int rc = -1;

	memset(cp, 0, sizeof *cp);
	buf_init(&b, (size_t)1 << 30);
	if (vm_file_read(path, 0, &b) != 0) {
		cli_error("cannot read the checkpoint '%s': %s", path,
			  strerror(errno));
	} else if (json_doc_init(&d, &jl) != 0) {
		cli_error("out of memory");
	} else {
		if (json_parse(&d, b.data, b.len, 0, 0) != JSON_OK ||
		    json_type_of(&d, d.root) != JSON_OBJECT)
			rc = -1;
		else
			rc = parse_checkpoint(&d, cp, id);
		if (rc > 0)
			cli_error("the checkpoint '%s' is for other inputs, "
				  "--from/--to, --output or --rejects", path);
		else if (rc < 0)
			cli_error("the checkpoint '%s' is damaged", path);
		json_doc_free(&d);
	}
	buf_free(&b);
	if (rc != 0)
		rp_checkpoint_free(cp);
	return rc ? -1 : 0;
}

static void free_names(struct scrub_count *tab, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *)tab[i].name);
}

void rp_checkpoint_free(struct rp_checkpoint *cp)
{
	free_names(cp->counts.run.drops, cp->counts.run.ndrops);
	free_names(cp->counts.run.rejects, cp->counts.run.nrejects);
	free_names(cp->counts.sink.fails, cp->counts.sink.nfails);
	memset(&cp->counts, 0, sizeof cp->counts);
}
