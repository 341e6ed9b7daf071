/* common.c - policy loading, NDJSON input, checked output, summaries. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <zlib.h>

#include "../../vm/alloc.h"
#include "../../vm/buf.h"
#include "../../vm/key.h"
#include "../../vm/json.h"
#include "../../dsl/diag.h"
#include "cli.h"

const char *cli_prog = "scrub";

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_number(const char *opt, const char *text, uint64_t max,
	       uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || end == text || *end != '\0' || text[0] == '-' ||
	    v > max || v == 0) {
		cli_error("%s takes a whole number from 1 to %llu, not '%s'",
			  opt, (unsigned long long)max, text);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_policy_opts_init(struct cli_policy_opts *o, int argc)
{
	memset(o, 0, sizeof *o);
	o->max_event = 1u << 20;
	scrub_limits_default(&o->lim);
	o->params = scrub_calloc((size_t)argc + 1, sizeof *o->params);
	return o->params ? 0 : -1;
}

/* The limit options, each with its range. */
static int limit_option(struct cli_policy_opts *o, int c, const char *arg)
{
	uint64_t v;

	switch (c) {
	case CLI_OPT_MAX_EVENT:
		return cli_number("--max-event-bytes", arg, 1u << 30,
				  &o->max_event);
	case CLI_OPT_MAX_DEPTH:
		if (cli_number("--max-depth", arg, 100000, &v))
			return -1;
		o->lim.max_depth = (uint32_t)v;
		return 0;
	case CLI_OPT_MAX_VALUES:
		if (cli_number("--max-values", arg, 1u << 26, &v))
			return -1;
		o->lim.max_values = (uint32_t)v;
		return 0;
	case CLI_OPT_MAX_STEPS:
		if (cli_number("--max-steps", arg, UINT64_MAX / 2, &v))
			return -1;
		o->lim.max_steps = v;
		return 0;
	case CLI_OPT_MAX_MEMORY:
		if (cli_number("--max-memory", arg, 1u << 30, &v))
			return -1;
		o->lim.max_memory = (uint32_t)v;
		return 0;
	default:
		if (cli_number("--max-output", arg, 1u << 30, &v))
			return -1;
		o->lim.max_output = (uint32_t)v;
		return 0;
	}
}

/* Take getopt's answer `c` if it is one of the shared options: 1 when
 * taken, 0 when not one of them, -1 (message printed) when bad. */
static int policy_option(struct cli_policy_opts *o, int c, char *arg)
{
	switch (c) {
	case CLI_OPT_POLICY:
		o->policy = arg;
		return 1;
	case CLI_OPT_REJECTS:
		o->rejects = arg;
		return 1;
	case CLI_OPT_KEY_FILE:
		o->key_file = arg;
		return 1;
	case CLI_OPT_PARAM:
		o->params[o->nparams++] = arg;
		return 1;
	case CLI_OPT_MAX_EVENT: case CLI_OPT_MAX_DEPTH:
	case CLI_OPT_MAX_VALUES: case CLI_OPT_MAX_STEPS:
	case CLI_OPT_MAX_OUTPUT: case CLI_OPT_MAX_MEMORY:
		return limit_option(o, c, arg) ? -1 : 1;
	case CLI_OPT_LAZY:
		o->lim.lazy_validation = 1;
		return 1;
	case CLI_OPT_QUIET:
		o->quiet = 1;
		return 1;
	default:
		return 0;
	}
}

/* A policy file given as an input is the likely slip: name the fix. */
void cli_policy_required(const char *cmd, int argc, char **argv,
			 const char *usage)
{
	const char *first = optind < argc ? argv[optind] : "";
	size_t n = strlen(first);

	if ((n > 6 && strcmp(first + n - 6, ".scrub") == 0) ||
	    (n > 7 && strcmp(first + n - 7, ".scrubc") == 0))
		cli_error("%s: --policy FILE is required (did you mean "
			  "--policy %s?)", cmd, first);
	else
		cli_error("%s: --policy FILE is required", cmd);
	/* The command alone: show what it takes. */
	if (argc == 1)
		fputs(usage, stderr);
}

/* The option of `options` whose getopt answer is `val`, or NULL. */
static const struct option *option_by_val(const struct option *options,
					  int val)
{
	for (; options->name; options++)
		if (options->flag == NULL && options->val == val)
			return options;
	return NULL;
}

/* "--NAME" the user gave matches no option: the options it begins (an
 * ambiguous prefix), else the one that contains it or is a typo away. */
static void unknown_long(const char *cmd, const char *arg,
			 const struct option *options)
{
	const char *name = arg + 2, *names[128], *near;
	size_t len = strcspn(name, "="), k = 0;
	char list[256];

	for (const struct option *o = options; o->name && k < 127; o++)
		if (strcmp(o->name, "help") != 0)
			names[k++] = o->name;
	names[k] = NULL;
	if (dsl_option_hint(name, len, names, "--", &near, list,
			    sizeof list) == 2) {
		cli_error("%s: option '--%.*s' is ambiguous: %s", cmd,
			  (int)len, name, list);
		return;
	}
	if (near)
		cli_error("%s: unknown option '--%.*s' (did you mean '--%s'?)",
			  cmd, (int)len, name, near);
	else
		cli_error("%s: unknown option '--%.*s'", cmd, (int)len, name);
}

void cli_bad_option(char **argv, const struct option *options,
		    const char *usage)
{
	const char *cmd = argv[0], *arg = argv[optind - 1];
	/* getopt names the option by its value: a long one's, unless the
	 * user wrote a short one (which then is not one of ours). */
	const struct option *o = optopt && strncmp(arg, "--", 2) == 0
				 ? option_by_val(options, optopt) : NULL;

	if (o && o->has_arg == no_argument)
		cli_error("%s: option '--%s' takes no value", cmd, o->name);
	else if (o)
		cli_error("%s: option '--%s' needs a value", cmd, o->name);
	else if (strncmp(arg, "--", 2) == 0)
		unknown_long(cmd, arg, options);
	else if (optopt)
		cli_error("%s: unknown option '-%c'", cmd, optopt);
	else
		cli_error("%s: unknown option '%s'", cmd, arg);
	/* The usage line, not the whole help: the message is the news. */
	fprintf(stderr, "%.*s(scrub %s --help lists the options)\n",
		(int)strcspn(usage, "\n") + 1, usage, cmd);
}

int cli_parse_options(int argc, char **argv, const struct option *options,
		      const char *usage, struct cli_policy_opts *p,
		      int (*own)(void *ctx, int c, char *arg), void *ctx)
{
	int c, taken;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == CLI_OPT_HELP || c == 'h') {
			fputs(usage, stdout);
			exit(0);
		}
		if (c == '?' || c == ':') {
			cli_bad_option(argv, options, usage);
			return -1;
		}
		taken = policy_option(p, c, optarg);
		if (taken < 0 || (!taken && own(ctx, c, optarg) != 0))
			return -1;
	}
	return 0;
}

static void print_diag(void *ctx, const char *text)
{
	(void)ctx;
	fputs(text, stderr);
}

/* The key's bytes: a key file's content without one trailing newline, or
 * $SCRUB_KEY; never both (as in the Lambda: which one would win is not
 * something to guess). Returns 1 with a key, 0 without, -1 on error. */
static int load_key(const char *key_file, struct buf *key)
{
	switch (vm_key_load(key_file, getenv("SCRUB_KEY"), key)) {
	case VM_KEY_NONE:
		return 0;
	case VM_KEY_OK:
		return 1;
	case VM_KEY_BOTH:
		cli_error("both SCRUB_KEY and --key-file give a key: use one "
			  "(unset SCRUB_KEY, or drop --key-file)");
		break;
	case VM_KEY_OPEN:
		cli_error("cannot open key file '%s': %s", key_file,
			  strerror(errno));
		break;
	case VM_KEY_READ:
		cli_error("cannot read key file '%s': %s", key_file,
			  buf_failed(key) ? "too large" : strerror(errno));
		break;
	case VM_KEY_EMPTY:
		cli_error("the key %s is empty", key_file ? "file" :
			  "in SCRUB_KEY");
		break;
	case VM_KEY_TEST:
		cli_error("%s scrubc test's public test key: use a secret "
			  "key", key_file ? "the key file holds" :
			  "the key in SCRUB_KEY is");
		break;
	}
	return -1;
}

static void warn_short_key(const char *key_file, size_t len)
{
	if (len >= VM_KEY_WARN_BYTES)
		return;
	fprintf(stderr, "%s: warning: the key (%s) is only %zu byte%s long: "
		"use at least %d random bytes (e.g. openssl rand -hex 32)\n",
		cli_prog, key_file ? "--key-file" : "SCRUB_KEY", len,
		len == 1 ? "" : "s", VM_KEY_WARN_BYTES);
}

/* The parameters the environment set (and no --param overrode), for the
 * summary: "param rate=50 (from SCRUB_RATE)". One list per process, as
 * each command opens one policy. */
static char env_params[1024];

static int param_given(const struct cli_policy_opts *o, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < o->nparams; i++)
		if (strncmp(o->params[i], name, n) == 0 &&
		    o->params[i][n] == '=')
			return 1;
	return 0;
}

static void note_env_params(const scrub_program *p,
			    const struct cli_policy_opts *o)
{
	char name[128], var[128];
	const char *value;
	size_t used = 0;

	env_params[0] = '\0';
	for (size_t i = 0; scrub_program_param_env(p, i, name, var,
						   sizeof var) == 0; i++) {
		value = getenv(var);
		if (value == NULL || param_given(o, name) ||
		    used >= sizeof env_params)
			continue;
		used += (size_t)snprintf(env_params + used,
					 sizeof env_params - used,
					 "%sparam %s=%s (from %s)",
					 used ? ", " : "", name, value, var);
	}
}

/* --param NAME=VALUE, each in turn. 0, or -1 with `err` set. */
static int bind_params(scrub_program *p, char **params, size_t nparams,
		       char *err, size_t errlen)
{
	for (size_t i = 0; i < nparams; i++) {
		char *eq = strchr(params[i], '=');
		int rc;

		if (eq == NULL) {
			snprintf(err, errlen, "--param takes NAME=VALUE, "
				 "not '%s'", params[i]);
			return -1;
		}
		*eq = '\0';
		rc = scrub_program_set_param(p, params[i], eq + 1, err,
					     errlen);
		*eq = '=';
		if (rc != 0)
			return -1;
	}
	return 0;
}

scrub_program *cli_open_policy(const struct cli_policy_opts *o)
{
	scrub_program *p;
	struct buf key;
	char err[512];
	int have_key;

	if (scrub_program_open(o->policy, &p, print_diag, NULL, err,
			       sizeof err) != 0) {
		cli_error("%s", err);
		return NULL;
	}
	if (scrub_program_params_from_env(p, err, sizeof err) != 0 ||
	    bind_params(p, o->params, o->nparams, err, sizeof err) != 0)
		goto fail;
	note_env_params(p, o);

	buf_init(&key, 1u << 20);
	have_key = load_key(o->key_file, &key);
	if (have_key > 0) {
		scrub_program_set_key(p, key.data, key.len);
		if (!o->quiet && scrub_program_needs_key(p))
			warn_short_key(o->key_file, key.len);
	}
	if (key.data)
		sodium_memzero(key.data, key.cap);
	buf_free(&key);
	if (have_key < 0) {
		scrub_program_free(p);
		return NULL;
	}
	if (have_key == 0 && scrub_program_needs_key(p)) {
		snprintf(err, sizeof err, "policy '%s' pseudonymizes values "
			 "and needs a key: set SCRUB_KEY or pass --key-file "
			 "FILE", scrub_program_name(p));
		goto fail;
	}
	return p;
fail:
	cli_error("%s", err);
	scrub_program_free(p);
	return NULL;
}

/* ---- NDJSON input -------------------------------------------------------- */

int ndjson_open(struct ndjson *r, const char *path, size_t max_line)
{
	memset(r, 0, sizeof *r);
	r->name = path;
	r->max_line = max_line;
	r->cap = max_line + 65536;
	r->fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
		return -1;
	r->buf = scrub_malloc(r->cap);
	if (r->buf == NULL) {
		if (r->fd > 0)
			close(r->fd);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void ndjson_close(struct ndjson *r)
{
	if (r->fd > 0)
		close(r->fd);
	if (r->z) {
		inflateEnd(r->z);
		free(r->z);
		free(r->zin);
	}
	r->z = NULL;
	free(r->buf);
	r->buf = NULL;
}

const char *ndjson_strerror(const struct ndjson *r, int err)
{
	return r->zerr ? r->zerr : strerror(err);
}

uint64_t ndjson_raw_offset(const struct ndjson *r)
{
	return r->raw;
}

/* One read(2) of the file itself. EINTR is an error, not retried: it is
 * how `scrub replay` stops a reader waiting on a pipe. */
static ssize_t raw_read(struct ndjson *r, void *p, size_t n)
{
	ssize_t got = read(r->fd, p, n);

	if (got > 0)
		r->raw += (uint64_t)got;
	return got;
}

#define ZIN_SIZE (64u * 1024)

/* The first bytes say what the input is: gzip's magic (1f 8b) starts
 * inflating, anything else is read as it is. */
static int detect(struct ndjson *r)
{
	unsigned char m[2];
	size_t have = 0;
	ssize_t n;

	while (have < 2 && (n = raw_read(r, m + have, 2 - have)) != 0) {
		if (n < 0)
			return -1;
		have += (size_t)n;
	}
	r->mode = NJ_PLAIN;
	if (have < 2 || m[0] != 0x1f || m[1] != 0x8b) {
		memcpy(r->buf + r->end, m, have);
		r->end += have;
		r->eof = have < 2;
		return 0;
	}
	r->z = scrub_calloc(1, sizeof(z_stream));
	r->zin = scrub_malloc(ZIN_SIZE);
	/* 16 + MAX_WBITS: a gzip wrapper, not zlib's. */
	if (r->z == NULL || r->zin == NULL ||
	    inflateInit2(r->z, 16 + MAX_WBITS) != Z_OK) {
		free(r->z);
		free(r->zin);
		r->z = NULL;
		errno = ENOMEM;
		return -1;
	}
	memcpy(r->zin, m, 2);
	((z_stream *)r->z)->next_in = r->zin;
	((z_stream *)r->z)->avail_in = 2;
	r->mode = NJ_GZIP;
	return 0;
}

static int gzip_fail(struct ndjson *r, const char *msg)
{
	r->zerr = msg;
	errno = EIO;
	return -1;
}

/* Inflate into buf[end, cap): returns once something came out and more
 * would mean waiting for input, so a slow pipe is not held back.
 * Members back to back are one stream, as gzip(1) reads them. */
static int inflate_some(struct ndjson *r)
{
	z_stream *z = r->z;
	ssize_t n;
	int rc;

	z->next_out = (unsigned char *)r->buf + r->end;
	z->avail_out = (uInt)(r->cap - r->end);
	while (z->avail_out > 0) {
		if (z->avail_in == 0) {
			if (z->next_out != (unsigned char *)r->buf + r->end)
				break;
			if ((n = raw_read(r, r->zin, ZIN_SIZE)) < 0)
				return -1;
			if (n == 0) {
				r->eof = 1;
				if (r->in_member)
					return gzip_fail(r, "the gzip data "
							 "ends early");
				break;
			}
			z->next_in = r->zin;
			z->avail_in = (uInt)n;
		}
		r->in_member = 1;
		rc = inflate(z, Z_NO_FLUSH);
		if (rc == Z_STREAM_END) {
			r->in_member = 0;
			inflateReset(z);
		} else if (rc != Z_OK && rc != Z_BUF_ERROR) {
			return gzip_fail(r, z->msg ? z->msg : "bad gzip data");
		}
	}
	r->end = (size_t)((char *)z->next_out - r->buf);
	return 0;
}

static int fill(struct ndjson *r)
{
	ssize_t n;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->scan -= r->start;
		r->base += r->start;
		r->start = 0;
	}
	if (r->before_read)
		r->before_read(r->ctx);
	if (r->mode == NJ_UNKNOWN) {
		if (detect(r) != 0)
			return -1;
		if (r->mode == NJ_PLAIN)
			return 0;
	}
	if (r->mode == NJ_GZIP)
		return inflate_some(r);
	n = raw_read(r, r->buf + r->end, r->cap - r->end);
	if (n < 0)
		return -1;
	if (n == 0)
		r->eof = 1;
	r->end += (size_t)n;
	return 0;
}

int ndjson_skip(struct ndjson *r, uint64_t offset)
{
	off_t at = (off_t)offset;

	if (fill(r) != 0)
		return -1;
	/* A plain file seeks; gzip and pipes read their way there. */
	if (r->mode == NJ_PLAIN && offset > r->end &&
	    lseek(r->fd, at, SEEK_SET) == at) {
		r->base = r->raw = offset;
		r->start = r->end = r->scan = 0;
		r->eof = 0;
		return 0;
	}
	while (r->base + r->end < offset && !r->eof) {
		r->start = r->end;
		if (fill(r) != 0)
			return -1;
	}
	if (r->base + r->end < offset)
		return gzip_fail(r, "the input is shorter than the checkpoint "
				 "says");
	r->start = r->scan = (size_t)(offset - r->base);
	return 0;
}

/* Hand out the bytes [start, end) as one line, or as an empty "too long"
 * line when they were skipped. */
static int take(struct ndjson *r, size_t end, size_t next, const char **line,
		size_t *len, int *too_long)
{
	r->line++;
	/* A CRLF line's CR ends the line: it is not the event's. */
	if (end - r->start - (end > r->start && r->buf[end - 1] == '\r') >
	    r->max_line)
		r->skipping = 1;
	*line = r->buf + r->start;
	*len = r->skipping ? 0 : end - r->start;
	*too_long = r->skipping;
	r->skipping = 0;
	r->start = r->scan = next;
	return 1;
}

int ndjson_next(struct ndjson *r, const char **line, size_t *len,
		int *too_long)
{
	*too_long = 0;
	for (;;) {
		char *nl = memchr(r->buf + r->scan, '\n', r->end - r->scan);

		if (nl != NULL) {
			size_t at = (size_t)(nl - r->buf);

			return take(r, at, at + 1, line, len, too_long);
		}
		r->scan = r->end;
		if (r->end - r->start > r->max_line + 1) {
			/* Too long to hold: drop it, and keep looking for
			 * the end of the line. */
			r->skipping = 1;
			r->base += r->end;
			r->start = r->end = r->scan = 0;
		}
		if (r->eof) {
			if (r->end == r->start && !r->skipping)
				return 0;
			/* A last line without its newline. */
			return take(r, r->end, r->end, line, len, too_long);
		}
		if (fill(r) != 0)
			return -1;
	}
}

/* ---- output -------------------------------------------------------------- */

int output_open_fd(struct output *o, int fd, const char *name)
{
	memset(o, 0, sizeof *o);
	o->name = name;
	o->fd = fd;
	o->cap = 256 * 1024;
	o->buf = scrub_malloc(o->cap);
	if (o->buf == NULL) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* The descriptor a path names outright: "/dev/stdout", "/dev/stderr",
 * "/dev/fd/N"; or -1. Opening such a path anew would truncate the file
 * the shell redirected there and write from its start, over whatever
 * else goes to it: a copy of the descriptor shares its place. */
static int named_fd(const char *path)
{
	char *end;
	long n;

	if (strcmp(path, "/dev/stdout") == 0)
		return 1;
	if (strcmp(path, "/dev/stderr") == 0)
		return 2;
	if (strncmp(path, "/dev/fd/", 8) != 0 || path[8] < '0' ||
	    path[8] > '9')
		return -1;
	n = strtol(path + 8, &end, 10);
	return *end == '\0' && n <= INT_MAX ? (int)n : -1;
}

static int open_output(struct output *o, const char *path, int flags)
{
	int named = named_fd(path);
	int fd = strcmp(path, "-") == 0 ? 1
		 : named >= 0 ? fcntl(named, F_DUPFD_CLOEXEC, 3)
		 : open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);

	if (fd < 0)
		return -1;
	if (output_open_fd(o, fd, path) != 0) {
		if (fd > 2)
			close(fd);
		return -1;
	}
	return 0;
}

int output_open(struct output *o, const char *path)
{
	return open_output(o, path, O_TRUNC);
}

int output_open_append(struct output *o, const char *path)
{
	return open_output(o, path, O_APPEND);
}

static void flush(struct output *o)
{
	size_t done = 0;

	while (done < o->len && !o->failed) {
		ssize_t n = write(o->fd, o->buf + done, o->len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			o->failed = n < 0 ? errno : EIO;
		else
			done += (size_t)n;
	}
	o->len = 0;
}

void output_write(struct output *o, const void *p, size_t n)
{
	if (o->failed)
		return;
	if (n > o->cap - o->len)
		flush(o);
	if (n > o->cap) {
		/* Bigger than the buffer: write it straight through. */
		char *save = o->buf;
		size_t cap = o->cap;

		o->buf = (char *)p;
		o->len = n;
		flush(o);
		o->buf = save;
		o->cap = cap;
		return;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

int output_close(struct output *o)
{
	int rc = 0;

	if (o->buf)
		flush(o);
	if (!o->failed && o->fd > 2 && fsync(o->fd) != 0 && errno != EINVAL)
		o->failed = errno;
	if (o->fd > 2 && close(o->fd) != 0 && !o->failed)
		o->failed = errno;
	if (o->failed) {
		cli_error("error writing %s: %s",
			  strcmp(o->name, "-") == 0 ? "standard output"
						    : o->name,
			  strerror(o->failed));
		rc = -1;
	}
	free(o->buf);
	o->buf = NULL;
	return rc;
}

/* A JSON string from text we do not control (file names): bytes that are
 * not UTF-8 become U+FFFD, so the record stays valid JSON. */
static void put_json_text(struct buf *b, const char *s, size_t len)
{
	struct buf fixed;
	size_t i = 0;

	if (json_utf8_valid(s, len)) {
		json_encode_string(b, s, len);
		return;
	}
	buf_init(&fixed, 4 * len + 1);
	while (i < len) {
		size_t n = 1;

		while (n <= 4 && i + n <= len && !json_utf8_valid(s + i, n))
			n++;
		if (n <= 4 && i + n <= len) {
			buf_put(&fixed, s + i, n);
			i += n;
		} else {
			buf_puts(&fixed, "\xef\xbf\xbd");
			i++;
		}
	}
	json_encode_string(b, fixed.data, fixed.len);
	buf_free(&fixed);
}

void cli_write_reject(struct output *o, const char *input,
		      unsigned long line, const char *code,
		      const char *message, const char *rule,
		      const char *policy_file, unsigned policy_line)
{
	struct buf b;
	char num[64];

	buf_init(&b, 1u << 20);
	buf_puts(&b, "{\"input\":");
	put_json_text(&b, input, strlen(input));
	snprintf(num, sizeof num, ",\"line\":%lu,\"code\":", line);
	buf_puts(&b, num);
	json_encode_string(&b, code, strlen(code));
	buf_puts(&b, ",\"message\":");
	json_encode_string(&b, message, strlen(message));
	buf_puts(&b, ",\"rule\":");
	if (rule)
		json_encode_string(&b, rule, strlen(rule));
	else
		buf_puts(&b, "null");
	buf_puts(&b, ",\"policy\":");
	if (policy_file) {
		struct buf at;
		char num_line[32];

		buf_init(&at, 1u << 20);
		snprintf(num_line, sizeof num_line, ":%u", policy_line);
		buf_puts(&at, policy_file);
		buf_puts(&at, num_line);
		put_json_text(&b, at.data ? at.data : "", at.len);
		buf_free(&at);
	} else {
		buf_puts(&b, "null");
	}
	buf_puts(&b, "}\n");
	if (!buf_failed(&b))
		output_write(o, b.data, b.len);
	buf_free(&b);
}

static void print_counts(const char *what, uint64_t n,
			 const struct scrub_count *tab, size_t ntab)
{
	fprintf(stderr, ", %llu %s", (unsigned long long)n, what);
	for (size_t i = 0; i < ntab; i++)
		fprintf(stderr, "%s%s %llu", i ? ", " : " (", tab[i].name,
			(unsigned long long)tab[i].count);
	if (ntab)
		fputc(')', stderr);
}

const char *cli_reject_message(const char *line, size_t len,
			       const char *code, const char *msg, char *buf,
			       size_t buflen)
{
	/* The parser stops at the first byte and says only "unexpected
	 * character": a UTF-8 byte order mark deserves its name. */
	if (strcmp(code, "invalid_json") != 0 || len < 3 ||
	    memcmp(line, "\xef\xbb\xbf", 3) != 0)
		return msg;
	snprintf(buf, buflen, "byte order mark at the start of the line: "
		 "JSON text must not begin with one (RFC 8259, section 8.1)");
	return buf;
}

/* No line was a JSON object, and at least one was not JSON at all: most
 * likely a pretty-printed JSON document, not NDJSON (its lines "gift",
 * or "}," parse as strings or fail), or a file of another kind. */
static void print_hint(const struct scrub_counters *c)
{
	uint64_t invalid = 0, not_object = 0;

	if (c->events == 0 || c->rejected != c->events)
		return;
	for (size_t i = 0; i < c->nrejects; i++) {
		if (strcmp(c->rejects[i].name, "invalid_json") == 0)
			invalid = c->rejects[i].count;
		else if (strcmp(c->rejects[i].name, "not_an_object") == 0)
			not_object = c->rejects[i].count;
	}
	if (invalid == 0 || invalid + not_object != c->events)
		return;
	fprintf(stderr, "%s: hint: no line was a JSON object: input must "
		"be NDJSON, one event per line; convert a JSON file with "
		"jq -c . FILE (an array of events: jq -c '.[]' FILE)\n",
		cli_prog);
}

void cli_print_summary(const struct scrub_counters *c, int output_failed)
{
	fprintf(stderr, "%s: %llu read, %llu emitted%s", cli_prog,
		(unsigned long long)c->events,
		(unsigned long long)c->emitted,
		output_failed ? " (not all written: the output failed)" : "");
	print_counts("dropped", c->dropped, c->drops, c->ndrops);
	print_counts("rejected", c->rejected, c->rejects, c->nrejects);
	if (env_params[0])
		fprintf(stderr, "; %s", env_params);
	fputc('\n', stderr);
	print_hint(c);
}
