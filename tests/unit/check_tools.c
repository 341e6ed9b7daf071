/* check_tools.c - what scrubc's tools stand on: relations between paths,
 * "did you mean" distances, event-pattern matchers against one value,
 * schema look-ups, and the formatter on single statements. */
#include <check.h>
#include <unistd.h>

#include "../../compiler/fields.h"
#include "../../compiler/fmt.h"
#include "../../compiler/pathrel.h"
#include "../../compiler/schema.h"
#include "../../dsl/comments.h"
#include "../../vm/alloc.h"
#include "helpers.h"

static struct dsl_ctx ctx;
static struct dsl_arena arena;

static void setup(void)
{
	dsl_ctx_init(&ctx);
	memset(&arena, 0, sizeof arena);
}

static void teardown(void)
{
	dsl_ctx_free(&ctx);
	dsl_arena_free(&arena);
}

static struct dsl_file *parse(const char *src)
{
	struct dsl_file *f;
	int idx = dsl_add_source(&ctx, "t.scrub", src, strlen(src));

	ck_assert_int_ge(idx, 0);
	ck_assert_uint_eq(dsl_parse(&ctx, &arena, (uint32_t)idx, &f), 0);
	return f;
}

/* The paths of "delete A, B". */
static void two_paths(const char *a, const char *b, struct dsl_path **pa,
		      struct dsl_path **pb)
{
	char src[256];
	struct dsl_stmt *s;

	snprintf(src, sizeof src, "delete %s, %s", a, b);
	s = parse(src)->stmts.items[0];
	*pa = s->paths.items[0];
	*pb = s->paths.items[1];
}

/* Q covers P: every value P selects is at or under one Q selects. Q and
 * P overlap: some value of one is at, in or around one of the other. */
static const struct {
	const char *q, *p;
	int covers, overlap;
} rel[] = {
	{ ".a", ".a", 1, 1 },
	{ ".a", ".a.b", 1, 1 },
	{ ".a.b", ".a", 0, 1 },
	{ ".a", ".b", 0, 0 },
	{ ".a.*", ".a.b", 1, 1 },
	{ ".a.b", ".a.*", 0, 1 },
	{ ".a[*]", ".a[3].x", 1, 1 },
	{ ".a[3]", ".a[*]", 0, 1 },
	{ ".a[3]", ".a[4]", 0, 0 },
	{ ".a[-1]", ".a[4]", 0, 1 },
	{ ".a[*]", ".a.b", 0, 0 },
	{ ".a.**", ".a", 1, 1 },
	{ ".a.**", ".a.b[0].c", 1, 1 },
	{ ".a.**", ".b", 0, 0 },
	{ ".a.**.c", ".a.c", 0, 1 },
	{ ".**", ".x.y", 1, 1 },
	{ ".a.b", ".a.**", 0, 1 },
};

START_TEST(test_path_relations)
{
	struct dsl_path *q, *p;

	two_paths(rel[_i].q, rel[_i].p, &q, &p);
	ck_assert_msg(cc_covers(q, p) == rel[_i].covers, "%s covers %s",
		      rel[_i].q, rel[_i].p);
	ck_assert_msg(cc_overlap(q, p) == rel[_i].overlap,
		      "%s overlaps %s", rel[_i].q, rel[_i].p);
	ck_assert_int_eq(cc_overlap(p, q), rel[_i].overlap);
}
END_TEST

/* "did you mean": one edit per three characters, a swap is one edit. */
static const struct {
	const char *word, *near;
} nearest[] = {
	{ "emial", "email" },
	{ "mask2", "mask" },
	{ "custmer", "customer" },
	{ "detial", "detail" },
	{ "zzzzzz", NULL },
	{ "e", NULL },
};

START_TEST(test_nearest)
{
	static const char *const words[] = {
		"email", "mask", "customer", "detail", "delete", NULL,
	};
	const char *got = dsl_nearest(nearest[_i].word,
				      strlen(nearest[_i].word), words);

	if (nearest[_i].near == NULL)
		ck_assert_ptr_null(got);
	else
		ck_assert_str_eq(got, nearest[_i].near);
}
END_TEST

/* Names the truncate-ip warning takes for IP address fields. */
static const struct {
	const char *name;
	int ip;
} ip_names[] = {
	{ "ip", 1 }, { "IP", 1 }, { "client_ip", 1 }, { "ip_address", 1 },
	{ "ipAddress", 1 }, { "sourceIPAddress", 1 }, { "clientIp", 1 },
	{ "ipv4", 1 }, { "IPv6", 1 }, { "remote-ips", 1 }, { "ip.addr", 1 },
	{ "IPV4_ADDRESS", 1 }, { "ipaddress", 1 }, { "x_ip2", 1 },
	{ "ipv6Address", 1 }, { "source-ip-address", 1 },
	{ "zip", 0 }, { "ZIP", 0 }, { "VIP", 0 }, { "tip_amount", 0 },
	{ "ipsum", 0 }, { "equipment", 0 }, { "description", 0 },
	{ "clientip", 0 }, { "shipping", 0 }, { "remote_addr", 0 },
};

START_TEST(test_ip_field_name)
{
	ck_assert_int_eq(cc_ip_field_name(ip_names[_i].name,
					  strlen(ip_names[_i].name)),
			 ip_names[_i].ip);
}
END_TEST

/* Could a value pass one element of a pattern field's list? 0 no,
 * 1 yes, 2 maybe. */
static const struct {
	const char *value, *matcher;
	int want;
} matchers[] = {
	{ "\"aws.s3\"", "\"aws.s3\"", 1 },
	{ "\"aws.s3\"", "\"aws.iam\"", 0 },
	{ "\"aws.s3\"", "{\"prefix\": \"aws.\"}", 1 },
	{ "\"com.x\"", "{\"prefix\": \"aws.\"}", 0 },
	{ "\"AWS.S3\"", "{\"prefix\": {\"equals-ignore-case\": \"aws.\"}}",
	  1 },
	{ "\"a.s3\"", "{\"suffix\": \".s3\"}", 1 },
	{ "\"Aws.S3\"", "{\"equals-ignore-case\": \"aws.s3\"}", 1 },
	{ "\"aws.s3\"", "{\"anything-but\": \"aws.s3\"}", 0 },
	{ "\"aws.s3\"", "{\"anything-but\": [\"a\", \"aws.s3\"]}", 0 },
	{ "\"aws.s3\"", "{\"anything-but\": {\"prefix\": \"aws\"}}", 0 },
	{ "\"aws.s3\"", "{\"anything-but\": \"aws.iam\"}", 2 },
	{ "\"ab-cd\"", "{\"wildcard\": \"ab*d\"}", 1 },
	{ "\"ab-ce\"", "{\"wildcard\": \"ab*d\"}", 0 },
	{ "\"a*b\"", "{\"wildcard\": \"a\\\\*b\"}", 1 },
	{ "5", "{\"numeric\": [\">\", 0, \"<=\", 5]}", 1 },
	{ "6", "{\"numeric\": [\">\", 0, \"<=\", 5]}", 0 },
	{ "\"5\"", "{\"numeric\": [\">\", 0]}", 0 },
	{ "5", "5.0", 2 },
	{ "\"x\"", "{\"exists\": true}", 1 },
	{ "\"x\"", "{\"exists\": false}", 0 },
	{ "\"10.0.0.1\"", "{\"cidr\": \"10.0.0.0/8\"}", 2 },
};

START_TEST(test_matchers)
{
	char src[256];
	struct dsl_stmt *s;
	const struct dsl_json *v, *m;

	snprintf(src, sizeof src, "set .x = [%s, %s]", matchers[_i].value,
		 matchers[_i].matcher);
	s = parse(src)->stmts.items[0];
	v = s->value->items.items[0];
	m = s->value->items.items[1];
	ck_assert_int_eq(cc_matcher_passes(v, m), matchers[_i].want);
}
END_TEST

static const char schema_text[] =
	"{\"openapi\": \"3.0.0\", \"components\": {\"schemas\": {"
	"\"AWSEvent\": {\"type\": \"object\","
	" \"x-amazon-events-source\": \"com.example\","
	" \"properties\": {\"source\": {\"type\": \"string\"},"
	"  \"detail\": {\"$ref\": \"#/components/schemas/D\"}}},"
	"\"D\": {\"type\": \"object\", \"properties\": {"
	" \"n\": {\"type\": \"integer\"},"
	" \"tags\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}},"
	" \"items\": {\"type\": \"array\", \"items\": {\"type\": \"object\","
	"  \"properties\": {\"sku\": {\"type\": \"string\"}}}},"
	" \"extra\": {\"type\": \"object\", \"additionalProperties\": true,"
	"  \"properties\": {\"a\": {\"type\": \"string\"}}},"
	" \"any\": {}}}}}}";

/* Where a path leads in the schema above. */
static const struct {
	const char *path;
	int through;
	enum cc_slook status;
	size_t seg;
} lookups[] = {
	{ ".source", 0, CC_S_FOUND, 0 },
	{ ".detail.n", 0, CC_S_FOUND, 0 },
	{ ".detail.m", 0, CC_S_MISSING, 1 },
	{ ".detail.n.x", 0, CC_S_MISSING, 2 },
	{ ".detail.tags[0]", 0, CC_S_FOUND, 0 },
	{ ".detail.items[*].sku", 0, CC_S_FOUND, 0 },
	{ ".detail.items.sku", 0, CC_S_MISSING, 2 },
	{ ".detail.items.sku", 1, CC_S_FOUND, 0 },
	{ ".detail.extra.b", 0, CC_S_OPEN, 0 },
	{ ".detail.any.b.c", 0, CC_S_OPEN, 0 },
	{ ".detail.*.sku", 0, CC_S_OPEN, 0 },
	{ ".detail.*.a", 0, CC_S_FOUND, 0 },
	{ ".**.sku", 0, CC_S_FOUND, 0 },
	{ ".nothing", 0, CC_S_MISSING, 0 },
};

START_TEST(test_schema_lookup)
{
	char name[] = "/tmp/scrub-schema-XXXXXX", err[256], src[128];
	struct cc_schema *s;
	struct cc_slookup r;
	struct dsl_stmt *st;
	struct dsl_path *p;
	int fd = mkstemp(name);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, schema_text, sizeof schema_text - 1),
			 (int)sizeof schema_text - 1);
	close(fd);
	ck_assert_msg(cc_schema_load(name, &s, err, sizeof err) == 0, "%s",
		      err);
	unlink(name);
	snprintf(src, sizeof src, "delete %s", lookups[_i].path);
	st = parse(src)->stmts.items[0];
	p = st->paths.items[0];
	cc_schema_lookup(s, p->segs, p->n, lookups[_i].through, &r);
	ck_assert_int_eq(r.status, lookups[_i].status);
	if (r.status == CC_S_MISSING)
		ck_assert_uint_eq(r.seg, lookups[_i].seg);
	/* The registry document fixes the source. */
	cc_schema_lookup(s, p->segs, 0, 0, &r);
	ck_assert_uint_eq(s->root->members->nvalues, 1);
	ck_assert_str_eq(s->root->members->values[0], "com.example");
	cc_schema_free(s);
}
END_TEST

/* One statement, as written and in canonical form. */
static const struct {
	const char *in, *out;
} formats[] = {
	{ "delete   .a,.b", "delete .a, .b\n" },
	{ "delete .[0]", "delete .[0]\n" },
	{ "keep .\"version\", .\"a b\"", "keep .version, .\"a b\"\n" },
	{ "drop when not(.a==1 or .b==2)",
	  "drop when not (.a == 1 or .b == 2)\n" },
	{ "drop when .a == 1 or (.b == 2 or .c == 3)",
	  "drop when .a == 1 or (.b == 2 or .c == 3)\n" },
	{ "mask .a keep  last 4 else null",
	  "mask .a keep last 4 else null\n" },
	{ "set .a = {\"k\":[1,2.50,\"\\u00e9\"]}",
	  "set .a = {\"k\": [1, 2.50, \"\\u00e9\"]}\n" },
	{ "on .a == 1 { delete .b } # end", "on .a == 1 {\n    delete .b\n"
	  "} # end\n" },
	{ "delete .a # why\n\n\n# next\ndelete .b",
	  "delete .a # why\n\n# next\ndelete .b\n" },
	{ "truncate .ip to /24 , /48", "truncate .ip to /24, /48\n" },
};

START_TEST(test_format)
{
	struct dsl_span *com = NULL;
	struct dsl_file *f = parse(formats[_i].in);
	size_t n = 0;
	struct buf out;

	ck_assert_int_eq(dsl_comments(&ctx, f->source, &com, &n), 0);
	buf_init(&out, 1u << 16);
	cc_format(&ctx, f, com, n, &out);
	buf_putc(&out, '\0');
	ck_assert_str_eq(out.data, formats[_i].out);
	buf_free(&out);
	free(com);
}
END_TEST

/* A policy with something for every warning and every field class. */
static const char oom_policy[] =
	"policy \"oom\"\n"
	"select {\"source\": [\"com.example\"]}\n"
	"rule \"no\" when {\"source\": [\"aws.s3\"]} { delete .detail.n }\n"
	"delete .detail.items\n"
	"mask .detail.items[*].sku keep last 2\n"
	"set .detail.x = 1\n"
	"set .detail.x = 2\n"
	"copy .detail.n to .detail.m\n"
	"rename .detail.tags to .detail.labels\n"
	"pseudonymize .detail.mising\n"
	"keep .source, .detail.n, .detail.x # the allowlist\n"
	"sample 5% by .detail.extra.a\n";

/* Run the tools over oom_policy with the file at `path`; 0 when nothing
 * ran out of memory. */
static int tools_once(const char *path, const struct cc_schema *schema)
{
	const struct cc_schema *list[1] = { schema };
	struct cc_options o = { 1, list, 1 };
	struct dsl_span *com = NULL;
	struct dsl_ctx c;
	struct cc_fields f;
	struct buf out;
	struct cc cc;
	size_t n = 0;
	int rc;

	dsl_ctx_init(&c);
	rc = cc_front_file(&cc, &c, path, &o);
	if (rc == 0) {
		struct dsl_arena a = { NULL, 0 };
		struct dsl_file *file;

		rc |= cc_fields(&cc, schema, &f);
		cc_fields_free(&f);
		rc |= dsl_parse(&c, &a, 0, &file) != 0 || file == NULL;
		rc |= dsl_comments(&c, 0, &com, &n);
		buf_init(&out, 1u << 20);
		if (rc == 0)
			cc_format(&c, file, com, n, &out);
		rc |= buf_failed(&out);
		buf_free(&out);
		free(com);
		dsl_arena_free(&a);
	}
	rc |= c.oom;
	cc_release(&cc);
	dsl_ctx_free(&c);
	return rc;
}

/* Every allocation of the front end, the warnings, the field report and
 * the formatter can fail: each failure is survived (no crash; valgrind
 * and ASan see no leak), and with enough memory all works. */
START_TEST(test_out_of_memory)
{
	char pol[] = "/tmp/scrub-oom-XXXXXX", sch[] = "/tmp/scrub-sch-XXXXXX";
	char err[256];
	struct cc_schema *schema;
	int fd = mkstemp(pol), fs = mkstemp(sch);
	unsigned long n, made;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(fs, 0);
	ck_assert_int_eq(write(fd, oom_policy, sizeof oom_policy - 1),
			 (int)sizeof oom_policy - 1);
	ck_assert_int_eq(write(fs, schema_text, sizeof schema_text - 1),
			 (int)sizeof schema_text - 1);
	close(fd);
	close(fs);
	ck_assert_int_eq(cc_schema_load(sch, &schema, err, sizeof err), 0);
	for (n = 1;; n++) {
		int rc;

		scrub_alloc_fail_after(n);
		rc = tools_once(pol, schema);
		made = scrub_alloc_fail_after(0);
		if (made < n) {
			/* The injector never fired: all went through. */
			ck_assert_int_eq(rc, 0);
			break;
		}
	}
	ck_assert_uint_gt(n, 50);
	cc_schema_free(schema);
	unlink(pol);
	unlink(sch);
}
END_TEST

static Suite *tools_suite(void)
{
	Suite *s = suite_create("tools");
	TCase *t = tcase_create("tools");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_loop_test(t, test_path_relations, 0,
			    sizeof rel / sizeof *rel);
	tcase_add_loop_test(t, test_nearest, 0,
			    sizeof nearest / sizeof *nearest);
	tcase_add_loop_test(t, test_ip_field_name, 0,
			    sizeof ip_names / sizeof *ip_names);
	tcase_add_loop_test(t, test_matchers, 0,
			    sizeof matchers / sizeof *matchers);
	tcase_add_loop_test(t, test_schema_lookup, 0,
			    sizeof lookups / sizeof *lookups);
	tcase_add_loop_test(t, test_format, 0,
			    sizeof formats / sizeof *formats);
	tcase_add_test(t, test_out_of_memory);
	tcase_set_timeout(t, 60);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(tools_suite());
}
