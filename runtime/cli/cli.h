/* cli.h - what the `scrub` commands share: loading a policy with its key
 * and parameters, reading NDJSON, writing output that notices a full
 * disk, and the summary line. */
#ifndef SCRUB_CLI_H
#define SCRUB_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "../scrub.h"

extern const char *cli_prog;	/* "scrub", for messages */

void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Load a policy (bytecode or source), bind parameters from the
 * environment and then from `params` ("NAME=VALUE" strings), and the key
 * from `key_file` or $SCRUB_KEY. Prints what went wrong; NULL on error. */
scrub_program *cli_open_policy(const char *path, char **params,
			       size_t nparams, const char *key_file);

/* Parse a size or count option; prints an error and returns -1 if bad. */
int cli_number(const char *opt, const char *text, uint64_t max,
	       uint64_t *out);

/* ---- NDJSON input -------------------------------------------------------- */

struct ndjson {
	int fd;
	const char *name;	/* for messages: a path, or "-" */
	char *buf;
	size_t cap, start, end;
	size_t scan;		/* [start, scan) holds no newline */
	size_t max_line;
	unsigned long line;	/* number of the line last returned */
	int eof;
	int skipping;		/* inside a line that is too long */
};

int ndjson_open(struct ndjson *r, const char *path, size_t max_line);
void ndjson_close(struct ndjson *r);

/* The next line, without its newline: 1 with *line and *len set (and
 * *too_long when the line was over the limit: its bytes are skipped and
 * *len is 0), 0 at the end, -1 on a read error (errno set). */
int ndjson_next(struct ndjson *r, const char **line, size_t *len,
		int *too_long);

/* ---- output -------------------------------------------------------------- */

struct output {
	int fd;
	const char *name;
	char *buf;
	size_t len, cap;
	int failed;		/* errno of the first failed write, or 0 */
};

int output_open(struct output *o, const char *path);
void output_write(struct output *o, const void *p, size_t n);
/* Flush; returns 0, or -1 with a message printed. */
int output_close(struct output *o);

/* One reject record: {"input","line","code","message","rule","policy"}. */
void cli_write_reject(struct output *o, const char *input,
		      unsigned long line, const char *code,
		      const char *message, const char *rule,
		      const char *policy_file, unsigned policy_line);

/* "scrub: 10 read, 8 emitted, 1 dropped (select 1), 1 rejected (...)". */
void cli_print_summary(const struct scrub_counters *c);

/* Subcommands. */
int cmd_run(int argc, char **argv);
int cmd_test_pattern(int argc, char **argv);
int cmd_detect(int argc, char **argv);

#endif
