/* scrubc_diag.c - showing diagnostics: gcc-style text, JSON, SARIF 2.1.0.
 *
 * SARIF is what code-scanning services read (GitHub's among them): one
 * run, the tool's rules (one per diagnostic code seen), and a result per
 * error or warning with its region; the notes that follow a diagnostic
 * become its related locations. Columns count Unicode code points, as
 * the text output does, and the run says so (columnKind).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vm/alloc.h"
#include "../vm/json.h"
#include "scrubc.h"

/* ---- options ------------------------------------------------------------- */

/* Every diagnostic code, with one line of description for SARIF's
 * rules; the warnings are those -Wno-CODE can silence. */
enum code_kind { AN_ERROR, A_WARNING };

static const struct {
	const char *code;
	enum code_kind kind;
	const char *text;
} rule_text[] = {
	{ "syntax", AN_ERROR, "The policy does not follow the grammar." },
	{ "unknown-statement", AN_ERROR, "An unknown statement keyword." },
	{ "unknown-option", AN_ERROR, "An unknown option of an action." },
	{ "encoding", AN_ERROR, "The policy source is not valid UTF-8." },
	{ "io", AN_ERROR, "A file cannot be read." },
	{ "resources", AN_ERROR, "Out of memory, or a policy too large." },
	{ "internal", AN_ERROR, "An internal error of the compiler." },
	{ "policy", AN_ERROR, "A missing, empty or repeated policy header." },
	{ "include", AN_ERROR, "An include that cannot be followed." },
	{ "unknown-param", AN_ERROR, "A parameter that is not declared." },
	{ "param-name", AN_ERROR, "A parameter name that cannot be used." },
	{ "duplicate-param", AN_ERROR, "A parameter declared twice." },
	{ "type", AN_ERROR, "A value of the wrong kind." },
	{ "path", AN_ERROR, "A path the statement cannot use." },
	{ "regex", AN_ERROR, "An invalid regular expression." },
	{ "option", AN_ERROR,
	  "An option that is missing, repeated or out of place." },
	{ "replacement", AN_ERROR,
	  "A replacement that refers to a missing group." },
	{ "detector", AN_ERROR, "An unknown detector or detector group." },
	{ "range", AN_ERROR, "A number out of its range." },
	{ "name", AN_ERROR, "An empty name." },
	{ "duplicate-rule", AN_ERROR, "Two rules with one name." },
	{ "placement", AN_ERROR, "A header statement inside a rule." },
	{ "pattern", AN_ERROR, "An invalid EventBridge event pattern." },
	{ "unreachable", A_WARNING,
	  "A statement after an unconditional drop." },
	{ "never-matches", A_WARNING,
	  "A condition that contradicts a select or the rule around it, so "
	  "it never holds." },
	{ "no-effect", A_WARNING,
	  "An action on a value an earlier delete or keep removed." },
	{ "reads-removed", A_WARNING,
	  "A condition, or a shift's entity, on a value an earlier delete or "
	  "keep removed." },
	{ "sample-key-removed", A_WARNING,
	  "Sampling keyed on a value an earlier delete or keep removed: "
	  "every event is dropped." },
	{ "undone", A_WARNING,
	  "An action whose result a later statement discards." },
	{ "unknown-path", A_WARNING,
	  "A path no event of the given schemas has." },
	{ "unknown-field", A_WARNING,
	  "A top-level field EventBridge events do not have." },
	{ "truncate-ip", A_WARNING,
	  "A truncate to a number of characters on a field named like an IP "
	  "address, where 'to /N' was probably meant." },
};

static const char *describe(const char *code)
{
	for (size_t i = 0; i < sizeof rule_text / sizeof rule_text[0]; i++)
		if (strcmp(rule_text[i].code, code) == 0)
			return rule_text[i].text;
	return NULL;
}

/* -Wno-CODE for a CODE that is no warning: said (as clang does), and
 * taken all the same. */
static void check_warning_code(const char *code)
{
	const char *names[sizeof rule_text / sizeof rule_text[0] + 1];
	size_t n = 0;
	const char *near;

	for (size_t i = 0; i < sizeof rule_text / sizeof rule_text[0]; i++) {
		if (rule_text[i].kind != A_WARNING)
			continue;
		if (strcmp(rule_text[i].code, code) == 0)
			return;
		names[n++] = rule_text[i].code;
	}
	names[n] = NULL;
	near = dsl_nearest(code, strlen(code), names);
	sc_say_unknown("warning: unknown warning option", "-Wno-", code,
		       near);
}

char *sc_option_value(int argc, char **argv, int *i, const char *opt)
{
	size_t n = strlen(opt);

	if (strncmp(argv[*i], opt, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] == '\0' && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

void sc_say_unknown(const char *lead, const char *prefix, const char *name,
		    const char *near)
{
	fprintf(stderr, "scrubc: %s '%s%s'", lead, prefix, name);
	if (near)
		fprintf(stderr, " (did you mean '%s%s'?)", prefix, near);
	fputc('\n', stderr);
}

int sc_diag_option(struct sc_diagopts *o, int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	const char *format = NULL;

	/* --format=F and --format F, as getopt_long takes them. */
	if (strncmp(a, "--format=", 9) == 0)
		format = a + 9;
	else if (strcmp(a, "--format") == 0 && *i + 1 < argc)
		format = argv[++*i];
	if (format != NULL) {
		if (strcmp(format, "text") == 0)
			o->format = SC_TEXT;
		else if (strcmp(format, "json") == 0)
			o->format = SC_JSON;
		else if (strcmp(format, "sarif") == 0)
			o->format = SC_SARIF;
		else
			goto bad;
		return 1;
	}
	if (strcmp(a, "-Werror") == 0) {
		o->werror = 1;
		return 1;
	}
	if (strncmp(a, "-Wno-", 5) == 0 && a[5] && o->noff < SC_MAX_OFF) {
		check_warning_code(a + 5);
		o->off[o->noff++] = a + 5;
		return 1;
	}
	if (strcmp(a, "--schema") == 0 && *i + 1 < argc &&
	    o->nschemas < SC_MAX_SCHEMAS) {
		o->schema_files[o->nschemas++] = argv[++*i];
		return 1;
	}
	if (strncmp(a, "--schema=", 9) == 0 && o->nschemas < SC_MAX_SCHEMAS) {
		o->schema_files[o->nschemas++] = a + 9;
		return 1;
	}
	/* Last, without a value: sc_bad_arg says so. */
	if ((strcmp(a, "--schema") == 0 || strcmp(a, "--format") == 0) &&
	    *i + 1 == argc)
		return 0;
	if (strcmp(a, "--schema") == 0 || strncmp(a, "--format", 8) == 0)
		goto bad;
	return 0;
bad:
	if (format != NULL && strcmp(a, "--format") == 0)
		fprintf(stderr, "scrubc: bad option '%s %s' (--format="
			"text|json|sarif, --schema FILE)\n", a, format);
	else
		fprintf(stderr, "scrubc: bad option '%s' (--format=text|json|"
			"sarif, --schema FILE)\n", a);
	return -1;
}

int sc_bad_arg(const char *cmd, const char *usage, const char *arg,
	       int last, const char *const *known)
{
	char names[32][32], ambiguous[256];
	const char *list[33], *near;
	size_t n = 0, len = strcspn(arg, "=");

	for (; *known && n < 32; known++) {
		size_t k = strcspn(*known, "=");

		if (strlen(arg) == k && strncmp(arg, *known, k) == 0 &&
		    (*known)[k] == '=' && last) {
			fprintf(stderr, "scrubc: %s: option '%s' needs a "
				"value\n", cmd, arg);
			goto usage;
		}
		snprintf(names[n], sizeof names[n], "%.*s", (int)k, *known);
		list[n] = names[n];
		n++;
	}
	list[n] = NULL;
	if (arg[0] != '-' || arg[1] == '\0') {
		fprintf(stderr, "scrubc: %s: unexpected argument '%s'\n", cmd,
			arg);
	} else if (dsl_option_hint(arg, len, list, "", &near, ambiguous,
				   sizeof ambiguous) == 2) {
		fprintf(stderr, "scrubc: %s: option '%.*s' is ambiguous: %s\n",
			cmd, (int)len, arg, ambiguous);
	} else {
		char lead[64];

		snprintf(lead, sizeof lead, "%s: unknown option", cmd);
		sc_say_unknown(lead, "", arg, near);
	}
usage:
	fprintf(stderr, "%.*s(scrubc %s --help lists the options)\n",
		(int)(strcspn(usage, "\n") + 1), usage, cmd);
	return 2;
}

int sc_load_schemas(const struct sc_diagopts *o,
		    struct cc_schema *out[SC_MAX_SCHEMAS])
{
	char err[512];

	for (size_t i = 0; i < o->nschemas; i++) {
		if (cc_schema_load(o->schema_files[i], &out[i], err,
				   sizeof err) != 0) {
			fprintf(stderr, "scrubc: %s\n", err);
			sc_free_schemas(out, i);
			return -1;
		}
	}
	return 0;
}

void sc_free_schemas(struct cc_schema *s[SC_MAX_SCHEMAS], size_t n)
{
	for (size_t i = 0; i < n; i++)
		cc_schema_free(s[i]);
}

/* ---- -Wno and -Werror ---------------------------------------------------- */

static int turned_off(const struct sc_diagopts *o, const char *code)
{
	for (size_t i = 0; i < o->noff; i++)
		if (code && strcmp(o->off[i], code) == 0)
			return 1;
	return 0;
}

static void diag_free(struct dsl_diag *d)
{
	free(d->msg);
	free(d->hint);
	free(d);
}

/* The text output names each warning's code the way gcc does, so that
 * the -Wno- option to silence it is plain to see. */
static void tag(struct dsl_diag *d, const char *fmt)
{
	size_t n = strlen(d->msg) + strlen(fmt) + strlen(d->code) + 1;
	char *m = scrub_malloc(n);

	if (m == NULL)
		return;
	snprintf(m, n, "%s", d->msg);
	snprintf(m + strlen(m), n - strlen(m), fmt, d->code);
	free(d->msg);
	d->msg = m;
}

/* Drop the warnings turned off (with their notes), promote the rest
 * under -Werror, and count again. */
static void filter(const struct sc_diagopts *o, struct dsl_ctx *c)
{
	struct dsl_diag **link = &c->diags, *d;
	int dropping = 0;

	c->errors = c->warnings = 0;
	while ((d = *link) != NULL) {
		if (d->severity != DSL_NOTE)
			dropping = d->severity == DSL_WARNING &&
				   turned_off(o, d->code);
		if (dropping) {
			*link = d->next;
			diag_free(d);
			continue;
		}
		if (d->severity == DSL_WARNING && d->code) {
			if (o->format == SC_TEXT)
				tag(d, o->werror ? " [-Werror=%s]" : " [-W%s]");
			if (o->werror)
				d->severity = DSL_ERROR;
		}
		c->errors += d->severity == DSL_ERROR;
		c->warnings += d->severity == DSL_WARNING;
		link = &d->next;
	}
	c->diag_tail = link;
}

/* ---- the report ---------------------------------------------------------- */

struct sc_report {
	struct sc_diagopts o;
	struct buf out;		/* JSON: diagnostics; SARIF: results */
	size_t count;		/* entries in `out` */
	const char *codes[256];	/* SARIF rules, in order of first use */
	int levels[256];
	size_t ncodes;
	unsigned errors, warnings;
};

struct sc_report *sc_report_new(const struct sc_diagopts *o)
{
	struct sc_report *r = scrub_calloc(1, sizeof *r);

	if (r == NULL)
		return NULL;
	r->o = *o;
	buf_init(&r->out, 256u << 20);
	return r;
}

/* Failures to open or read a file are I/O errors (2), not policy errors. */
static int io_failed(const struct dsl_ctx *c)
{
	for (const struct dsl_diag *d = c->diags; d; d = d->next)
		if (d->code && (strcmp(d->code, "io") == 0 ||
				strcmp(d->code, "resources") == 0))
			return 1;
	return 0;
}

static void text_report(const struct dsl_ctx *c)
{
	struct buf b;

	buf_init(&b, 1u << 20);
	for (const struct dsl_diag *d = c->diags; d; d = d->next) {
		buf_reset(&b);
		if (d->span.file >= c->nsources)
			buf_puts(&b, "scrubc: ");
		dsl_diag_render(c, d, &b);
		sc_put(stderr, &b);
	}
	buf_free(&b);
	if (c->errors > DSL_MAX_ERRORS)
		fprintf(stderr, "scrubc: too many errors, stopped after %d\n",
			DSL_MAX_ERRORS);
	if (c->errors || c->warnings) {
		if (c->warnings)
			fprintf(stderr, "%u warning%s", c->warnings,
				c->warnings == 1 ? "" : "s");
		if (c->errors)
			fprintf(stderr, "%s%u error%s", c->warnings ? " and "
				: "", c->errors, c->errors == 1 ? "" : "s");
		fputs(" generated.\n", stderr);
	}
}

static const char *level(enum dsl_severity s)
{
	return s == DSL_ERROR ? "error" : s == DSL_WARNING ? "warning"
	       : "note";
}

static void jstr(struct buf *b, const char *s)
{
	json_encode_string(b, s, strlen(s));
}

static void jnum(struct buf *b, const char *key, unsigned v)
{
	char n[48];

	snprintf(n, sizeof n, "\"%s\":%u", key, v);
	buf_puts(b, n);
}

/* Start and end (exclusive) line and column of a diagnostic's span. */
static void region(const struct dsl_ctx *c, const struct dsl_diag *d,
		   unsigned v[4])
{
	dsl_line_col(c, d->span.file, d->span.start, &v[0], &v[1]);
	dsl_line_col(c, d->span.file, d->span.end > d->span.start
		     ? d->span.end : d->span.start, &v[2], &v[3]);
}

/* The four numbers of a region as "name":value members. */
static const char *const json_names[4] = {
	"line", "column", "end_line", "end_column",
};
static const char *const sarif_names[4] = {
	"startLine", "startColumn", "endLine", "endColumn",
};

static void region_members(struct buf *b, const unsigned v[4],
			   const char *const names[4])
{
	for (int i = 0; i < 4; i++) {
		if (i)
			buf_putc(b, ',');
		jnum(b, names[i], v[i]);
	}
}

static int has_place(const struct dsl_ctx *c, const struct dsl_diag *d)
{
	return d->span.file < c->nsources;
}

/* "file":..,"line":..,"column":..,"end_line":..,"end_column":.. */
static void json_place(const struct dsl_ctx *c, const struct dsl_diag *d,
		       struct buf *b)
{
	unsigned v[4];

	if (!has_place(c, d))
		return;
	region(c, d, v);
	buf_puts(b, "\"file\":");
	jstr(b, c->sources[d->span.file].name);
	buf_putc(b, ',');
	region_members(b, v, json_names);
	buf_putc(b, ',');
}

static void json_one(struct sc_report *r, const struct dsl_ctx *c,
		     const struct dsl_diag *d)
{
	struct buf *b = &r->out;
	const struct dsl_diag *n;

	buf_puts(b, r->count++ ? ",\n  {" : "\n  {");
	json_place(c, d, b);
	buf_puts(b, "\"severity\":");
	jstr(b, level(d->severity));
	buf_puts(b, ",\"code\":");
	jstr(b, d->code ? d->code : "");
	buf_puts(b, ",\"message\":");
	jstr(b, d->msg);
	if (d->hint) {
		buf_puts(b, ",\"hint\":");
		jstr(b, d->hint);
	}
	buf_puts(b, ",\"notes\":[");
	for (n = d->next; n && n->severity == DSL_NOTE; n = n->next) {
		buf_puts(b, n == d->next ? "{" : ",{");
		json_place(c, n, b);
		buf_puts(b, "\"message\":");
		jstr(b, n->msg);
		buf_putc(b, '}');
	}
	buf_puts(b, "]}");
}

/* A file name as a URI reference (RFC 3986): unreserved bytes and '/'
 * as they are, everything else percent-encoded. */
static void uri(struct buf *b, const char *name)
{
	struct buf u;
	char esc[4];

	buf_init(&u, 1u << 16);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~/", *p)) {
			buf_putc(&u, (char)*p);
		} else {
			snprintf(esc, sizeof esc, "%%%02X", *p);
			buf_puts(&u, esc);
		}
	}
	json_encode_string(b, u.data ? u.data : "", u.len);
	buf_free(&u);
}

static void sarif_location(const struct dsl_ctx *c, const struct dsl_diag *d,
			   struct buf *b)
{
	unsigned v[4];

	region(c, d, v);
	buf_puts(b, "\"physicalLocation\":{\"artifactLocation\":{\"uri\":");
	uri(b, c->sources[d->span.file].name);
	buf_puts(b, "},\"region\":{");
	region_members(b, v, sarif_names);
	buf_puts(b, "}}");
}

static size_t rule_index(struct sc_report *r, const struct dsl_diag *d)
{
	const char *code = d->code ? d->code : "diagnostic";
	size_t i;

	for (i = 0; i < r->ncodes; i++)
		if (strcmp(r->codes[i], code) == 0)
			break;
	if (i == r->ncodes && i < 256) {
		r->codes[i] = code;
		r->levels[i] = d->severity;
		r->ncodes++;
	}
	/* An error seen under a code makes the code's default an error. */
	if (i < 256 && d->severity < (enum dsl_severity)r->levels[i])
		r->levels[i] = d->severity;
	return i < 256 ? i : 255;
}

static void sarif_one(struct sc_report *r, const struct dsl_ctx *c,
		      const struct dsl_diag *d)
{
	struct buf *b = &r->out, text;
	const struct dsl_diag *n;
	unsigned id = 0;
	char idx[32];

	buf_puts(b, r->count++ ? ",\n        {" : "\n        {");
	buf_puts(b, "\"ruleId\":");
	jstr(b, d->code ? d->code : "diagnostic");
	snprintf(idx, sizeof idx, ",\"ruleIndex\":%zu,\"level\":",
		 rule_index(r, d));
	buf_puts(b, idx);
	jstr(b, level(d->severity));
	buf_init(&text, 1u << 16);
	buf_puts(&text, d->msg);
	if (d->hint) {
		buf_puts(&text, "; ");
		buf_puts(&text, d->hint);
	}
	buf_puts(b, ",\"message\":{\"text\":");
	json_encode_string(b, text.data ? text.data : "", text.len);
	buf_free(&text);
	buf_puts(b, "},\"locations\":[");
	if (has_place(c, d)) {
		buf_putc(b, '{');
		sarif_location(c, d, b);
		buf_putc(b, '}');
	}
	buf_puts(b, "],\"relatedLocations\":[");
	for (n = d->next; n && n->severity == DSL_NOTE; n = n->next) {
		if (!has_place(c, n))
			continue;
		snprintf(idx, sizeof idx, "%s{\"id\":%u,", id ? "," : "", id);
		id++;
		buf_puts(b, idx);
		sarif_location(c, n, b);
		buf_puts(b, ",\"message\":{\"text\":");
		jstr(b, n->msg);
		buf_puts(b, "}}");
	}
	buf_puts(b, "]}");
}

int sc_report_add(struct sc_report *r, struct dsl_ctx *c)
{
	int status;

	filter(&r->o, c);
	status = io_failed(c) ? 2 : c->errors ? 1 : 0;
	r->errors += c->errors;
	r->warnings += c->warnings;
	if (r->o.format == SC_TEXT) {
		text_report(c);
		return status;
	}
	for (const struct dsl_diag *d = c->diags; d; d = d->next) {
		/* A note belongs to the diagnostic before it. */
		if (d->severity == DSL_NOTE && d != c->diags)
			continue;
		if (r->o.format == SC_JSON)
			json_one(r, c, d);
		else
			sarif_one(r, c, d);
	}
	return status;
}

static void sarif_rules(const struct sc_report *r, struct buf *b)
{
	for (size_t i = 0; i < r->ncodes; i++) {
		const char *text = describe(r->codes[i]);

		buf_puts(b, i ? ",\n          {\"id\":"
			 : "\n          {\"id\":");
		jstr(b, r->codes[i]);
		buf_puts(b, ",\"shortDescription\":{\"text\":");
		jstr(b, text ? text : "A scrubc diagnostic.");
		buf_puts(b, "},\"defaultConfiguration\":{\"level\":");
		jstr(b, level((enum dsl_severity)r->levels[i]));
		buf_puts(b, "}}");
	}
}

static void finish_json(const struct sc_report *r, struct buf *b)
{
	char tail[96];

	buf_puts(b, "{\"diagnostics\":[");
	buf_put(b, r->out.data, r->out.len);
	snprintf(tail, sizeof tail, "%s],\"errors\":%u,\"warnings\":%u}\n",
		 r->count ? "\n" : "", r->errors, r->warnings);
	buf_puts(b, tail);
}

static void finish_sarif(const struct sc_report *r, struct buf *b)
{
	buf_puts(b, "{\n  \"$schema\": "
		 "\"https://json.schemastore.org/sarif-2.1.0.json\",\n"
		 "  \"version\": \"2.1.0\",\n  \"runs\": [\n    {\n"
		 "      \"tool\": {\"driver\": {\"name\": \"scrubc\", "
		 "\"version\": \"" SCRUB_VERSION "\", \"semanticVersion\": \""
		 SCRUB_VERSION "\", \"rules\": [");
	sarif_rules(r, b);
	buf_puts(b, "]}},\n      \"columnKind\": \"unicodeCodePoints\",\n"
		 "      \"results\": [");
	buf_put(b, r->out.data, r->out.len);
	buf_puts(b, "]\n    }\n  ]\n}\n");
}

int sc_report_finish(struct sc_report *r)
{
	struct buf b;
	int rc = 0;

	if (r == NULL)
		return 2;
	buf_init(&b, 512u << 20);
	if (r->o.format == SC_JSON)
		finish_json(r, &b);
	else if (r->o.format == SC_SARIF)
		finish_sarif(r, &b);
	if (buf_failed(&b) || buf_failed(&r->out) ||
	    sc_put(stdout, &b) != 0 || fflush(stdout)) {
		fprintf(stderr, "scrubc: cannot write the report: %s\n",
			buf_failed(&b) ? "out of memory" : strerror(errno));
		rc = 2;
	}
	buf_free(&b);
	buf_free(&r->out);
	free(r);
	return rc;
}

int sc_put(FILE *f, const struct buf *b)
{
	return b->len && fwrite(b->data, 1, b->len, f) != b->len ? -1 : 0;
}

int sc_read_file(const char *path, unsigned flags, struct buf *out)
{
	int rc = vm_file_read(path, flags, out);

	if (rc == 0)
		return 0;
	fprintf(stderr, "scrubc: cannot %s '%s': %s\n", vm_file_verb(rc),
		path, vm_file_why(out));
	return -1;
}
