/* cmd_run.c - `scrub run`: NDJSON events in, scrubbed NDJSON out.
 *
 * Output keeps input order, one line per emitted event. A line that is
 * not JSON, not an object, too large, or that the policy fails on goes to
 * the rejects file (never to the output) as a record with the input name,
 * line number, code, message and rule: no field values. The summary goes
 * to stderr. Exit 0 when the run completed, rejects or not; 2 on usage,
 * policy or I/O errors, including a failed write.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
	"usage: scrub run --policy FILE [options] [INPUT...]\n"
	"\n"
	"Apply a policy (.scrub source or compiled bytecode) to NDJSON\n"
	"events read from the INPUT files, or standard input.\n"
	"\n"
	"  --policy FILE         the policy (required)\n"
	"  --output FILE         write events here (default: stdout)\n"
	"  --rejects FILE        write reject records here (default: none)\n"
	"  --key-file FILE       pseudonymization key (default: $SCRUB_KEY)\n"
	"  --param NAME=VALUE    set a policy parameter (repeatable)\n"
	"  --max-event-bytes N   longest input line accepted (1048576)\n"
	"  --max-depth N         deepest nesting accepted (1000)\n"
	"  --max-values N        most JSON values per event (262144)\n"
	"  --max-memory N        bytes of new text per event (8388608)\n"
	"  --max-steps N         work limit per event (10000000)\n"
	"  --max-output N        largest output event in bytes (4194304)\n"
	"  --quiet               no summary on stderr\n";

enum {
	OPT_POLICY = 256, OPT_OUTPUT, OPT_REJECTS, OPT_KEY_FILE, OPT_PARAM,
	OPT_MAX_EVENT, OPT_MAX_DEPTH, OPT_MAX_VALUES, OPT_MAX_STEPS,
	OPT_MAX_OUTPUT, OPT_MAX_MEMORY, OPT_QUIET, OPT_HELP,
};

static const struct option options[] = {
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "rejects", required_argument, NULL, OPT_REJECTS },
	{ "key-file", required_argument, NULL, OPT_KEY_FILE },
	{ "param", required_argument, NULL, OPT_PARAM },
	{ "max-event-bytes", required_argument, NULL, OPT_MAX_EVENT },
	{ "max-depth", required_argument, NULL, OPT_MAX_DEPTH },
	{ "max-values", required_argument, NULL, OPT_MAX_VALUES },
	{ "max-steps", required_argument, NULL, OPT_MAX_STEPS },
	{ "max-output", required_argument, NULL, OPT_MAX_OUTPUT },
	{ "max-memory", required_argument, NULL, OPT_MAX_MEMORY },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct run_opts {
	const char *policy, *output, *rejects, *key_file;
	char **params;
	size_t nparams;
	uint64_t max_event;
	struct scrub_limits lim;
	int quiet;
};

static int parse(int argc, char **argv, struct run_opts *o)
{
	uint64_t v;
	int c;

	memset(o, 0, sizeof *o);
	o->output = "-";
	o->max_event = 1u << 20;
	scrub_limits_default(&o->lim);
	o->params = calloc((size_t)argc + 1, sizeof *o->params);
	if (o->params == NULL)
		return -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case OPT_POLICY:
			o->policy = optarg;
			break;
		case OPT_OUTPUT:
			o->output = optarg;
			break;
		case OPT_REJECTS:
			o->rejects = optarg;
			break;
		case OPT_KEY_FILE:
			o->key_file = optarg;
			break;
		case OPT_PARAM:
			o->params[o->nparams++] = optarg;
			break;
		case OPT_MAX_EVENT:
			if (cli_number("--max-event-bytes", optarg, 1u << 30,
				       &o->max_event))
				return -1;
			break;
		case OPT_MAX_DEPTH:
			if (cli_number("--max-depth", optarg, 100000, &v))
				return -1;
			o->lim.max_depth = (uint32_t)v;
			break;
		case OPT_MAX_VALUES:
			if (cli_number("--max-values", optarg, 1u << 26, &v))
				return -1;
			o->lim.max_values = (uint32_t)v;
			break;
		case OPT_MAX_STEPS:
			if (cli_number("--max-steps", optarg, UINT64_MAX / 2,
				       &v))
				return -1;
			o->lim.max_steps = v;
			break;
		case OPT_MAX_OUTPUT:
			if (cli_number("--max-output", optarg, 1u << 30, &v))
				return -1;
			o->lim.max_output = (uint32_t)v;
			break;
		case OPT_MAX_MEMORY:
			if (cli_number("--max-memory", optarg, 1u << 30, &v))
				return -1;
			o->lim.max_memory = (uint32_t)v;
			break;
		case OPT_QUIET:
			o->quiet = 1;
			break;
		case OPT_HELP:
			fputs(usage, stdout);
			exit(0);
		default:
			fputs(usage, stderr);
			return -1;
		}
	}
	if (o->policy == NULL) {
		cli_error("run: --policy FILE is required");
		fputs(usage, stderr);
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
	char msg[128];

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
		/* Blank lines separate nothing: skip them. */
		size_t i = 0;

		while (i < len && (line[i] == ' ' || line[i] == '\t' ||
				   line[i] == '\r'))
			i++;
		if (i == len)
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
						 r.message, r.rule,
						 r.policy_file, r.policy_line);
			break;
		}
		if (out->failed)
			break;
	}
	if (rc < 0)
		cli_error("error reading '%s': %s", name, strerror(errno));
	ndjson_close(&in);
	return rc < 0 ? -1 : 0;
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
	p = cli_open_policy(o.policy, o.params, o.nparams, o.key_file);
	if (p == NULL)
		goto out;
	w = scrub_worker_new(p, &o.lim);
	if (w == NULL) {
		cli_error("out of memory");
		goto out;
	}
	if (output_open(&out, o.output) != 0) {
		cli_error("cannot open '%s': %s", o.output, strerror(errno));
		goto out;
	}
	if (o.rejects) {
		if (output_open(&rej, o.rejects) != 0) {
			cli_error("cannot open '%s': %s", o.rejects,
				  strerror(errno));
			output_close(&out);
			goto out;
		}
		have_rej = 1;
	}

	inputs = optind < argc ? argv + optind : stdin_only;
	ninputs = optind < argc ? argc - optind : 1;
	status = 0;
	for (int i = 0; i < ninputs && status == 0 && !out.failed; i++)
		if (run_input(w, inputs[i], o.max_event, &out,
			      have_rej ? &rej : NULL) != 0)
			status = 2;
	if (output_close(&out) != 0)
		status = 2;
	if (have_rej && output_close(&rej) != 0)
		status = 2;
	if (!o.quiet) {
		scrub_worker_counters(w, &counters);
		cli_print_summary(&counters);
	}
out:
	scrub_worker_free(w);
	scrub_program_free(p);
	free(o.params);
	return status;
}
