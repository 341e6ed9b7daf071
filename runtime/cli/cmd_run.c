/* cmd_run.c - `scrub run`: NDJSON events in, scrubbed NDJSON out.
 *
 * Output keeps input order, one line per emitted event. A line that is
 * not JSON, not an object, too large, or that the policy fails on goes to
 * the rejects file (never to the output) as a record with the input name,
 * line number, code, message and rule: no field values. The summary goes
 * to stderr. Exit 0 when the run completed, rejects or not; 2 on usage,
 * policy or I/O errors, including a failed write.
 *
 * Nothing is written before everything that can be checked is: no output
 * may be an input or another output, every input must open, the policy
 * must load. Files are then written beside the ones they replace and
 * renamed over them at the end of a run that succeeded, so a failed run
 * leaves the old files as they were.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../vm/alloc.h"
#include "cli.h"

static const char usage[] =
	"usage: scrub run --policy FILE [options] [INPUT...]\n"
	"\n"
	"Apply a policy (.scrub source or compiled bytecode) to NDJSON\n"
	"events read from the INPUT files (plain or gzip), or standard\n"
	"input.\n"
	"\n"
	"  --policy FILE         the policy (required)\n"
	"  --output FILE         write events here (default: stdout)\n"
	CLI_POLICY_USAGE
	"  --quiet               no summary, hint or key warning on stderr\n";

enum { OPT_OUTPUT = CLI_OPT_OWN };

static const struct option options[] = {
	CLI_POLICY_OPTIONS,
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ NULL, 0, NULL, 0 },
};

struct run_opts {
	struct cli_policy_opts p;
	const char *output;
};

static int own_option(void *ctx, int c, char *arg)
{
	struct run_opts *o = ctx;

	(void)c;		/* --output is the only one */
	o->output = arg;
	return 0;
}

static int parse(int argc, char **argv, struct run_opts *o)
{
	o->output = "-";
	if (cli_policy_opts_init(&o->p, argc) != 0 ||
	    cli_parse_options(argc, argv, options, usage, &o->p, own_option,
			      o) != 0)
		return -1;
	if (o->p.policy == NULL) {
		cli_policy_required("run", argc, argv, usage);
		return -1;
	}
	return 0;
}

/* Run every line of one input. Returns 0, or -1 on a read error. */
static int run_input(scrub_worker *w, const char *name, size_t max_event,
		     struct output *out, struct output *rej)
{
	struct ndjson in;
	const char *line;
	size_t len;
	int too_long, rc;
	struct scrub_result r;
	char msg[256];

	if (ndjson_open(&in, name, max_event) != 0) {
		cli_error("cannot open '%s': %s", name, strerror(errno));
		return -1;
	}
	while ((rc = ndjson_next(&in, &line, &len, &too_long)) > 0) {
		if (too_long) {
			snprintf(msg, sizeof msg, "event longer than %zu "
				 "bytes", max_event);
			if (rej)
				cli_write_reject(rej, name, in.line,
						 "limit_size", msg, NULL, NULL,
						 0);
			scrub_worker_note_reject(w, "limit_size");
			continue;
		}
		if (cli_blank(line, len))
			continue;
		switch (scrub_run(w, line, len, &r)) {
		case SCRUB_EMIT:
			output_write(out, r.out, r.out_len);
			output_write(out, "\n", 1);
			break;
		case SCRUB_DROP:
			break;
		case SCRUB_REJECT:
			if (rej)
				cli_write_reject(rej, name, in.line, r.code,
						 cli_reject_message(line, len,
						 r.code, r.message, msg,
						 sizeof msg), r.rule,
						 r.policy_file, r.policy_line);
			break;
		}
		if (out->failed)
			break;
	}
	if (rc < 0)
		cli_error("error reading '%s': %s", name,
			  ndjson_strerror(&in, errno));
	ndjson_close(&in);
	return rc < 0 ? -1 : 0;
}

/* The files of the run, checked before any is touched. */
static int check_files(const struct run_opts *o, char **inputs,
		       int ninputs)
{
	struct cli_file *f = scrub_calloc((size_t)ninputs + 2, sizeof *f);
	size_t n = 0;
	int rc;

	if (f == NULL) {
		cli_error("out of memory");
		return -1;
	}
	f[n++] = (struct cli_file){ "--output", o->output, 1 };
	if (o->p.rejects)
		f[n++] = (struct cli_file){ "--rejects", o->p.rejects, 1 };
	for (int i = 0; i < ninputs; i++)
		f[n++] = (struct cli_file){ "input", inputs[i], 0 };
	rc = cli_check_clobber("run", f, n);
	free(f);
	return rc != 0 ? -1 : cli_check_inputs(inputs, (size_t)ninputs);
}

static int open_outputs(const struct run_opts *o, struct output *out,
			struct output *rej)
{
	if (output_open_replace(out, o->output) != 0) {
		cli_error("cannot open '%s': %s", o->output, strerror(errno));
		return -1;
	}
	if (o->p.rejects && output_open_replace(rej, o->p.rejects) != 0) {
		cli_error("cannot open '%s': %s", o->p.rejects,
			  strerror(errno));
		output_close(out);
		output_discard(out);
		return -1;
	}
	return 0;
}

/* Close the outputs; replace the old files only if all went well. */
static int close_outputs(struct output *out, struct output *rej,
			 int have_rej, int status)
{
	if (output_close(out) != 0)
		status = 2;
	if (have_rej && output_close(rej) != 0)
		status = 2;
	if (status == 0 && (output_commit(out) != 0 ||
			    (have_rej && output_commit(rej) != 0)))
		status = 2;
	if (out->tmp)
		cli_error("the run failed: nothing written to '%s'",
			  out->name);
	if (have_rej && rej->tmp)
		cli_error("the run failed: nothing written to '%s'",
			  rej->name);
	output_discard(out);
	if (have_rej)
		output_discard(rej);
	return status;
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o;
	struct output out, rej;
	struct scrub_counters counters;
	scrub_program *p = NULL;
	scrub_worker *w = NULL;
	int status = 2, have_rej = 0;
	char *stdin_only[] = { "-" };
	char **inputs;
	int ninputs;

	if (parse(argc, argv, &o) != 0)
		goto out;
	inputs = optind < argc ? argv + optind : stdin_only;
	ninputs = optind < argc ? argc - optind : 1;
	if (check_files(&o, inputs, ninputs) != 0)
		goto out;
	p = cli_open_policy(&o.p);
	if (p == NULL)
		goto out;
	w = scrub_worker_new(p, &o.p.lim);
	if (w == NULL) {
		cli_error("out of memory");
		goto out;
	}
	if (open_outputs(&o, &out, &rej) != 0)
		goto out;
	have_rej = o.p.rejects != NULL;

	status = 0;
	for (int i = 0; i < ninputs && status == 0 && !out.failed; i++)
		if (run_input(w, inputs[i], o.p.max_event, &out,
			      have_rej ? &rej : NULL) != 0)
			status = 2;
	status = close_outputs(&out, &rej, have_rej, status);
	if (!o.p.quiet) {
		scrub_worker_counters(w, &counters);
		cli_print_summary(&counters, out.failed != 0);
	}
out:
	scrub_worker_free(w);
	scrub_program_free(p);
	free(o.p.params);
	return status;
}
