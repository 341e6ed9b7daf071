/* check_redact.c - REDACT and the whole-value operators through the whole
 * pipeline: a policy, an event, and the exact outcome (the key is
 * "unit-test-key", so pseudonyms, fakes, tokens and date offsets are
 * fixed). Then reject messages, the needs-key flag and the listing. */
#include <check.h>

#include "../../vm/alloc.h"
#include "../../vm/program.h"
#include "../../vm/vm.h"
#include "helpers.h"

#define P(body) "policy \"t\"\n" body

static const struct {
	const char *policy, *event, *expect;
} cases[] = {
	/* REDACT: each kind of replacement; null, wrong types, wildcards,
	 * object keys (never two alike), untouched strings stay as written */
	{ P("redact .a using email"), "{\"a\":\"mail jane@x.io now\"}",
	  "emit: {\"a\":\"mail [REDACTED] now\"}" },
	{ P("redact .a using email with \"[E]\""),
	  "{\"a\":\"jane@x.io, bob@y.io\"}",
	  "emit: {\"a\":\"[E], [E]\"}" },
	{ P("redact .a using email with label"), "{\"a\":\"jane@x.io\"}",
	  "emit: {\"a\":\"<EMAIL>\"}" },
	{ P("redact .a using credit_card with mask keep last 4"),
	  "{\"a\":\"card 4111-1111-1111-1111 ok\"}",
	  "emit: {\"a\":\"card ****-****-****-1111 ok\"}" },
	{ P("redact .a using credit_card with mask keep first 1 keep last 4"),
	  "{\"a\":\"4111111111111111\"}",
	  "emit: {\"a\":\"4***********1111\"}" },
	{ P("redact .a using email with pseudonym"), "{\"a\":\"jane@x.io\"}",
	  "emit: {\"a\":\"dc1a9906beffb01b\"}" },
	{ P("redact .a using email with pseudonym length 8"),
	  "{\"a\":\"jane@x.io\"}",
	  "emit: {\"a\":\"dc1a9906\"}" },
	{ P("redact .a using email with fake"), "{\"a\":\"jane@x.io\"}",
	  "emit: {\"a\":\"aefj@example.invalid\"}" },
	{ P("redact .a using email"), "{\"a\":\"nothing here\"}",
	  "emit: {\"a\":\"nothing here\"}" },
	{ P("redact .a using email"), "{\"a\":\"nothing\\u0020here\"}",
	  "emit: {\"a\":\"nothing\\u0020here\"}" },
	{ P("redact .a using email"), "{\"a\":null}",
	  "emit: {\"a\":null}" },
	{ P("redact .a using email"), "{\"a\":5}",
	  "reject: type_mismatch" },
	{ P("redact .a using email else null"), "{\"a\":5}",
	  "emit: {\"a\":null}" },
	{ P("redact .a using email else delete"), "{\"a\":5,\"b\":1}",
	  "emit: {\"b\":1}" },
	{ P("redact .a using email"), "{}",
	  "emit: {}" },
	{ P("redact .a[*] using email"),
	  "{\"a\":[\"jane@x.io\",1,null,{\"b\":\"bob@y.io\"}]}",
	  "emit: {\"a\":[\"[REDACTED]\",1,null,{\"b\":\"bob@y.io\"}]}" },
	{ P("redact .** using email"),
	  "{\"a\":{\"b\":[\"jane@x.io\"]},\"c\":\"bob@y.io\",\"d\":2}",
	  "emit: {\"a\":{\"b\":[\"[REDACTED]\"]},\"c\":\"[REDACTED]\","
	  "\"d\":2}" },
	{ P("redact .a.* and keys using email"),
	  "{\"a\":{\"jane@x.io\":1,\"bob@y.io\":2,\"[REDACTED]\":3}}",
	  "emit: {\"a\":{\"[REDACTED]#2\":1,\"[REDACTED]#3\":2,"
	  "\"[REDACTED]\":3}}" },
	{ P("redact .a.* and keys using email with pseudonym length 6"),
	  "{\"a\":{\"jane@x.io\":\"jane@x.io\"}}",
	  "emit: {\"a\":{\"dc1a99\":\"dc1a99\"}}" },
	{ P("redact .a using pii, secrets with label"),
	  "{\"a\":\"ip 10.0.0.1 key AKIAIOSFODNN7EXAMPLE ssn 078-05-1123\"}",
	  "emit: {\"a\":\"ip <IPV4> key <AWS_ACCESS_KEY_ID> ssn <US_SSN>\"}" },
	{ P("redact .a using email with fake"),
	  "{\"a\":\"JANE@X.IO and jane@x.io and JANE@X.IO\"}",
	  "emit: {\"a\":\"PCYN@example.invalid and aefj@example.invalid "
	  "and PCYN@example.invalid\"}" },
	{ P("redact .a using email"),
	  "{\"a\":\"caf\\u00e9 jane@x.io \\u00e9\"}",
	  "emit: {\"a\":\"café [REDACTED] é\"}" },
	/* a pseudonym in text is the one pseudonymize gives the field */
	{ P("pseudonymize .a length 8"), "{\"a\":\"jane@x.io\"}",
	  "emit: {\"a\":\"dc1a9906\"}" },
	/* ROUND: exact decimal, halves away from zero; numbers written as
	 * strings stay strings; other strings are skipped under [*] */
	{ P("round .a to 10"), "{\"a\":1234.5}",
	  "emit: {\"a\":1230}" },
	{ P("round .a to 10"), "{\"a\":-4.9}",
	  "emit: {\"a\":0}" },
	{ P("round .a to 0.01"), "{\"a\":1.005}",
	  "emit: {\"a\":1.01}" },
	{ P("round .a to 0.5"), "{\"a\":\"2.26\"}",
	  "emit: {\"a\":\"2.5\"}" },
	{ P("round .a to 1"), "{\"a\":1.50}",
	  "emit: {\"a\":2}" },
	{ P("round .a to 1"), "{\"a\":\"abc\"}",
	  "reject: type_mismatch" },
	{ P("round .a to 1"), "{\"a\":true}",
	  "reject: type_mismatch" },
	{ P("round .a to 1"), "{\"a\":1e300}",
	  "reject: type_mismatch" },
	{ P("round .a to 100"), "{\"a\":[1,2]}",
	  "reject: type_mismatch" },
	{ P("round .a[*] to 100"), "{\"a\":[149,150,\"x\",null]}",
	  "emit: {\"a\":[100,200,\"x\",null]}" },
	{ P("round .a to 10"), "{\"a\":-5}",
	  "emit: {\"a\":-10}" },
	{ P("round .a to 1"), "{\"a\":1E+2}",
	  "emit: {\"a\":100}" },
	{ P("round .a to 1000"), "{\"a\":12345678901234567890}",
	  "emit: {\"a\":12345678901234568000}" },
	{ P("round .a to 0.001"), "{\"a\":1e-300}",
	  "emit: {\"a\":0.000}" },
	{ P("round .a[*] to 100"), "{\"a\":[149,150,\"x\",null,\"-250\"]}",
	  "emit: {\"a\":[100,200,\"x\",null,\"-300\"]}" },
	{ P("round .a to 0.05"), "{\"a\":-0.025}",
	  "emit: {\"a\":-0.05}" },
	{ P("round .a to 25"), "{\"a\":37.5}",
	  "emit: {\"a\":50}" },
	/* Regression (review A2): exponents are clamped at 10^6, exactly
	 * (the digits all lie below the step, or the value is too large);
	 * a zero with a huge exponent is 0 at once. Before: signed overflow
	 * adding the exponent, and a loop as long as the exponent. */
	{ P("round .a to 1"), "{\"a\":\"0e99999999999999999999\"}",
	  "emit: {\"a\":\"0\"}" },
	{ P("round .a to 1"), "{\"a\":0.00e-9223372036854775808}",
	  "emit: {\"a\":0}" },
	{ P("round .a to 1"), "{\"a\":0e999999999}",
	  "emit: {\"a\":0}" },
	{ P("round .a to 1"), "{\"a\":1.55e-9223372036854775808}",
	  "emit: {\"a\":0}" },
	{ P("round .a to 1"), "{\"a\":1.55e9223372036854775807}",
	  "reject: type_mismatch" },
	{ P("bucket .a by 10"), "{\"a\":-1e-99999999999}",
	  "emit: {\"a\":\"[-10,0)\"}" },
	{ P("bucket .a by 10"), "{\"a\":0e99999999999}",
	  "emit: {\"a\":\"[0,10)\"}" },
	/* BUCKET: [lo,hi) of the step, lo rounded toward minus infinity */
	{ P("bucket .a by 10"), "{\"a\":37}",
	  "emit: {\"a\":\"[30,40)\"}" },
	{ P("bucket .a by 10"), "{\"a\":-3}",
	  "emit: {\"a\":\"[-10,0)\"}" },
	{ P("bucket .a by 0.5"), "{\"a\":\"1.2\"}",
	  "emit: {\"a\":\"[1.0,1.5)\"}" },
	{ P("bucket .a by 10"), "{\"a\":-10}",
	  "emit: {\"a\":\"[-10,0)\"}" },
	{ P("bucket .a by 10"), "{\"a\":-0.0}",
	  "emit: {\"a\":\"[0,10)\"}" },
	{ P("bucket .a by 1000"), "{\"a\":12345678901234567890}",
	  "emit: {\"a\":\"[12345678901234567000,12345678901234568000)\"}" },
	/* SHIFT_DATE: one offset per entity, 1..N days either way; the time
	 * and zone as written */
	{ P("shift .d within 30 days by .id"),
	  "{\"id\":\"u1\",\"d\":\"2023-04-21\"}",
	  "emit: {\"id\":\"u1\",\"d\":\"2023-04-17\"}" },
	{ P("shift .d within 30 days by .id"),
	  "{\"id\":\"u1\",\"d\":\"2023-04-21T14:32:07.512+02:00\"}",
	  "emit: {\"id\":\"u1\",\"d\":\"2023-04-17T14:32:07.512+02:00\"}" },
	{ P("shift .d within 30 days by .id"),
	  "{\"id\":\"u2\",\"d\":\"2023-04-21\"}",
	  "emit: {\"id\":\"u2\",\"d\":\"2023-05-19\"}" },
	{ P("shift .d within 30 days by .id"),
	  "{\"id\":\"u1\",\"d\":\"2023-02-30\"}",
	  "reject: type_mismatch" },
	{ P("shift .d within 30 days by .id"),
	  "{\"id\":\"u1\",\"d\":\"21/04/2023\"}",
	  "reject: type_mismatch" },
	{ P("shift .d within 30 days by .id"), "{\"d\":\"2023-04-21\"}",
	  "reject: type_mismatch" },
	{ P("shift .d within 30 days by .id"),
	  "{\"id\":7,\"d\":\"2023-04-21\"}",
	  "emit: {\"id\":7,\"d\":\"2023-03-26\"}" },
	{ P("shift .d within 30 days by .id"),
	  "{\"id\":\"7\",\"d\":\"2023-04-21\"}",
	  "emit: {\"id\":\"7\",\"d\":\"2023-03-26\"}" },
	{ P("shift .d within 1 day by .id"),
	  "{\"id\":\"u1\",\"d\":\"2024-02-28t23:59:60Z\"}",
	  "emit: {\"id\":\"u1\",\"d\":\"2024-02-27t23:59:60Z\"}" },
	{ P("shift .d within 30 days by .id else null"),
	  "{\"id\":\"u1\",\"d\":\"later\"}",
	  "emit: {\"id\":\"u1\",\"d\":null}" },
	/* TRUNCATE: characters, not bytes */
	{ P("truncate .a to 3"), "{\"a\":\"h\\u00e9llo\"}",
	  "emit: {\"a\":\"hél\"}" },
	{ P("truncate .a to 10"), "{\"a\":\"short\"}",
	  "emit: {\"a\":\"short\"}" },
	{ P("truncate .a to 0"), "{\"a\":\"x\"}",
	  "emit: {\"a\":\"\"}" },
	{ P("truncate .a to 3"), "{\"a\":3}",
	  "reject: type_mismatch" },
	/* TOKENIZE: prefix, key id, _, base32 of the keyed hash */
	{ P("tokenize .a key \"k1\""), "{\"a\":\"CUST-1\"}",
	  "emit: {\"a\":\"k1_e4qggobtktvbjl7qzmbozmaifl\"}" },
	{ P("tokenize .a prefix \"cus_\" key \"v2\" length 10"),
	  "{\"a\":\"CUST-1\"}",
	  "emit: {\"a\":\"cus_v2_e4qggobtkt\"}" },
	{ P("tokenize .a key \"k1\""), "{\"a\":null}",
	  "emit: {\"a\":null}" },
};

START_TEST(test_operator)
{
	char got[4096];

	outcome(cases[_i].policy, cases[_i].event, got, sizeof got);
	ck_assert_msg(strcmp(got, cases[_i].expect) == 0,
		      "%s\n  on %s\n  expected %s\n  got      %s",
		      cases[_i].policy + 11, cases[_i].event, cases[_i].expect,
		      got);
}
END_TEST

/* What a reject says: the operator, the policy's path, the reason. */
static const struct {
	const char *policy, *event, *message;
} rejects[] = {
	{ P("redact .a using email"), "{\"a\":[1]}",
	  "redact: the value at .a is an array, not a string" },
	{ P("round .a to 1"), "{\"a\":\"abc\"}",
	  "round: the value at .a is not a number" },
	{ P("round .a to 1"), "{\"a\":1e40}",
	  "round: the value at .a is too large to round exactly" },
	{ P("shift .d within 9 days by .id"), "{\"d\":\"2023-04-21\"}",
	  "shift: the value at .d has no entity to shift by: nothing "
	  "at the 'by' path is a string or number" },
	{ P("shift .d within 9 days by .id"),
	  "{\"id\":1,\"d\":\"2023-04-21 25:00\"}",
	  "shift: the value at .d is not an ISO 8601 date" },
	{ P("shift .d within 9 days by .id"), "{\"id\":1,\"d\":\"0000-01-01\"}",
	  "shift: the value at .d would leave the years 0000-9999" },
	{ P("tokenize .a key \"k\""), "{\"a\":false}",
	  "tokenize: the value at .a is a boolean, not a string" },
};

START_TEST(test_reject_message)
{
	char err[512] = "";
	scrub_program *p = compile_text(rejects[_i].policy, err, sizeof err);
	scrub_worker *w;
	struct scrub_result r;

	ck_assert_msg(p != NULL, "%s", err);
	scrub_program_set_key(p, "unit-test-key", 13);
	w = scrub_worker_new(p, NULL);
	ck_assert_int_eq(scrub_run(w, rejects[_i].event,
				   strlen(rejects[_i].event), &r),
			 SCRUB_REJECT);
	ck_assert_str_eq(r.code, "type_mismatch");
	ck_assert_str_eq(r.message, rejects[_i].message);
	scrub_worker_free(w);
	scrub_program_free(p);
}
END_TEST

/* Keyed replacements make the program ask for a key; the others not. */
START_TEST(test_needs_key)
{
	static const struct {
		const char *policy;
		int keyed;
	} k[] = {
		{ P("redact .a using pii"), 0 },
		{ P("redact .a using pii with label"), 0 },
		{ P("redact .a using pii with mask keep last 2"), 0 },
		{ P("redact .a using pii with pseudonym"), 1 },
		{ P("redact .a using pii with fake"), 1 },
		{ P("round .a to 5\nbucket .b by 5\ntruncate .c to 5"), 0 },
		{ P("shift .a within 5 days by .b"), 1 },
		{ P("tokenize .a key \"k\""), 1 },
	};
	char err[512];

	for (size_t i = 0; i < sizeof k / sizeof *k; i++) {
		scrub_program *p = compile_text(k[i].policy, err, sizeof err);

		ck_assert_msg(p != NULL, "%s", err);
		ck_assert_int_eq(scrub_program_needs_key(p), k[i].keyed);
		scrub_program_free(p);
	}
}
END_TEST

/* The listing names the detectors of a set. */
START_TEST(test_disasm)
{
	static const char src[] = P(
		"redact .a, .b.** and keys using email, phone with mask keep "
		"last 2\n"
		"round .n to 0.5\n"
		"shift .d within 7 days by .id else null\n"
		"tokenize .t prefix \"c_\" key \"k2\" length 8\n"
		"truncate .s to 4\n");
	static const char want[] =
		"   0     2  REDACT           p0:.\"a\", {email, phone}, 258, "
		"0, 2, -, else reject\n"
		"  29     2  REDACT           p1:.\"b\".**, {email, phone}, "
		"258, 0, 2, -, else reject\n"
		"  58     3  ROUND            p2:.\"n\", 0.5, else reject\n"
		"  71     4  SHIFT_DATE       p3:.\"d\", 7, p4:.\"id\", "
		"else null\n"
		"  88     5  TOKENIZE         p5:.\"t\", \"c_\", \"k2\", 8, "
		"else reject\n"
		" 109     6  TRUNCATE         p6:.\"s\", 4, else reject\n"
		" 122     6  HALT            \n";
	struct dsl_ctx c;
	struct buf code, text;
	struct vm_error err;
	struct vm_program *p;
	const char *listing;

	dsl_ctx_init(&c);
	buf_init(&code, 1u << 20);
	buf_init(&text, 1u << 20);
	ck_assert_int_eq(cc_compile_text(&c, "t.scrub", src, strlen(src),
					 &code), 0);
	p = vm_load(code.data, code.len, &err);
	ck_assert_msg(p != NULL, "%s", err.msg);
	vm_disasm(p, &text);
	buf_putc(&text, '\0');
	listing = strstr(text.data, "   0  ");
	ck_assert_ptr_nonnull(listing);
	ck_assert_str_eq(listing, want);
	vm_program_free(p);
	buf_free(&code);
	buf_free(&text);
	dsl_ctx_free(&c);
}
END_TEST

/* Loading a program with detector sets and running it, with the Nth
 * allocation failing, for every N: a clean refusal or a right result,
 * never a crash or a leak (valgrind and ASan watch). */
START_TEST(test_allocation_failures)
{
	static const char src[] = P("redact .a, .b using pii with fake\n");
	static const char event[] = "{\"a\":\"mail jane@x.io\",\"b\":\"\"}";
	struct dsl_ctx c;
	struct buf code;
	struct vm_limits lim;
	int done = 0;

	dsl_ctx_init(&c);
	buf_init(&code, 1u << 20);
	ck_assert_int_eq(cc_compile_text(&c, "t.scrub", src, strlen(src),
					 &code), 0);
	dsl_ctx_free(&c);
	vm_limits_default(&lim);
	for (unsigned long n = 1; !done; n++) {
		struct vm_error err;
		struct vm_program *p;
		struct vm_exec *ex = NULL;
		struct vm_outcome o;

		scrub_alloc_fail_after(n);
		p = vm_load(code.data, code.len, &err);
		if (p) {
			vm_program_set_key(p, "k", 1);
			ex = vm_exec_new(p, &lim);
		}
		/* Memory failing during the run rejects the event. */
		if (ex && vm_run(ex, event, strlen(event), &o) == VM_REJECT)
			ck_assert_msg(strcmp(o.code, "limit_memory") == 0 ||
				      strcmp(o.code, "out_of_memory") == 0,
				      "allocation %lu: %s", n, o.code);
		done = ex != NULL && o.status == VM_EMIT;
		scrub_alloc_fail_after(0);
		vm_exec_free(ex);
		vm_program_free(p);
		ck_assert_uint_lt(n, 10000);
	}
	buf_free(&code);
}
END_TEST

static Suite *redact_suite(void)
{
	Suite *s = suite_create("redact");
	TCase *t = tcase_create("operators");

	tcase_add_loop_test(t, test_operator, 0, sizeof cases / sizeof *cases);
	tcase_add_loop_test(t, test_reject_message, 0,
			    sizeof rejects / sizeof *rejects);
	tcase_add_test(t, test_needs_key);
	tcase_add_test(t, test_disasm);
	tcase_add_test(t, test_allocation_failures);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(redact_suite());
}
