/* config.c - init: the runtime's settings, the policy and the key, all
 * from the environment Lambda starts `bootstrap` with.
 *
 *   SCRUB_POLICY        compiled policy (default $LAMBDA_TASK_ROOT/
 *                       policy.scrubc); source is refused: the Lambda
 *                       ships what CI compiled and checked
 *   SCRUB_KEY           pseudonymization key, or
 *   SCRUB_KEY_FILE      a file holding it (one trailing newline ignored,
 *                       as `scrub run --key-file` does, so both give the
 *                       same pseudonyms)
 *   SCRUB_<PARAM>       a policy parameter
 *   SCRUB_ON_REJECT     fail (default) | drop
 *   SCRUB_MAX_BATCH     most events in one response (10)
 *   SCRUB_MAX_RESPONSE  largest response in bytes (6 MiB)
 *   SCRUB_MAX_DEPTH, _VALUES, _MEMORY, _OUTPUT, _STEPS   per-event limits
 *   SCRUB_LOG_LEVEL     ERROR | WARN | INFO (default) | DEBUG, else
 *                       AWS_LAMBDA_LOG_LEVEL
 *
 * Every setting that is present must be valid: a typo fails init rather
 * than running with a default nobody chose.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../../vm/file.h"
#include "../../vm/key.h"
#include "lambda.h"

#define POLICY_FILE_LIMIT (64u << 20)
#define KEY_FILE_LIMIT (1u << 20)

static int fail(struct lam_init_error *e, const char *type, const char *fmt,
		...) __attribute__((format(printf, 3, 4)));

static int fail(struct lam_init_error *e, const char *type, const char *fmt,
		...)
{
	va_list ap;

	e->error_type = type;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	va_end(ap);
	return -1;
}

/* $name as a whole number in [min, max]; *v keeps its default when the
 * variable is not set. */
static int number(const char *name, uint64_t min, uint64_t max,
		  uint64_t *v, struct lam_init_error *e)
{
	const char *text = getenv(name);
	unsigned long long n;
	char *end;

	if (text == NULL)
		return 0;
	errno = 0;
	n = strtoull(text, &end, 10);
	if (errno || end == text || *end != '\0' || text[0] < '0' ||
	    text[0] > '9' || n < min || n > max)
		return fail(e, "Scrub.ConfigError", "%s must be a whole "
			    "number from %llu to %llu, not '%.64s'", name,
			    (unsigned long long)min, (unsigned long long)max,
			    text);
	*v = n;
	return 0;
}

static int read_limits(struct scrub_limits *l, struct lam_init_error *e)
{
	uint64_t depth = l->max_depth, values = l->max_values;
	uint64_t memory = l->max_memory, output = l->max_output;

	if (number("SCRUB_MAX_DEPTH", 1, 100000, &depth, e) ||
	    number("SCRUB_MAX_VALUES", 2, 1u << 26, &values, e) ||
	    number("SCRUB_MAX_MEMORY", 1, 1u << 30, &memory, e) ||
	    number("SCRUB_MAX_OUTPUT", 1, 1u << 30, &output, e) ||
	    number("SCRUB_MAX_STEPS", 1, UINT64_MAX / 2, &l->max_steps, e))
		return -1;
	l->max_depth = (uint32_t)depth;
	l->max_values = (uint32_t)values;
	l->max_memory = (uint32_t)memory;
	l->max_output = (uint32_t)output;
	return 0;
}

static int read_settings(struct lam_config *cfg, struct lam_log *lg,
			 struct lam_init_error *e)
{
	const char *s, *name;
	int level;

	name = "SCRUB_LOG_LEVEL";
	s = getenv(name);
	if (s == NULL) {
		name = "AWS_LAMBDA_LOG_LEVEL";
		s = getenv(name);
	}
	if (s != NULL) {
		level = lam_level_parse(s);
		if (level < 0)
			return fail(e, "Scrub.ConfigError", "%s must be ERROR, "
				    "WARN, INFO or DEBUG (or FATAL, TRACE), "
				    "not '%.64s'", name, s);
		lg->level = (enum lam_level)level;
	}
	s = getenv("SCRUB_ON_REJECT");
	if (s != NULL && strcmp(s, "fail") != 0 && strcmp(s, "drop") != 0)
		return fail(e, "Scrub.ConfigError", "SCRUB_ON_REJECT must be "
			    "'fail' or 'drop', not '%.64s'", s);
	cfg->drop_rejects = s != NULL && strcmp(s, "drop") == 0;
	cfg->max_batch = LAM_BATCH_DEFAULT;
	cfg->max_response = LAM_RESPONSE_DEFAULT;
	scrub_limits_default(&cfg->limits);
	if (number("SCRUB_MAX_BATCH", 1, 1000000, &cfg->max_batch, e) ||
	    number("SCRUB_MAX_RESPONSE", 2, LAM_PAYLOAD_LIMIT,
		   &cfg->max_response, e))
		return -1;
	return read_limits(&cfg->limits, e);
}

static scrub_program *load_policy(const char *path, struct lam_log *lg,
				  struct lam_init_error *e)
{
	scrub_program *p = NULL;
	struct buf code;
	char err[512];

	buf_init(&code, POLICY_FILE_LIMIT);
	if (vm_file_read(path, 0, &code) != 0) {
		fail(e, "Scrub.PolicyError", "cannot read the policy '%s': %s",
		     path, strerror(errno));
	} else if (code.len < 4 || memcmp(code.data, "SCRB", 4) != 0) {
		fail(e, "Scrub.PolicyError", "'%s' is not compiled policy "
		     "bytecode: compile it with 'scrubc build'", path);
	} else if (scrub_program_load(code.data, code.len, &p, err,
				      sizeof err) != 0) {
		fail(e, "Scrub.PolicyError", "'%s': %s", path, err);
	} else {
		lam_log(lg, LAM_INFO, NULL, "policy '%s' loaded from '%s' "
			"(%zu bytes, verified)", scrub_program_name(p), path,
			code.len);
	}
	buf_free(&code);
	return p;
}

/* Report what went wrong with the key, in the Lambda's words: -1, or 0
 * when nothing did. */
static int key_error(enum vm_key_status st, const char *file,
		     struct lam_init_error *e)
{
	switch (st) {
	case VM_KEY_NONE:
	case VM_KEY_OK:
		break;
	case VM_KEY_BOTH:
		return fail(e, "Scrub.KeyError", "set SCRUB_KEY or "
			    "SCRUB_KEY_FILE, not both");
	case VM_KEY_OPEN:
	case VM_KEY_READ:
		return fail(e, "Scrub.KeyError", "cannot read the key file "
			    "'%s': %s", file, strerror(errno));
	case VM_KEY_EMPTY:
		return fail(e, "Scrub.KeyError", "the key %s is empty",
			    file ? "file" : "in SCRUB_KEY");
	case VM_KEY_TEST:
		return fail(e, "Scrub.KeyError", "the key is scrubc test's "
			    "public test key: use a secret key");
	}
	return 0;
}

/* Bind the key from SCRUB_KEY_FILE or SCRUB_KEY, if there is one; a
 * short one is logged as a warning, as `scrub run` warns on stderr. */
static int load_key(scrub_program *p, struct lam_log *lg,
		    struct lam_init_error *e)
{
	const char *file = getenv("SCRUB_KEY_FILE");
	enum vm_key_status st;
	struct buf key;
	int rc;

	buf_init(&key, KEY_FILE_LIMIT);
	st = vm_key_load(file, getenv("SCRUB_KEY"), &key);
	rc = key_error(st, file, e);
	if (st == VM_KEY_OK && key.len < VM_KEY_WARN_BYTES)
		lam_log(lg, LAM_WARN, NULL, "the key (%s) is only %zu byte%s "
			"long: use at least %d random bytes", file ?
			"SCRUB_KEY_FILE" : "SCRUB_KEY", key.len,
			key.len == 1 ? "" : "s", VM_KEY_WARN_BYTES);
	if (st == VM_KEY_OK)
		scrub_program_set_key(p, key.data, key.len);
	else if (rc == 0 && scrub_program_needs_key(p))
		rc = fail(e, "Scrub.KeyError", "policy '%s' pseudonymizes "
			  "values and needs a key: set SCRUB_KEY or "
			  "SCRUB_KEY_FILE", scrub_program_name(p));
	if (key.data)
		sodium_memzero(key.data, key.cap);
	buf_free(&key);
	return rc;
}

scrub_program *lam_configure(struct lam_config *cfg, struct lam_log *lg,
			     struct lam_init_error *e)
{
	const char *path = getenv("SCRUB_POLICY");
	const char *root = getenv("LAMBDA_TASK_ROOT");
	char deflt[4096];
	scrub_program *p;
	char err[512];

	if (read_settings(cfg, lg, e) != 0)
		return NULL;
	if (path == NULL) {
		snprintf(deflt, sizeof deflt, "%s/policy.scrubc",
			 root ? root : ".");
		path = deflt;
	}
	p = load_policy(path, lg, e);
	if (p == NULL)
		return NULL;
	if (scrub_program_params_from_env(p, err, sizeof err) != 0) {
		fail(e, "Scrub.PolicyError", "policy '%s': %s",
		     scrub_program_name(p), err);
	} else if (load_key(p, lg, e) == 0) {
		lam_log(lg, LAM_INFO, NULL, "rejected records %s; at most "
			"%llu events and %llu bytes per response",
			cfg->drop_rejects ? "are dropped" : "fail the batch",
			(unsigned long long)cfg->max_batch,
			(unsigned long long)cfg->max_response);
		return p;
	}
	scrub_program_free(p);
	return NULL;
}
