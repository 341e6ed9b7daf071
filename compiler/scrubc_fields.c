/* scrubc_fields.c - `scrubc fields POLICY [--schema FILE]...`: what the
 * policy does to each field, the answer to "what can leak?".
 *
 * One report per schema (or one without). A field marked '*' gets its
 * class only when the rules around the action match (a condition the
 * schema does not decide); the row says what happens otherwise, and that
 * is what --deny-unclassified goes by: it fails (status 1) when a field
 * of a schema may pass through without a keep or a scrub.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vm/json.h"
#include "fields.h"
#include "scrubc.h"

struct fopts {
	const char *policy;
	struct sc_diagopts d;	/* --schema and --format */
	int deny;
};

static void path_text(const struct cc_field *v, struct buf *b)
{
	if (v->path)
		dsl_path_format(v->path, b);
	else
		buf_puts(b, "(every other field)");
}

/* One row: the field, its class (starred when it depends on a rule),
 * and what the policy does to it. */
static void text_row(const struct cc_field *v, size_t width, struct buf *b)
{
	const char *name = cc_fclass_name(v->best);
	size_t start = b->len;

	buf_puts(b, "  ");
	path_text(v, b);
	while (b->len - start < width + 3)
		buf_putc(b, ' ');
	buf_puts(b, name);
	buf_puts(b, v->best != v->worst ? "*" : " ");
	for (size_t i = strlen(name); i < 12; i++)
		buf_putc(b, ' ');
	buf_put(b, v->how.data, v->how.len);
	if (v->best != v->worst) {
		buf_puts(b, "; otherwise ");
		buf_puts(b, cc_fclass_name(v->worst));
	}
	while (b->len > start && b->data[b->len - 1] == ' ')
		b->len--;
	buf_putc(b, '\n');
}

static void text_report(const struct fopts *o, const struct cc_fields *f)
{
	size_t width = 24, count[CC_F_DROPPED + 1] = { 0 }, starred = 0;
	struct buf b;

	buf_init(&b, 64u << 20);
	for (size_t i = 0; i < f->n; i++) {
		buf_reset(&b);
		path_text(&f->v[i], &b);
		if (b.len > width)
			width = b.len > 48 ? 48 : b.len;
		count[f->v[i].best]++;
		starred += f->v[i].best != f->v[i].worst;
	}
	buf_reset(&b);
	printf("%s%s%s:\n", o->policy, f->schema ? ", events of " : "",
	       f->schema ? f->schema->file : "");
	/* When nothing gets through, one line says it for every field. */
	if (f->n && count[CC_F_DROPPED] == f->n) {
		printf("  every event is dropped: %.*s\n", (int)f->v[0].how.len,
		       f->v[0].how.data);
		buf_free(&b);
		return;
	}
	for (size_t i = 0; i < f->n; i++)
		text_row(&f->v[i], width, &b);
	sc_put(stdout, &b);
	printf("  %zu fields: %zu kept, %zu transformed, %zu redacted, %zu "
	       "removed, %zu dropped, %zu pass unclassified\n", f->n,
	       count[CC_F_KEPT], count[CC_F_TRANSFORMED],
	       count[CC_F_REDACTED], count[CC_F_REMOVED],
	       count[CC_F_DROPPED], count[CC_F_PASSES]);
	if (starred)
		printf("  * %zu only when the rules around the action match: "
		       "otherwise, as said\n", starred);
	buf_free(&b);
}

static void jstr(struct buf *b, const char *s, size_t n)
{
	json_encode_string(b, s, n);
}

static void json_report(const struct cc_fields *f, struct buf *b)
{
	struct buf p;

	buf_init(&p, 1u << 20);
	buf_puts(b, "{\"schema\":");
	if (f->schema)
		jstr(b, f->schema->file, strlen(f->schema->file));
	else
		buf_puts(b, "null");
	buf_puts(b, ",\"fields\":[");
	for (size_t i = 0; i < f->n; i++) {
		const struct cc_field *v = &f->v[i];

		buf_puts(b, i ? ",\n  {\"path\":" : "\n  {\"path\":");
		buf_reset(&p);
		if (v->path) {
			dsl_path_format(v->path, &p);
			jstr(b, p.data, p.len);
		} else {
			buf_puts(b, "null");
		}
		buf_puts(b, ",\"class\":\"");
		buf_puts(b, cc_fclass_name(v->best));
		buf_puts(b, "\",\"otherwise\":\"");
		buf_puts(b, cc_fclass_name(v->worst));
		buf_puts(b, v->added ? "\",\"added\":true,\"how\":"
			 : "\",\"added\":false,\"how\":");
		jstr(b, v->how.data ? v->how.data : "", v->how.len);
		buf_putc(b, '}');
	}
	buf_puts(b, "]}");
	buf_free(&p);
}

static size_t unclassified(const struct cc_fields *f)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n; i++)
		n += f->v[i].worst == CC_F_PASSES;
	return n;
}

/* One report; returns 1 when --deny-unclassified finds a field. */
static int report(struct cc *c, const struct fopts *o,
		  const struct cc_schema *s, struct buf *json)
{
	struct cc_fields f;
	size_t bad;

	if (cc_fields(c, s, &f) != 0) {
		cc_fields_free(&f);
		fputs("scrubc: out of memory\n", stderr);
		return 2;
	}
	if (o->d.format == SC_JSON) {
		if (json->len && json->data[json->len - 1] != '[')
			buf_puts(json, ",\n");
		json_report(&f, json);
	} else {
		text_report(o, &f);
	}
	bad = s && o->deny ? unclassified(&f) : 0;
	if (bad)
		fprintf(stderr, "scrubc: %zu field%s of %s pass%s through "
			"without a keep or a scrub\n", bad, bad == 1 ? "" : "s",
			s->file, bad == 1 ? "es" : "");
	cc_fields_free(&f);
	return bad ? 1 : 0;
}

static int run(const struct fopts *o, struct cc_schema **schemas)
{
	struct dsl_ctx ctx;
	struct buf json, d;
	struct cc c;
	int status = 0, rc;

	dsl_ctx_init(&ctx);
	buf_init(&json, 256u << 20);
	buf_init(&d, 1u << 20);
	if (cc_front_file(&c, &ctx, o->policy, NULL) != 0) {
		for (const struct dsl_diag *x = ctx.diags; x; x = x->next)
			dsl_diag_render(&ctx, x, &d);
		sc_put(stderr, &d);
		status = ctx.oom ? 2 : 1;
		goto out;
	}
	buf_puts(&json, "{\"policy\":");
	json_encode_string(&json, o->policy, strlen(o->policy));
	buf_puts(&json, ",\"reports\":[");
	for (size_t i = 0; i < (o->d.nschemas ? o->d.nschemas : 1); i++) {
		rc = report(&c, o, o->d.nschemas ? schemas[i] : NULL, &json);
		if (rc > status)
			status = rc;
	}
	buf_puts(&json, "]}\n");
	if (o->d.format == SC_JSON)
		sc_put(stdout, &json);
	if (fflush(stdout) != 0 || buf_failed(&json))
		status = 2;
out:
	cc_release(&c);
	dsl_ctx_free(&ctx);
	buf_free(&json);
	buf_free(&d);
	return status;
}

int sc_cmd_fields(int argc, char **argv)
{
	struct cc_schema *schemas[SC_MAX_SCHEMAS];
	struct fopts o;
	int rc;

	memset(&o, 0, sizeof o);
	for (int i = 1; i < argc; i++) {
		rc = sc_diag_option(&o.d, argc, argv, &i);
		if (rc < 0)
			return 2;
		if (rc > 0)
			continue;
		if (strcmp(argv[i], "--deny-unclassified") == 0) {
			o.deny = 1;
		} else if (o.policy == NULL && argv[i][0] != '-') {
			o.policy = argv[i];
		} else {
			static const char *const known[] = {
				"--format=", "--schema=",
				"--deny-unclassified", NULL
			};

			return sc_bad_arg("fields", "usage: scrubc fields "
					  "POLICY [--schema FILE]... "
					  "[--deny-unclassified] "
					  "[--format=text|json]\n", argv[i],
					  i == argc - 1, known);
		}
	}
	if (o.policy == NULL || o.d.format == SC_SARIF || o.d.werror ||
	    o.d.noff || (o.deny && o.d.nschemas == 0)) {
		fputs("usage: scrubc fields POLICY [--schema FILE]... "
		      "[--deny-unclassified] [--format=text|json]\n"
		      "  (--deny-unclassified needs a schema)\n", stderr);
		return 2;
	}
	if (sc_load_schemas(&o.d, schemas) != 0)
		return 2;
	rc = run(&o, schemas);
	sc_free_schemas(schemas, o.d.nschemas);
	return rc;
}
