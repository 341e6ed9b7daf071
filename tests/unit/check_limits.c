/* check_limits.c - the per-event budget: each limit, reached alone,
 * rejects the event with its own code and an exact message; and every
 * loop over event data is paid for from the step budget. */
#include <check.h>

#include "helpers.h"

#define P(body) "policy \"t\"\n" body

enum which { DEPTH, VALUES, MEMORY, OUTPUT, STEPS };

static const struct {
	enum which limit;
	uint64_t value;
	const char *policy, *event, *code, *message;
} cases[] = {
	{ DEPTH, 2, P(""), "{\"a\":{\"b\":{}}}", "limit_depth",
	  "objects and arrays nested deeper than 2 at byte 10" },
	{ DEPTH, 3, P(""), "{\"a\":{\"b\":{}}}", NULL, NULL },
	/* Regression: this was reported as limit_memory. */
	{ DEPTH, 3, P("set .a = {\"b\": {\"c\": {\"d\": {}}}}"), "{}",
	  "limit_depth", "a value the policy sets nests deeper than 3" },
	{ VALUES, 3, P(""), "{\"a\":1,\"b\":2,\"c\":3}", "limit_values",
	  "more than 3 values (at byte 17)" },
	{ VALUES, 4, P("set .x.y.z = 1"), "{\"a\":1}", "limit_values",
	  "more than 4 values" },
	{ MEMORY, 16, P("set .a = \"0123456789abcdefghij\""), "{}",
	  "limit_memory", "edits need more than 16 bytes" },
	{ MEMORY, 8, P("mask .a with \"X\""), "{\"a\":\"0123456789\"}",
	  "limit_memory", "mask result larger than 8 bytes" },
	/* Regression (review A10): the b inside a replaced b was replaced
	 * too, and its child: three times the edit memory. */
	{ MEMORY, 20, P("replace .**.b with \"0123456789\""),
	  "{\"b\":{\"b\":{\"b\":1}}}", NULL, NULL },
	{ MEMORY, 20, P("replace .**.b with \"0123456789\""),
	  "{\"b\":1,\"c\":{\"b\":2}}", "limit_memory",
	  "edits need more than 20 bytes" },
	{ OUTPUT, 10, P(""), "{\"a\":\"0123456\"}", "limit_output",
	  "output larger than 10 bytes" },
	{ OUTPUT, 15, P(""), "{\"a\":\"0123456\"}", NULL, NULL },
	/* Regression: a buffer's first allocation (256 bytes) ignored a
	 * smaller limit, and appends within it were not checked. */
	{ OUTPUT, 10, P("set .b = 1"), "{\"a\":\"0123456\"}", "limit_output",
	  "output larger than 10 bytes" },
	{ STEPS, 3, P("delete .a\ndelete .b\ndelete .c"), "{}", "limit_steps",
	  "work limit of 3 steps exceeded" },
};

static void set_limit(struct scrub_limits *l, enum which w, uint64_t v)
{
	switch (w) {
	case DEPTH:
		l->max_depth = (uint32_t)v;
		break;
	case VALUES:
		l->max_values = (uint32_t)v;
		break;
	case MEMORY:
		l->max_memory = (uint32_t)v;
		break;
	case OUTPUT:
		l->max_output = (uint32_t)v;
		break;
	case STEPS:
		l->max_steps = v;
		break;
	}
}

/* Run `event` under `policy` with one limit changed. */
static enum scrub_status run_limited(const char *policy, const char *event,
				     size_t len, enum which w, uint64_t v,
				     struct scrub_result *r, char *msg,
				     size_t msglen)
{
	char err[256] = "";
	scrub_program *p = compile_text(policy, err, sizeof err);
	struct scrub_limits lim;
	scrub_worker *wk;
	enum scrub_status st;

	ck_assert_msg(p != NULL, "%s", err);
	scrub_limits_default(&lim);
	set_limit(&lim, w, v);
	wk = scrub_worker_new(p, &lim);
	ck_assert_ptr_nonnull(wk);
	st = scrub_run(wk, event, len, r);
	snprintf(msg, msglen, "%s %s", st == SCRUB_REJECT ? r->code : "-",
		 st == SCRUB_REJECT ? r->message : "-");
	scrub_worker_free(wk);
	scrub_program_free(p);
	return st;
}

START_TEST(test_each_limit)
{
	struct scrub_result r;
	char got[512], want[512];
	enum scrub_status st;

	st = run_limited(cases[_i].policy, cases[_i].event,
			 strlen(cases[_i].event), cases[_i].limit,
			 cases[_i].value, &r, got, sizeof got);
	if (cases[_i].code == NULL) {
		ck_assert_msg(st == SCRUB_EMIT, "%s", got);
		return;
	}
	snprintf(want, sizeof want, "%s %s", cases[_i].code,
		 cases[_i].message);
	ck_assert_str_eq(got, want);
}
END_TEST

/* The defaults, as the README and `scrub run --help` state them. */
START_TEST(test_defaults)
{
	struct scrub_limits l;

	scrub_limits_default(&l);
	ck_assert_uint_eq(l.max_depth, 1000);
	ck_assert_uint_eq(l.max_values, 262144);
	ck_assert_uint_eq(l.max_memory, 8388608);
	ck_assert_uint_eq(l.max_output, 4194304);
	ck_assert_uint_eq(l.max_steps, 10000000);
}
END_TEST

/* Regression (review A5): limits are public input. UINT32_MAX values
 * wrapped the node array's size to one byte (a heap overflow on the
 * first event); a worker is now refused each limit outside its range.
 * (The upper ends that reserve gigabytes are left out.) */
static const struct {
	enum which limit;
	uint64_t value;
	int ok;		/* 0: refused, 1: "{}" emitted, 2: too long */
} ranges[] = {
	{ VALUES, UINT32_MAX, 0 }, { VALUES, (1u << 26) + 1, 0 },
	{ VALUES, 0, 0 }, { VALUES, 1, 1 },
	{ DEPTH, 0, 0 }, { DEPTH, 100001, 0 }, { DEPTH, 100000, 1 },
	{ MEMORY, 0, 0 }, { MEMORY, (1u << 30) + 1, 0 }, { MEMORY, 1, 1 },
	{ OUTPUT, 0, 0 }, { OUTPUT, (1u << 30) + 1, 0 }, { OUTPUT, 1, 2 },
	{ STEPS, 0, 0 }, { STEPS, UINT64_MAX, 0 }, { STEPS, UINT64_MAX / 2, 1 },
};

START_TEST(test_limit_ranges)
{
	char err[256] = "";
	scrub_program *p = compile_text(P(""), err, sizeof err);
	struct scrub_limits lim;
	struct scrub_result r;
	scrub_worker *w;

	scrub_limits_default(&lim);
	set_limit(&lim, ranges[_i].limit, ranges[_i].value);
	w = scrub_worker_new(p, &lim);
	ck_assert_int_eq(w != NULL, ranges[_i].ok != 0);
	if (ranges[_i].ok == 1) {
		ck_assert_int_eq(scrub_run(w, "{}", 2, &r), SCRUB_EMIT);
		ck_assert_int_eq((int)r.out_len, 2);
	} else if (ranges[_i].ok == 2) {
		ck_assert_int_eq(scrub_run(w, "{}", 2, &r), SCRUB_REJECT);
		ck_assert_str_eq(r.code, "limit_output");
	}
	scrub_worker_free(w);
	scrub_program_free(p);
}
END_TEST

/* An object of n members "k0".."k(n-1)", all 0. */
static char *wide_object(size_t n, size_t *len)
{
	struct buf b;

	buf_init(&b, 1u << 26);
	buf_putc(&b, '{');
	for (size_t i = 0; i < n; i++) {
		char m[32];

		snprintf(m, sizeof m, "%s\"k%zu\":0", i ? "," : "", i);
		buf_puts(&b, m);
	}
	buf_putc(&b, '}');
	*len = b.len;
	return b.data;
}

/* Regression: looking a key up scanned every member of the object for
 * one step, so a policy of a few look-ups on a wide event did unbounded
 * work within a tiny budget. The scan is charged now. */
START_TEST(test_member_scan_charged)
{
	struct scrub_result r;
	char got[512];
	size_t len;
	char *ev = wide_object(5000, &len);

	run_limited(P("delete .missing"), ev, len, STEPS, 1000, &r, got,
		    sizeof got);
	ck_assert_str_eq(got, "limit_steps work limit of 1000 steps exceeded");
	run_limited(P("delete .missing"), ev, len, STEPS, 10000, &r, got,
		    sizeof got);
	ck_assert_str_eq(got, "- -");
	free(ev);
}
END_TEST

/* Regression: an EventBridge wildcard backtracks up to (string length x
 * pattern length); a long string cost one step. */
START_TEST(test_wildcard_charged)
{
	struct scrub_result r;
	char got[512];
	size_t n = 200000;
	char *ev = malloc(n + 16);

	memcpy(ev, "{\"a\":\"", 6);
	memset(ev + 6, 'a', n);
	memcpy(ev + 6 + n, "\"}", 3);
	run_limited(P("select {\"a\": [{\"wildcard\": "
		      "\"*aaaaaaaaaaaaaaab\"}]}"), ev, n + 8, STEPS, 20000,
		    &r, got, sizeof got);
	ck_assert_str_eq(got, "limit_steps work limit of 20000 steps "
			 "exceeded");
	free(ev);
}
END_TEST

/* Regression: KEEP marked the ancestors of every kept value up to the
 * root, (values x depth) work for one step. */
START_TEST(test_keep_linear)
{
	struct buf b;
	struct scrub_result r;
	char got[512];

	/* 900 levels of {"a":[...]} around 2000 leaves: .**.x keeps each. */
	buf_init(&b, 1u << 20);
	for (int i = 0; i < 450; i++)
		buf_puts(&b, "{\"a\":[");
	for (int i = 0; i < 2000; i++)
		buf_puts(&b, i ? ",{\"x\":1}" : "{\"x\":1}");
	for (int i = 0; i < 450; i++)
		buf_puts(&b, "]}");
	run_limited(P("keep .**.x"), b.data, b.len, STEPS, 60000, &r, got,
		    sizeof got);
	ck_assert_str_eq(got, "- -");
	buf_free(&b);
}
END_TEST

/* Regression: PCRE2 bounds backtracking per start position, so a
 * catastrophic pattern over a long string ran for minutes (13.7 s for
 * this 120 KB event) within a budget of 10,000,000 steps. The budget now
 * bounds the regex too. */
START_TEST(test_regex_budget)
{
	static const char *const policies[] = {
		P("drop \"m\" when .a matches /(?:a+a+)+$/"),
		P("replace .a matching /(?:a+a+)+$/ with \"x\""),
	};
	static const char *const messages[] = {
		"limit_steps work limit of 10000000 steps exceeded in a "
		"regular expression",
		"limit_steps work limit of 10000000 steps exceeded in a "
		"regular expression",
	};
	struct buf b;
	struct scrub_result r;
	char got[512];

	/* 6300 blocks of 18 'a's and a 'b': 2^18 steps per block. */
	buf_init(&b, 1u << 20);
	buf_puts(&b, "{\"a\":\"");
	for (int i = 0; i < 6300; i++)
		buf_puts(&b, "aaaaaaaaaaaaaaaaaab");
	buf_puts(&b, "\"}");
	for (size_t i = 0; i < 2; i++) {
		run_limited(policies[i], b.data, b.len, STEPS, 10000000, &r,
			    got, sizeof got);
		ck_assert_str_eq(got, messages[i]);
	}
	/* An ordinary pattern on the same string is no trouble. */
	run_limited(P("drop \"m\" when .a matches /ab$/"), b.data, b.len,
		    STEPS, 10000000, &r, got, sizeof got);
	ck_assert_str_eq(got, "- -");
	buf_free(&b);
}
END_TEST

static Suite *limits_suite(void)
{
	Suite *s = suite_create("limits");
	TCase *t = tcase_create("budget");

	tcase_set_timeout(t, 60);
	tcase_add_loop_test(t, test_each_limit, 0,
			    sizeof cases / sizeof *cases);
	tcase_add_test(t, test_defaults);
	tcase_add_loop_test(t, test_limit_ranges, 0,
			    sizeof ranges / sizeof *ranges);
	tcase_add_test(t, test_member_scan_charged);
	tcase_add_test(t, test_wildcard_charged);
	tcase_add_test(t, test_keep_linear);
	tcase_add_test(t, test_regex_budget);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(limits_suite());
}
