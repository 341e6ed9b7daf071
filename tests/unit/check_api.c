/* check_api.c - the embedding API, used only through the public header,
 * as an embedder would: load, bind, run, batch, count, share between
 * threads. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../runtime/scrub.h"

static const char policy[] =
	"policy \"api\"\n"
	"param rate = 100\n"
	"select {\"source\": [\"orders\"]}\n"
	"sample $rate% by .id\n"
	"pseudonymize .email length 8\n";

static char path[64];

static void setup(void)
{
	FILE *f;

	snprintf(path, sizeof path, "/tmp/check_api_%d.scrub", (int)getpid());
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(policy, f);
	fclose(f);
}

static void teardown(void)
{
	unlink(path);
}

static scrub_program *open_policy(void)
{
	scrub_program *p;
	char err[256];

	ck_assert_int_eq(scrub_program_open(path, &p, NULL, NULL, err,
					    sizeof err), 0);
	return p;
}

START_TEST(test_run)
{
	scrub_program *p = open_policy();
	scrub_worker *w;
	struct scrub_result r;
	static const char ev[] = "{\"source\":\"orders\",\"id\":\"a\","
				 "\"email\":\"x@y.z\"}";
	char out[256];

	ck_assert_str_eq(scrub_program_name(p), "api");
	ck_assert(scrub_program_needs_key(p));
	scrub_program_set_key(p, "k", 1);
	w = scrub_worker_new(p, NULL);
	ck_assert_int_eq(scrub_run(w, ev, sizeof ev - 1, &r), SCRUB_EMIT);
	snprintf(out, sizeof out, "%.*s", (int)r.out_len, r.out);
	ck_assert_str_eq(out, "{\"source\":\"orders\",\"id\":\"a\","
			 "\"email\":\"a861edb6\"}");
	ck_assert_int_eq(scrub_run(w, "{\"source\":\"x\"}", 14, &r),
			 SCRUB_DROP);
	ck_assert_str_eq(r.reason, "select");
	scrub_worker_free(w);
	scrub_program_free(p);
}
END_TEST

START_TEST(test_errors)
{
	scrub_program *p;
	char err[256];

	ck_assert_int_ne(scrub_program_load("SCRB", 4, &p, err, sizeof err),
			 0);
	ck_assert_ptr_null(p);
	ck_assert_str_eq(err, "invalid bytecode: file is 4 bytes, too short "
			 "for the 24-byte header (truncated)");
	ck_assert_int_ne(scrub_program_open("/nonexistent.scrub", &p, NULL,
					    NULL, err, sizeof err), 0);
	ck_assert_str_eq(err, "cannot open '/nonexistent.scrub': No such "
			 "file or directory");
	p = open_policy();
	ck_assert_int_ne(scrub_program_set_param(p, "rate", "x", err,
						 sizeof err), 0);
	ck_assert_str_eq(err, "parameter 'rate' takes a number, not 'x'");
	scrub_program_free(p);
}
END_TEST

/* Collects the diagnostics of a policy with errors. */
static void collect(void *ctx, const char *text)
{
	strncat(ctx, text, 1023 - strlen(ctx));
}

START_TEST(test_diagnostics)
{
	scrub_program *p;
	char diags[1024] = "", err[256];
	FILE *f = fopen(path, "w");

	fputs("policy \"bad\"\nmsak .a\n", f);
	fclose(f);
	ck_assert_int_ne(scrub_program_open(path, &p, collect, diags, err,
					    sizeof err), 0);
	ck_assert_ptr_nonnull(strstr(diags, ":2:1: error: unknown statement "
				     "'msak'\n"));
	ck_assert_ptr_nonnull(strstr(err, ": policy has 1 error"));
}
END_TEST

/* One program, four threads, each with its own worker: the same answers
 * as one thread alone. */
static void *worker(void *arg)
{
	const scrub_program *p = arg;
	scrub_worker *w = scrub_worker_new(p, NULL);
	struct scrub_result r;
	char ev[128];
	long bad = 0;

	for (int i = 0; i < 2000; i++) {
		int n = snprintf(ev, sizeof ev, "{\"source\":\"orders\","
				 "\"id\":\"%d\",\"email\":\"e%d\"}", i, i % 7);

		if (scrub_run(w, ev, (size_t)n, &r) != SCRUB_EMIT ||
		    r.out_len != (size_t)n + 6)
			bad++;
	}
	scrub_worker_free(w);
	return (void *)bad;
}

START_TEST(test_threads)
{
	scrub_program *p = open_policy();
	pthread_t t[4];
	void *bad;

	scrub_program_set_key(p, "k", 1);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, worker, p);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], &bad);
		ck_assert_ptr_null(bad);
	}
	scrub_program_free(p);
}
END_TEST

static Suite *api_suite(void)
{
	Suite *s = suite_create("api");
	TCase *t = tcase_create("embedding");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_run);
	tcase_add_test(t, test_errors);
	tcase_add_test(t, test_diagnostics);
	tcase_add_test(t, test_threads);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(api_suite());
	int failed;

	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
