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

/* Parse a size or count option; prints an error and returns -1 if bad. */
int cli_number(const char *opt, const char *text, uint64_t max,
	       uint64_t *out);

/* ---- options of every command that runs a policy ------------------------- */

enum {
	CLI_OPT_POLICY = 256, CLI_OPT_REJECTS, CLI_OPT_KEY_FILE,
	CLI_OPT_PARAM, CLI_OPT_MAX_EVENT, CLI_OPT_MAX_DEPTH,
	CLI_OPT_MAX_VALUES, CLI_OPT_MAX_STEPS, CLI_OPT_MAX_OUTPUT,
	CLI_OPT_MAX_MEMORY, CLI_OPT_LAZY, CLI_OPT_QUIET, CLI_OPT_HELP,
	/* A command numbers its own options from here. */
	CLI_OPT_OWN
};

#define CLI_POLICY_OPTIONS \
	{ "policy", required_argument, NULL, CLI_OPT_POLICY }, \
	{ "rejects", required_argument, NULL, CLI_OPT_REJECTS }, \
	{ "key-file", required_argument, NULL, CLI_OPT_KEY_FILE }, \
	{ "param", required_argument, NULL, CLI_OPT_PARAM }, \
	{ "max-event-bytes", required_argument, NULL, CLI_OPT_MAX_EVENT }, \
	{ "max-depth", required_argument, NULL, CLI_OPT_MAX_DEPTH }, \
	{ "max-values", required_argument, NULL, CLI_OPT_MAX_VALUES }, \
	{ "max-steps", required_argument, NULL, CLI_OPT_MAX_STEPS }, \
	{ "max-output", required_argument, NULL, CLI_OPT_MAX_OUTPUT }, \
	{ "max-memory", required_argument, NULL, CLI_OPT_MAX_MEMORY }, \
	{ "lazy-validation", no_argument, NULL, CLI_OPT_LAZY }, \
	{ "quiet", no_argument, NULL, CLI_OPT_QUIET }, \
	{ "help", no_argument, NULL, CLI_OPT_HELP }

#define CLI_POLICY_USAGE \
	"  --rejects FILE        write reject records here (default: none)\n" \
	"  --key-file FILE       pseudonymization key (default: $SCRUB_KEY)\n" \
	"  --param NAME=VALUE    set a policy parameter (repeatable)\n" \
	"  --max-event-bytes N   longest input line accepted (1048576)\n" \
	"  --max-depth N         deepest nesting accepted (1000)\n" \
	"  --max-values N        most JSON values per event (262144)\n" \
	"  --max-steps N         work limit per event (10000000)\n" \
	"  --max-output N        largest output event in bytes (4194304)\n" \
	"  --max-memory N        bytes of new text per event (8388608)\n" \
	"  --lazy-validation     read each event only as far as the policy\n" \
	"                        needs to drop it (malformed JSON beyond " \
	"that\n" \
	"                        counts as dropped, not rejected)\n"

struct cli_policy_opts {
	const char *policy, *rejects, *key_file;
	char **params;
	size_t nparams;
	uint64_t max_event;
	struct scrub_limits lim;
	int quiet;
};

/* Load o->policy (bytecode or source), bind parameters from the
 * environment and then from o->params ("NAME=VALUE" strings), and the key
 * from o->key_file or $SCRUB_KEY (not both; a warning, unless o->quiet,
 * when it is short). Prints what went wrong; NULL on error. The
 * parameters taken from the environment are named in the summary. */
scrub_program *cli_open_policy(const struct cli_policy_opts *o);

/* Defaults, with room for up to `argc` parameters; -1 if out of memory.
 * The caller frees o->params. */
int cli_policy_opts_init(struct cli_policy_opts *o, int argc);

struct option;

/* Parse the options of a command: the ones above into `p` (after
 * cli_policy_opts_init), the command's own through `own` (0, or -1 with
 * a message printed). --help prints `usage` and exits; a bad option is
 * named (cli_bad_option). Returns 0, or -1. Leaves optind at the first
 * operand. */
int cli_parse_options(int argc, char **argv, const struct option *options,
		      const char *usage, struct cli_policy_opts *p,
		      int (*own)(void *ctx, int c, char *arg), void *ctx);

/* getopt_long (with opterr 0) refused argv[optind - 1]: say what was
 * wrong with it, and the usage line of `usage`. argv[0] is the
 * command's name. */
void cli_bad_option(char **argv, const struct option *options,
		    const char *usage);

/* After cli_parse_options found no --policy: say so, and suggest it for
 * a first INPUT that is a policy file; `usage` too when the command was
 * given nothing at all. */
void cli_policy_required(const char *cmd, int argc, char **argv,
			 const char *usage);

/* ---- NDJSON input -------------------------------------------------------- */

enum { NJ_UNKNOWN, NJ_PLAIN, NJ_GZIP };

struct ndjson {
	int fd;
	int mode;		/* NJ_*: told by the first two bytes */
	void *z;		/* gzip: zlib's z_stream */
	unsigned char *zin;	/* gzip: compressed bytes read */
	int in_member;		/* gzip: inside a member, not between */
	const char *name;	/* for messages: a path, or "-" */
	const char *zerr;	/* what was wrong with gzip data */
	char *buf;
	size_t cap, start, end;
	size_t scan;		/* [start, scan) holds no newline */
	size_t max_line;
	uint64_t base;		/* buf[0]'s offset in the unzipped data */
	uint64_t raw;		/* bytes of the file itself read */
	unsigned long line;	/* number of the line last returned */
	int eof;
	int skipping;		/* inside a line that is too long */
	/* Called before each read, which may block (a pipe): a reader
	 * can hand on what it has first. NULL by default. */
	void (*before_read)(void *ctx);
	void *ctx;
};

/* Open a file, or standard input for "-"; gzip input is unzipped. */
int ndjson_open(struct ndjson *r, const char *path, size_t max_line);
void ndjson_close(struct ndjson *r);

/* The next line, without its newline: 1 with *line and *len set (and
 * *too_long when the line was over the limit: its bytes are skipped and
 * *len is 0), 0 at the end, -1 on a read error (errno set). */
int ndjson_next(struct ndjson *r, const char **line, size_t *len,
		int *too_long);

/* Blank lines (spaces, tabs, a CR) separate nothing: they are skipped. */
static inline int cli_blank(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t' ||
			   line[i] == '\r'))
		i++;
	return i == len;
}

/* What a read error was: what was wrong with gzip data, or errno's. */
const char *ndjson_strerror(const struct ndjson *r, int err);

/* Offset just past the line last returned, in the unzipped input. */
static inline uint64_t ndjson_offset(const struct ndjson *r)
{
	return r->base + r->start;
}

/* Bytes of the file itself read so far (compressed, for gzip). */
uint64_t ndjson_raw_offset(const struct ndjson *r);

/* Before the first line: start reading at `offset` of the unzipped
 * input (seeking, or reading up to it). Returns 0, or -1 with errno. */
int ndjson_skip(struct ndjson *r, uint64_t offset);

/* ---- output -------------------------------------------------------------- */

struct output {
	int fd;
	const char *name;
	char *buf;
	size_t len, cap;
	int failed;		/* errno of the first failed write, or 0 */
	char *tmp;		/* output_open_replace: the file written */
};

int output_open(struct output *o, const char *path);
/* The same, adding to the end of an existing file ("-": stdout). */
int output_open_append(struct output *o, const char *path);
/* Write to `fd` (which the output then owns), named `name`. */
int output_open_fd(struct output *o, int fd, const char *name);
/* Write a plain file (or a new one) beside it, to replace it only when
 * output_commit() is called after output_close(): a run that fails
 * leaves the old file as it was (output_discard()). Standard output,
 * devices, pipes and symbolic links are written directly. */
int output_open_replace(struct output *o, const char *path);
int output_commit(struct output *o);
void output_discard(struct output *o);
void output_write(struct output *o, const void *p, size_t n);
/* Flush; returns 0, or -1 with a message printed. */
int output_close(struct output *o);

/* ---- checks before a run touches anything -------------------------------- */

struct cli_file {
	const char *what;	/* "--output", "input", ... for messages */
	const char *path;	/* "-": standard input or output */
	int writes;		/* an output */
};

/* Refuse files that would overwrite each other: an output that is an
 * input or another output (by device and inode, through links; by path
 * when not there yet). Prints both names and returns -1 if so. */
int cli_check_clobber(const char *cmd, const struct cli_file *f, size_t n);

/* Check each input ("-" aside): there, not a directory, and a plain
 * file opens (a pipe is not opened: that would wait for its writer). A
 * missing or unreadable one is told before any event is read. 0, or -1
 * (printed). */
int cli_check_inputs(char *const *inputs, size_t n);

/* One reject record: {"input","line","code","message","rule","policy"}. */
void cli_write_reject(struct output *o, const char *input,
		      unsigned long line, const char *code,
		      const char *message, const char *rule,
		      const char *policy_file, unsigned policy_line);

/* A reject's message: the library's, or a plainer one where the line
 * shows what went wrong (a byte order mark). Returns `msg` or `buf`. */
const char *cli_reject_message(const char *line, size_t len,
			       const char *code, const char *msg, char *buf,
			       size_t buflen);

/* "scrub: 10 read, 8 emitted, 1 dropped (select 1), 1 rejected (...)",
 * then the parameters the environment set; and a hint when every event
 * was invalid JSON (the input is probably not NDJSON). With
 * `output_failed`, the emitted count says they were not all written. */
void cli_print_summary(const struct scrub_counters *c, int output_failed);

/* Subcommands. */
int cmd_run(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_test_pattern(int argc, char **argv);
int cmd_detect(int argc, char **argv);

#endif
