/* cmd_detect.c - `scrub detect`: run detectors over lines of text.
 *
 * For each line of standard input, one line of output: a JSON array of
 * the findings, left to right, each {"detector", "start", "end"} with
 * byte offsets into the line (end exclusive; the newline is not part of
 * the line). The matched text is printed only with --show, so that the
 * output of a plain run holds no personal data. Exit 0, or 2 on usage
 * and I/O errors.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../dsl/diag.h"
#include "../../vm/detect.h"
#include "../../vm/json.h"
#include "cli.h"

static const char usage[] =
	"usage: scrub detect [--with NAME[,NAME...]] [--show]\n"
	"\n"
	"Read lines of text on standard input; for each, print a JSON array\n"
	"of findings {\"detector\": NAME, \"start\": BYTE, \"end\": BYTE}.\n"
	"\n"
	"  --with NAMES   detectors, or the groups pii, secrets, all\n"
	"                 (default: all)\n"
	"  --show         also print each finding's text\n";

/* The longest line read. */
#define MAX_LINE (8u << 20)

/* "email, phone,pii" to a detector set; prints what is unknown. */
static int parse_with(const char *arg, uint32_t *set)
{
	const char *p = arg;

	*set = 0;
	while (*p) {
		size_t n;
		uint32_t s;
		const char *near;

		p += strspn(p, " ,");
		n = strcspn(p, " ,");
		if (n == 0)
			break;
		s = vm_detect_lookup(p, n);
		if (s == 0) {
			near = dsl_nearest(p, n, vm_detect_words());
			cli_error("unknown detector '%.*s'%s%s%s", (int)n, p,
				  near ? " (did you mean '" : "",
				  near ? near : "", near ? "'?)" : "");
			return -1;
		}
		*set |= s;
		p += n;
	}
	if (*set == 0) {
		cli_error("--with names no detector");
		return -1;
	}
	return 0;
}

struct line {
	struct output *out;
	const char *text;
	int show;
	int count;
	struct buf json;
};

static int print_finding(void *ctx, const struct vm_finding *f)
{
	struct line *l = ctx;
	char num[64];

	buf_reset(&l->json);
	buf_puts(&l->json, l->count++ ? ",{\"detector\":\"" :
		 "{\"detector\":\"");
	buf_puts(&l->json, vm_detect_name(f->det));
	snprintf(num, sizeof num, "\",\"start\":%zu,\"end\":%zu", f->start,
		 f->end);
	buf_puts(&l->json, num);
	if (l->show) {
		/* Every detector matches ASCII only: valid UTF-8. */
		buf_puts(&l->json, ",\"text\":");
		json_encode_string(&l->json, l->text + f->start,
				   f->end - f->start);
	}
	buf_putc(&l->json, '}');
	if (buf_failed(&l->json))
		return 1;
	output_write(l->out, l->json.data, l->json.len);
	return 0;
}

/* Scan standard input line by line into `out`. */
static int scan_lines(const struct vm_dset *set, struct vm_dscan *sc,
		      struct output *out, int show)
{
	struct ndjson in;
	struct line l = { out, NULL, show, 0, { 0 } };
	const char *text;
	size_t len;
	int too_long, rc, found, status = 0;

	if (ndjson_open(&in, "-", MAX_LINE) != 0) {
		cli_error("cannot read standard input: %s", strerror(errno));
		return 2;
	}
	buf_init(&l.json, MAX_LINE);
	while ((rc = ndjson_next(&in, &text, &len, &too_long)) > 0) {
		if (too_long) {
			cli_error("line %lu is longer than %u bytes", in.line,
				  MAX_LINE);
			status = 2;
			break;
		}
		l.text = text;
		l.count = 0;
		output_write(out, "[", 1);
		found = vm_detect_scan(set, sc, text, len, print_finding, &l,
				       NULL);
		if (found != 0) {
			cli_error("line %lu: the detectors gave up (%d)",
				  in.line, found);
			status = 2;
			break;
		}
		output_write(out, "]\n", 2);
	}
	if (rc < 0 && status == 0) {
		cli_error("cannot read standard input: %s", strerror(errno));
		status = 2;
	}
	buf_free(&l.json);
	ndjson_close(&in);
	return status;
}

int cmd_detect(int argc, char **argv)
{
	static const struct option options[] = {
		{ "with", required_argument, NULL, 'w' },
		{ "show", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t set = vm_detect_all();
	struct vm_dset *d;
	struct vm_dscan *sc;
	struct output out;
	char err[256];
	int c, show = 0, status;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == 'w') {
			if (parse_with(optarg, &set) != 0)
				return 2;
		} else if (c == 's') {
			show = 1;
		} else if (c == 'h') {
			fputs(usage, stdout);
			return 0;
		} else {
			cli_bad_option(argv, options, usage);
			return 2;
		}
	}
	if (optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	d = vm_dset_new(set, err, sizeof err);
	sc = vm_dscan_new();
	if (d == NULL || sc == NULL || output_open(&out, "-") != 0) {
		cli_error("%s", d == NULL ? err : "out of memory");
		vm_dset_free(d);
		vm_dscan_free(sc);
		return 2;
	}
	status = scan_lines(d, sc, &out, show);
	if (output_close(&out) != 0)
		status = 2;
	vm_dset_free(d);
	vm_dscan_free(sc);
	return status;
}
