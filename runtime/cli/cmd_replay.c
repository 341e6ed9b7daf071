/* cmd_replay.c - `scrub replay`: a time window of archived events,
 * scrubbed on N threads, written as NDJSON or sent to an event bus.
 *
 * This thread takes the scrubbed chunks back in input order and feeds
 * the sink, one line at a time, recording after each line where the
 * run stands (input, byte offset, line). SIGINT or SIGTERM stops it at a
 * line: the calls in flight finish (retries included; a second signal
 * gives up the retries), the outputs are synced, and the checkpoint
 * records the place and the counts. --resume starts from there, so no
 * event is sent twice. Exit status: 0 done, 2 on errors (the sink
 * failing for good included), 128 + the signal when interrupted.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../vm/alloc.h"
#include "replay.h"

static const char usage[] =
	"usage: scrub replay --policy FILE [options] [INPUT...]\n"
	"\n"
	"Replay archived EventBridge events through a policy: read NDJSON\n"
	"(plain or gzip) from the INPUT files or standard input, keep the\n"
	"events of a time window, scrub them on several threads, and write\n"
	"them as NDJSON or send them to an event bus with PutEvents.\n"
	"\n"
	"  --policy FILE         the policy (required)\n"
	"  --from TIME           events at or after TIME (RFC 3339)\n"
	"  --to TIME             events before TIME (RFC 3339)\n"
	"  --threads N           scrubbing threads (default: the cores)\n"
	"  --output FILE         NDJSON events, or with --dry-run the\n"
	"                        PutEvents requests (default: stdout)\n"
	CLI_POLICY_USAGE
	"  --event-bus-name BUS  send to this bus (name or ARN)\n"
	"  --region REGION       the bus's region\n"
	"  --endpoint-url URL    send here, not to "
	"events.REGION.amazonaws.com\n"
	"  --dry-run             write the requests instead of sending them\n"
	"  --max-request-bytes N entry sizes per call stay below N (262144)\n"
	"  --rate N              at most N events per second\n"
	"  --connections N       calls in flight at once (4)\n"
	"  --max-attempts N      calls per entry at most (8)\n"
	"  --retry-base-ms N     first retry's backoff, then doubling (100)\n"
	"  --retry-max-ms N      longest backoff (20000)\n"
	"  --timeout-ms N        longest wait for one call (30000)\n"
	"  --checkpoint FILE     where a stopped run records its place\n"
	"                        (default: scrub-replay.checkpoint)\n"
	"  --resume              go on from the checkpoint\n"
	"  --stats FILE          write the final counts as JSON\n"
	"  --quiet               no progress bar, summary or key warning\n";

enum {
	OPT_OUTPUT = CLI_OPT_OWN, OPT_FROM, OPT_TO, OPT_THREADS, OPT_BUS,
	OPT_REGION, OPT_ENDPOINT, OPT_DRY_RUN, OPT_MAX_REQUEST, OPT_RATE,
	OPT_CONNECTIONS, OPT_ATTEMPTS, OPT_RETRY_BASE, OPT_RETRY_MAX,
	OPT_TIMEOUT, OPT_CHECKPOINT, OPT_RESUME, OPT_STATS,
};

static const struct option options[] = {
	CLI_POLICY_OPTIONS,
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "to", required_argument, NULL, OPT_TO },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "event-bus-name", required_argument, NULL, OPT_BUS },
	{ "region", required_argument, NULL, OPT_REGION },
	{ "endpoint-url", required_argument, NULL, OPT_ENDPOINT },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "max-request-bytes", required_argument, NULL, OPT_MAX_REQUEST },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "connections", required_argument, NULL, OPT_CONNECTIONS },
	{ "max-attempts", required_argument, NULL, OPT_ATTEMPTS },
	{ "retry-base-ms", required_argument, NULL, OPT_RETRY_BASE },
	{ "retry-max-ms", required_argument, NULL, OPT_RETRY_MAX },
	{ "timeout-ms", required_argument, NULL, OPT_TIMEOUT },
	{ "checkpoint", required_argument, NULL, OPT_CHECKPOINT },
	{ "resume", no_argument, NULL, OPT_RESUME },
	{ "stats", required_argument, NULL, OPT_STATS },
	{ NULL, 0, NULL, 0 },
};

struct replay_opts {
	struct cli_policy_opts p;
	const char *output, *from, *to, *checkpoint, *stats;
	int checkpoint_given, resume;
	struct rp_config rc;
	struct eb_config eb;
	char window[512];
	struct rp_identity id;	/* what a checkpoint is for */
	char **inputs;
	int ninputs;
};

static volatile sig_atomic_t stop_signal, second_signal;

static void on_signal(int sig)
{
	if (stop_signal)
		second_signal = 1;
	else
		stop_signal = sig;
}

/* ---- options ------------------------------------------------------------- */

static int time_option(const char *opt, const char *arg, struct rp_time *t)
{
	if (rp_time_parse(arg, strlen(arg), t) == 0)
		return 0;
	cli_error("%s takes an RFC 3339 date-time such as "
		  "2023-04-21T14:00:00Z, not '%s'", opt, arg);
	return -1;
}

static int rate_option(const char *arg, double *rate)
{
	char *end;

	errno = 0;
	*rate = strtod(arg, &end);
	if (errno || end == arg || *end || !(*rate > 0) || *rate > 1e9) {
		cli_error("--rate takes a number of events per second above "
			  "0, not '%s'", arg);
		return -1;
	}
	return 0;
}

/* A whole-number option into an unsigned. */
static int uint_option(const char *opt, const char *arg, uint64_t max,
		       unsigned *out)
{
	uint64_t v;

	if (cli_number(opt, arg, max, &v))
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int own_option(void *ctx, int c, char *arg)
{
	struct replay_opts *o = ctx;
	struct rp_config *rc = &o->rc;
	struct eb_config *eb = &o->eb;
	unsigned v;

	switch (c) {
	case OPT_OUTPUT: o->output = arg; return 0;
	case OPT_FROM:
		o->from = arg;
		rc->has_from = 1;
		return time_option("--from", arg, &rc->from);
	case OPT_TO:
		o->to = arg;
		rc->has_to = 1;
		return time_option("--to", arg, &rc->to);
	case OPT_THREADS:
		if (uint_option("--threads", arg, 256, &v))
			return -1;
		rc->threads = (int)v;
		return 0;
	case OPT_BUS: eb->bus = rc->bus = arg; return 0;
	case OPT_REGION: eb->region = arg; return 0;
	case OPT_ENDPOINT: eb->endpoint = arg; return 0;
	case OPT_DRY_RUN: eb->dry_run = 1; return 0;
	case OPT_MAX_REQUEST:
		return cli_number("--max-request-bytes", arg, 16u << 20,
				  &rc->max_request);
	case OPT_RATE: return rate_option(arg, &eb->rate);
	case OPT_CONNECTIONS:
		return uint_option("--connections", arg, 64,
				   &eb->connections);
	case OPT_ATTEMPTS:
		return uint_option("--max-attempts", arg, 100,
				   &eb->max_attempts);
	case OPT_RETRY_BASE:
		return uint_option("--retry-base-ms", arg, 600000,
				   &eb->retry_base_ms);
	case OPT_RETRY_MAX:
		return uint_option("--retry-max-ms", arg, 3600000,
				   &eb->retry_max_ms);
	case OPT_TIMEOUT:
		if (uint_option("--timeout-ms", arg, 3600000, &v))
			return -1;
		eb->timeout_ms = (long)v;
		return 0;
	case OPT_CHECKPOINT:
		o->checkpoint = arg;
		o->checkpoint_given = 1;
		return 0;
	case OPT_RESUME: o->resume = 1; return 0;
	case OPT_STATS: o->stats = arg; return 0;
	default: return -1;	/* getopt returns only the table's */
	}
}

static void defaults(struct replay_opts *o)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	o->output = "-";
	o->checkpoint = "scrub-replay.checkpoint";
	o->rc.threads = cores < 1 ? 1 : cores > 256 ? 256 : (int)cores;
	o->rc.max_request = 262144;
	o->eb.max_entries = 10;
	o->eb.connections = 4;
	o->eb.max_attempts = 8;
	o->eb.retry_base_ms = 100;
	o->eb.retry_max_ms = 20000;
	o->eb.timeout_ms = 30000;
}

/* The combinations that make no sense. */
static int check_opts(struct replay_opts *o)
{
	const char *r = o->eb.region;

	if (o->eb.bus == NULL && (o->eb.dry_run || r || o->eb.endpoint))
		cli_error("replay: --dry-run, --region and --endpoint-url "
			  "go with --event-bus-name");
	else if (o->eb.bus && (!*o->eb.bus || strlen(o->eb.bus) > 1600))
		cli_error("replay: --event-bus-name takes a name or an ARN "
			  "of 1 to 1600 characters");
	else if (o->eb.bus && !o->eb.dry_run && r == NULL)
		cli_error("replay: --event-bus-name needs --region");
	else if (r && (!*r || strspn(r, "abcdefghijklmnopqrstuvwxyz"
				     "0123456789-") != strlen(r)))
		cli_error("replay: '%s' is not a region name", r);
	else if (o->rc.has_from && o->rc.has_to &&
		 rp_time_cmp(&o->rc.from, &o->rc.to) >= 0)
		cli_error("replay: --from must come before --to");
	else
		return 0;
	return -1;
}

static int parse(int argc, char **argv, struct replay_opts *o)
{
	static char *stdin_only[] = { "-" };

	defaults(o);
	if (cli_policy_opts_init(&o->p, argc) != 0 ||
	    cli_parse_options(argc, argv, options, usage, &o->p, own_option,
			      o) != 0)
		return -1;
	if (o->p.policy == NULL) {
		cli_policy_required("replay", argc, argv, usage);
		return -1;
	}
	if (check_opts(o) != 0)
		return -1;
	o->inputs = optind < argc ? argv + optind : stdin_only;
	o->ninputs = optind < argc ? argc - optind : 1;
	snprintf(o->window, sizeof o->window, "%.250s/%.250s",
		 o->from ? o->from : "", o->to ? o->to : "");
	o->id.inputs = o->inputs;
	o->id.ninputs = o->ninputs;
	o->id.window = o->window;
	o->id.output = o->eb.bus && !o->eb.dry_run ? "" : o->output;
	o->id.rejects = o->p.rejects ? o->p.rejects : "";
	/* Under a low --rate, smaller calls keep the pace even. */
	if (o->eb.rate > 0 && o->eb.rate < 10)
		o->eb.max_entries = o->eb.rate < 1 ? 1 : (unsigned)o->eb.rate;
	return 0;
}

/* ---- the run ------------------------------------------------------------- */

struct replay {
	struct replay_opts *o;
	struct rp_checkpoint base;	/* the resumed run's place, counts */
	struct rp_counts live;		/* this run's counts */
	int input;			/* where the run stands: */
	uint64_t offset;		/* past the last line taken */
	unsigned long line;
	struct output out, rej;
	int have_out, have_rej;
	struct eb_sink *sink;
	struct rp_pipe *pipe;
	struct rp_progress pr;
	double pace;		/* --rate, NDJSON: next event's time */
	int failed;		/* an error stopped the run */
};

/* Everything counted: the resumed run's and this one's. */
static void totals(struct replay *r, struct rp_counts *t)
{
	memset(t, 0, sizeof *t);
	rp_counts_add(t, &r->base.counts);
	rp_counts_add(t, &r->live);
	if (r->sink) {
		struct rp_counts s;

		memset(&s, 0, sizeof s);
		eb_stats_get(r->sink, &s.sink);
		rp_counts_add(t, &s);
	}
}

static void tick(void *ctx)
{
	struct replay *r = ctx;
	struct rp_counts t;

	if (!r->pr.on)
		return;
	totals(r, &t);
	rp_progress_draw(&r->pr, &t, rp_bytes_read(r->pipe),
			 rp_bytes_total(r->pipe), 0);
}

/* --rate for NDJSON output: wait when ahead of the pace by more than a
 * couple of milliseconds (sleeping per event would cost more). */
static void pace_one(struct replay *r)
{
	double now = rp_now();

	if (r->pace < now - 1.0)
		r->pace = now;
	if (r->pace - now > 0.002)
		rp_sleep(r->pace - now);
	r->pace += 1.0 / r->o->eb.rate;
}

static void write_reject(struct replay *r, const struct rp_chunk *c,
			 const struct rp_line *l)
{
	char msg[512];
	size_t n = l->outlen < sizeof msg ? l->outlen : sizeof msg - 1;

	memcpy(msg, c->out.data + l->out, n);
	msg[n] = '\0';
	cli_write_reject(&r->rej, r->o->inputs[c->input], l->line, l->name,
			 msg, l->rule, l->pfile, l->pline);
}

/* Hand one line's outcome on. Returns 0, or -1 when the sink did not
 * take it (it failed for good): the run then stops before this line. */
static int take_line(struct replay *r, const struct rp_chunk *c,
		     const struct rp_line *l)
{
	struct scrub_counters *k = &r->live.run;
	const char *p = c->out.data + l->out;

	if (l->kind == RL_EMIT && r->sink) {
		if (eb_put(r->sink, p, l->outlen, l->size, c->input,
			   l->line) != 0)
			return -1;
	} else if (l->kind == RL_EMIT) {
		if (r->o->eb.rate > 0)
			pace_one(r);
		output_write(&r->out, p, l->outlen);
	} else if (l->kind == RL_DROP) {
		k->dropped++;
		scrub_count_add(k->drops, &k->ndrops, l->name, 1);
	} else if (l->kind == RL_REJECT) {
		k->rejected++;
		scrub_count_add(k->rejects, &k->nrejects, l->name, 1);
		if (r->have_rej)
			write_reject(r, c, l);
	}
	k->events += l->kind != RL_SKIP;
	k->emitted += l->kind == RL_EMIT;
	r->live.bytes += l->end - (c->input == r->input ? r->offset : 0);
	r->input = c->input;
	r->offset = l->end;
	r->line = l->line;
	return 0;
}

/* One chunk's lines, up to a stop. Returns 0 to go on, -1 to stop. */
static int take_chunk(struct replay *r, const struct rp_chunk *c)
{
	for (size_t i = 0; i < c->nlines; i++) {
		if (stop_signal)
			return -1;
		if (take_line(r, c, &c->lines[i]) != 0) {
			r->failed = 1;
			return -1;
		}
		if ((i & 255) == 255)
			tick(r);
	}
	if (r->have_out && r->out.failed) {
		r->failed = 1;
		return -1;
	}
	if (c->err) {
		rp_progress_clear(&r->pr);
		cli_error("%s", c->errmsg);
		r->failed = 1;
		return -1;
	}
	return 0;
}

/* Take chunks until the input ends or the run stops. Returns 1 when
 * every input was read to its end. */
static int consume(struct replay *r)
{
	struct rp_chunk *c;
	int rc;

	for (;;) {
		rc = rp_next(r->pipe, &c, 50);
		if (rc == 0)
			return !stop_signal && !r->failed;
		if (rc < 0) {
			if (r->sink)
				eb_poll(r->sink);
			tick(r);
			if (stop_signal)
				return 0;
			continue;
		}
		rc = take_chunk(r, c);
		if (r->sink)
			eb_poll(r->sink);
		rp_release(r->pipe, c);
		if (rc != 0)
			return 0;
		tick(r);
	}
}

/* ---- setting up ---------------------------------------------------------- */

/* Open an output; resuming, cut a file back to its size at the
 * checkpoint (anything after it was never counted) and add to it. */
static int open_out(struct output *out, const char *path, int resume,
		    uint64_t size)
{
	struct stat st;
	int rc;

	if (!resume || strcmp(path, "-") == 0) {
		rc = output_open(out, path);
	} else if (stat(path, &st) == 0 && (uint64_t)st.st_size < size) {
		cli_error("'%s' is shorter than when the checkpoint was "
			  "written", path);
		return -1;
	} else {
		rc = truncate(path, (off_t)size);
		if (rc == 0 || errno == ENOENT)
			rc = output_open_append(out, path);
	}
	if (rc != 0)
		cli_error("cannot open '%s': %s", path, strerror(errno));
	return rc;
}

static int open_outputs(struct replay *r)
{
	struct replay_opts *o = r->o;
	int resume = o->resume;

	if (o->eb.bus == NULL || o->eb.dry_run) {
		if (open_out(&r->out, o->output, resume,
			     r->base.output_bytes) != 0)
			return -1;
		r->have_out = 1;
	}
	if (o->p.rejects) {
		if (open_out(&r->rej, o->p.rejects, resume,
			     r->base.rejects_bytes) != 0)
			return -1;
		r->have_rej = 1;
	}
	return 0;
}

static int open_sink(struct replay *r)
{
	struct eb_config *eb = &r->o->eb;
	char err[512];

	if (eb->bus == NULL)
		return 0;
	eb->max_request = r->o->rc.max_request;
	eb->dry_out = &r->out;
	eb->rejects = r->have_rej ? &r->rej : NULL;
	eb->inputs = r->o->inputs;
	eb->tick = tick;
	eb->tick_ctx = r;
	if (eb_open(&r->sink, eb, err, sizeof err) == 0)
		return 0;
	cli_error("%s", err);
	return -1;
}

/* Signals stop the run; the threads leave them to this one. */
static int start_pipe(struct replay *r)
{
	struct sigaction sa;
	sigset_t block, old;
	int rc;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	rc = rp_start(&r->pipe, &r->o->rc);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static int setup(struct replay *r, const scrub_program *prog)
{
	struct replay_opts *o = r->o;
	struct rp_config *rc = &o->rc;

	rc->prog = prog;
	rc->lim = &o->p.lim;
	rc->inputs = o->inputs;
	rc->ninputs = o->ninputs;
	rc->max_event = (size_t)o->p.max_event;
	rc->first_input = r->input = r->base.input;
	rc->first_offset = r->offset = r->base.offset;
	rc->first_line = r->line = r->base.line;
	if (open_outputs(r) != 0 || open_sink(r) != 0)
		return -1;
	r->pr.on = !o->p.quiet && isatty(2);
	r->pr.start = r->pr.last = rp_now();
	return start_pipe(r);
}

/* ---- finishing ----------------------------------------------------------- */

/* Flush and sync an output; its size afterwards, for the checkpoint. */
static int close_out(struct output *out, int have, uint64_t *size)
{
	struct stat st;
	const char *path = out->name;

	*size = 0;
	if (!have)
		return 0;
	if (output_close(out) != 0)
		return -1;
	if (strcmp(path, "-") != 0 && stat(path, &st) == 0)
		*size = (uint64_t)st.st_size;
	return 0;
}

static void print_sink(const struct replay *r, const struct eb_stats *s)
{
	const struct eb_config *eb = &r->o->eb;

	const char *calls = s->requests == 1 ? "call" : "calls";

	if (eb->dry_run) {
		fprintf(stderr, "%s: dry run: %llu %s in %llu PutEvents %s, "
			"nothing sent\n", cli_prog,
			(unsigned long long)s->sent,
			s->sent == 1 ? "entry" : "entries",
			(unsigned long long)s->requests, calls);
		return;
	}
	fprintf(stderr, "%s: PutEvents to %s: %llu sent in %llu %s, "
		"%llu retried, %llu failed", cli_prog, eb->bus,
		(unsigned long long)s->sent, (unsigned long long)s->requests,
		calls, (unsigned long long)s->retried,
		(unsigned long long)s->failed);
	for (size_t i = 0; i < s->nfails; i++)
		fprintf(stderr, "%s%s %llu", i ? ", " : " (", s->fails[i].name,
			(unsigned long long)s->fails[i].count);
	fputs(s->nfails ? ")\n" : "\n", stderr);
}

static void report(struct replay *r, const struct rp_counts *t,
		   int complete, int wrote_checkpoint, int output_failed)
{
	const char *sink = r->o->eb.bus == NULL ? "ndjson" :
			   r->o->eb.dry_run ? "dry-run" : "eventbridge";
	const char *outcome = complete ? "complete" :
			      r->failed ? "failed" : "interrupted";

	if (r->o->stats &&
	    rp_stats_write(r->o->stats, t, sink, outcome,
			   rp_now() - r->pr.start) != 0)
		r->failed = 1;
	if (r->o->p.quiet)
		return;
	cli_print_summary(&t->run, output_failed);
	if (r->sink)
		print_sink(r, &t->sink);
	if (stop_signal && !r->failed && !complete)
		fprintf(stderr, "%s: stopped by %s\n", cli_prog,
			stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
	if (wrote_checkpoint && !complete)
		fprintf(stderr, "%s: checkpoint written to %s: run again "
			"with --resume to go on\n", cli_prog,
			r->o->checkpoint);
}

/* After the last line taken: calls finished, outputs synced, the
 * checkpoint written, the counts told. Returns the exit status. */
static int finish(struct replay *r, int complete)
{
	struct rp_checkpoint cp;
	int out_ok, out_failed, wrote = 0;

	rp_stop(r->pipe);
	if (r->sink && eb_flush(r->sink, &second_signal) != 0) {
		rp_progress_clear(&r->pr);
		cli_error("%s", eb_fatal(r->sink));
		r->failed = 1;
		complete = 0;
	}
	rp_progress_clear(&r->pr);
	memset(&cp, 0, sizeof cp);
	out_ok = close_out(&r->out, r->have_out, &cp.output_bytes) == 0;
	out_failed = !out_ok;
	out_ok &= close_out(&r->rej, r->have_rej, &cp.rejects_bytes) == 0;
	r->have_out = r->have_rej = 0;
	totals(r, &cp.counts);
	cp.input = complete ? r->o->ninputs : r->input;
	cp.offset = complete ? 0 : r->offset;
	cp.line = complete ? 0 : r->line;
	cp.complete = complete;
	/* A failed write leaves the old checkpoint the one to trust. */
	if (out_ok && (!complete || r->o->checkpoint_given || r->o->resume))
		wrote = rp_checkpoint_write(r->o->checkpoint, &cp, &r->o->id,
					    r->sink ? "eventbridge" :
					    "ndjson") == 0;
	if (!out_ok)
		r->failed = 1;
	report(r, &cp.counts, complete, wrote, out_failed);
	if (r->failed)
		return 2;
	/* A signal during the last calls only hurried the end. */
	return stop_signal && !complete ? 128 + stop_signal : 0;
}

static int resume_from(struct replay *r)
{
	struct replay_opts *o = r->o;

	if (rp_checkpoint_read(o->checkpoint, &r->base, &o->id) != 0)
		return -1;
	if (r->base.complete) {
		if (!o->p.quiet)
			fprintf(stderr, "%s: the checkpoint '%s' says this "
				"replay is complete: nothing to do\n",
				cli_prog, o->checkpoint);
		return 1;
	}
	return 0;
}

/* The files of the run, checked before any is touched: no output may
 * be an input or another output, and every input must open. (Outputs
 * are written directly, not replaced at the end: --resume adds to
 * them.) */
static int check_files(const struct replay_opts *o)
{
	struct cli_file *f = scrub_calloc((size_t)o->ninputs + 4, sizeof *f);
	size_t n = 0;
	int rc;

	if (f == NULL) {
		cli_error("out of memory");
		return -1;
	}
	if (o->eb.bus == NULL || o->eb.dry_run)
		f[n++] = (struct cli_file){ "--output", o->output, 1 };
	if (o->p.rejects)
		f[n++] = (struct cli_file){ "--rejects", o->p.rejects, 1 };
	if (o->stats)
		f[n++] = (struct cli_file){ "--stats", o->stats, 1 };
	f[n++] = (struct cli_file){ "--checkpoint", o->checkpoint, 1 };
	for (int i = 0; i < o->ninputs; i++)
		f[n++] = (struct cli_file){ "input", o->inputs[i], 0 };
	rc = cli_check_clobber("replay", f, n);
	free(f);
	if (rc != 0)
		return -1;
	return cli_check_inputs(o->inputs, (size_t)o->ninputs);
}

int cmd_replay(int argc, char **argv)
{
	struct replay_opts o;
	struct replay r;
	scrub_program *p = NULL;
	int status = 2, rc;

	memset(&o, 0, sizeof o);
	memset(&r, 0, sizeof r);
	r.o = &o;
	if (parse(argc, argv, &o) != 0 || check_files(&o) != 0)
		goto out;
	if (o.resume && (rc = resume_from(&r)) != 0) {
		status = rc > 0 ? 0 : 2;
		goto out;
	}
	p = cli_open_policy(&o.p);
	if (p == NULL)
		goto out;
	if (setup(&r, p) == 0)
		status = finish(&r, consume(&r));
out:
	if (r.have_out)
		output_close(&r.out);
	if (r.have_rej)
		output_close(&r.rej);
	rp_free(r.pipe);
	eb_free(r.sink);
	rp_checkpoint_free(&r.base);
	scrub_program_free(p);
	free(o.p.params);
	return status;
}
