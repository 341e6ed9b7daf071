/* cmd_test_pattern.c - `scrub test-pattern`, after the AWS CLI's
 * `aws events test-event-pattern`: does this event match this pattern?
 * Prints true or false and exits 0; an invalid pattern or event exits 2
 * with the reason on stderr. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../compiler/cc.h"
#include "../../vm/alloc.h"
#include "../../vm/file.h"
#include "cli.h"

static const char usage[] =
	"usage: scrub test-pattern --event-pattern PATTERN --event EVENT\n"
	"\n"
	"Each of PATTERN and EVENT is JSON text, or file://PATH to read it\n"
	"from a file. Prints true or false.\n";

/* JSON text given inline or as file://PATH; `name` names it in errors. */
static int argument(const char *arg, struct buf *text, const char **name)
{
	int rc;

	if (strncmp(arg, "file://", 7) != 0) {
		*name = NULL;
		buf_puts(text, arg);
		return buf_failed(text) ? -1 : 0;
	}
	*name = arg + 7;
	rc = vm_file_read(arg + 7, 0, text);
	if (rc == VM_FILE_OPEN)
		cli_error("cannot open '%s': %s", arg + 7, strerror(errno));
	else if (rc != 0)
		cli_error("cannot read '%s'", arg + 7);
	return rc != 0 ? -1 : 0;
}

/* Text that is not JSON but names a file: the file was meant. */
static void file_hint(const char *opt, const char *arg)
{
	struct stat st;

	if (strncmp(arg, "file://", 7) == 0 || stat(arg, &st) != 0 ||
	    !S_ISREG(st.st_mode))
		return;
	fprintf(stderr, "%s: hint: %s takes JSON text; to read the file "
		"'%s', give %s file://%s\n", cli_prog, opt, arg, opt, arg);
}

int cmd_test_pattern(int argc, char **argv)
{
	static const struct option options[] = {
		{ "event-pattern", required_argument, NULL, 'p' },
		{ "event", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pattern_arg = NULL, *event_arg = NULL, *pname, *ename;
	struct buf pattern, event, code, text;
	struct dsl_ctx dc;
	scrub_program *p = NULL;
	scrub_worker *w = NULL;
	struct scrub_result r;
	char err[512];
	int c, status = 2;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == 'p') {
			pattern_arg = optarg;
		} else if (c == 'e') {
			event_arg = optarg;
		} else if (c == 'h') {
			fputs(usage, stdout);
			return 0;
		} else {
			cli_bad_option(argv, options, usage);
			return 2;
		}
	}
	if (pattern_arg == NULL || event_arg == NULL || optind != argc) {
		/* The command alone: show what it takes; else say what is
		 * wrong. */
		if (argc == 1)
			fputs(usage, stderr);
		else if (optind != argc)
			cli_error("test-pattern: unexpected argument '%s' "
				  "(PATTERN and EVENT go with --event-pattern "
				  "and --event)", argv[optind]);
		else
			cli_error("test-pattern: %s is required",
				  pattern_arg ? "--event EVENT"
					      : "--event-pattern PATTERN");
		return 2;
	}

	buf_init(&pattern, 64u << 20);
	buf_init(&event, 64u << 20);
	buf_init(&code, 64u << 20);
	buf_init(&text, 1u << 20);
	dsl_ctx_init(&dc);
	if (argument(pattern_arg, &pattern, &pname) != 0 ||
	    argument(event_arg, &event, &ename) != 0)
		goto out;

	if (cc_compile_pattern(&dc, pname ? pname : "event-pattern",
			       pattern.data ? pattern.data : "", pattern.len,
			       &code) != 0) {
		for (struct dsl_diag *d = dc.diags; d; d = d->next) {
			buf_reset(&text);
			dsl_diag_render(&dc, d, &text);
			fwrite(text.data, 1, text.len, stderr);
		}
		file_hint("--event-pattern", pattern_arg);
		goto out;
	}
	if (scrub_program_load(code.data, code.len, &p, err, sizeof err)) {
		cli_error("%s", err);
		goto out;
	}
	w = scrub_worker_new(p, NULL);
	if (w == NULL) {
		cli_error("out of memory");
		goto out;
	}
	switch (scrub_run(w, event.data ? event.data : "", event.len, &r)) {
	case SCRUB_EMIT:
		puts("true");
		status = 0;
		break;
	case SCRUB_DROP:
		puts("false");
		status = 0;
		break;
	case SCRUB_REJECT:
		cli_error("invalid event%s%s: %s", ename ? " in " : "",
			  ename ? ename : "", r.message);
		if (strcmp(r.code, "invalid_json") == 0)
			file_hint("--event", event_arg);
		break;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("error writing standard output: %s",
			  strerror(errno));
		status = 2;
	}
out:
	scrub_worker_free(w);
	scrub_program_free(p);
	dsl_ctx_free(&dc);
	buf_free(&pattern);
	buf_free(&event);
	buf_free(&code);
	buf_free(&text);
	return status;
}
