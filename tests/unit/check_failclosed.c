/* check_failclosed.c - fail closed, as a property: with allocation number
 * n made to fail (and every one after it), for n = 1, 2, ... until a run
 * no longer reaches n, the compiler, the loader and the interpreter
 * either finish exactly as they do without failures, or fail cleanly.
 * No event is ever emitted different from the unfailing run's output
 * (a half-scrubbed event would be), nothing crashes, and nothing leaks
 * (the suite runs under ASan/LSan and valgrind).
 *
 * SCRUB_FAILPOINT_STRIDE=k tries only every k-th failure point (the
 * valgrind run uses it to stay quick). */
#include <check.h>

#include "../../vm/alloc.h"
#include "../../vm/program.h"
#include "helpers.h"

static const char *const files[] = {
	"policies/bench-reference.scrub",
	"policies/orders-to-stage.scrub",
	"policies/seed-fin-transactions.scrub",
	"tests/e2e/cases/include/policy.scrub",
	"tests/e2e/cases/keep/policy.scrub",
	"tests/e2e/cases/mask/policy.scrub",
	"tests/e2e/cases/params/policy.scrub",
	"tests/e2e/cases/pseudonymize/policy.scrub",
	"tests/e2e/cases/rename-copy/policy.scrub",
	"tests/e2e/cases/replace/policy.scrub",
	"tests/e2e/cases/select-pattern/policy.scrub",
	"tests/e2e/cases/set-delete/policy.scrub",
	"tests/e2e/cases/truncate/policy.scrub",
	"tests/e2e/cases/duplicate-keys/policy.scrub",
};
#define NFILES (sizeof files / sizeof *files)

static unsigned long stride(void)
{
	const char *env = getenv("SCRUB_FAILPOINT_STRIDE");
	unsigned long k = env ? strtoul(env, NULL, 10) : 1;

	return k ? k : 1;
}

/* Compile `path`: 0 with the bytecode in `out`, else -1 and reported
 * (unless reporting it ran out of memory too). */
static int compile(const char *path, struct buf *out)
{
	int reported, rc = compile_file(path, out, &reported);

	if (rc != 0)
		ck_assert(reported);
	return rc;
}

START_TEST(test_compiler)
{
	struct buf good, b;
	unsigned long n, made = 0, failed = 0;

	ck_assert_int_eq(compile(files[_i], &good), 0);
	for (n = 1;; n += stride()) {
		scrub_alloc_fail_after(n);
		if (compile(files[_i], &b) == 0) {
			/* A compile that succeeds is the compile. */
			ck_assert_uint_eq(b.len, good.len);
			ck_assert(memcmp(b.data, good.data, b.len) == 0);
		} else {
			failed++;
		}
		buf_free(&b);
		made = scrub_alloc_fail_after(0);
		if (made < n)
			break;
	}
	ck_assert_uint_gt(failed, 0);
	buf_free(&good);
}
END_TEST

START_TEST(test_loader)
{
	struct buf good;
	unsigned long n, failed = 0;

	ck_assert_int_eq(compile(files[_i], &good), 0);
	for (n = 1;; n += stride()) {
		struct vm_error err;
		struct vm_program *p;

		scrub_alloc_fail_after(n);
		p = vm_load(good.data, good.len, &err);
		if (p == NULL) {
			ck_assert_msg(strstr(err.msg, "out of memory"),
				      "%s", err.msg);
			failed++;
		}
		vm_program_free(p);
		if (scrub_alloc_fail_after(0) < n)
			break;
	}
	ck_assert_uint_gt(failed, 0);
	buf_free(&good);
}
END_TEST

/* The events: the examples' and every e2e input's lines. */
static struct buf events;
static size_t nevents;

static void read_into(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	char chunk[4096];
	size_t n;

	/* Before the suite runs: Check's asserts do not work yet. */
	if (f == NULL) {
		perror(path);
		exit(1);
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_put(b, chunk, n);
	fclose(f);
	if (b->len && b->data[b->len - 1] != '\n')
		buf_putc(b, '\n');
}

static void load_events(void)
{
	static const char *const inputs[] = {
		"policies/examples/orders-to-stage.events.ndjson",
		"policies/examples/seed-fin-transactions.events.ndjson",
		"tests/e2e/cases/mask/input.ndjson",
		"tests/e2e/cases/replace/input.ndjson",
		"tests/e2e/cases/keep/input.ndjson",
		"tests/e2e/cases/rename-copy/input.ndjson",
		"tests/e2e/cases/set-delete/input.ndjson",
		"tests/e2e/cases/truncate/input.ndjson",
		"tests/e2e/cases/duplicate-keys/input.ndjson",
		"tests/e2e/cases/params/input.ndjson",
	};

	buf_init(&events, 1u << 24);
	for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++)
		read_into(inputs[i], &events);
	for (size_t i = 0; i < events.len; i++)
		nevents += events.data[i] == '\n';
}

/* One run of every event; `good` holds the unfailing outcomes ("E" and
 * the output, "D" and the reason, or "R"), and is filled when empty.
 * With failures injected, an emitted event must equal the good one. */
static void run_all(scrub_program *p, char **good, unsigned long *hits)
{
	scrub_worker *w = scrub_worker_new(p, NULL);
	const char *ev = events.data;

	if (w == NULL) {
		ck_assert_ptr_nonnull(good[0]);
		(*hits)++;
		return;
	}
	for (size_t e = 0; e < nevents; e++) {
		const char *nl = strchr(ev, '\n');
		struct scrub_result r;
		char *o = NULL;

		/* Plain malloc here: the injector is failing scrub's. */
		switch (scrub_run(w, ev, (size_t)(nl - ev), &r)) {
		case SCRUB_EMIT:
			ck_assert_int_ge(asprintf(&o, "E%.*s", (int)r.out_len,
						  r.out), 0);
			break;
		case SCRUB_DROP:
			ck_assert_int_ge(asprintf(&o, "D%s", r.reason), 0);
			break;
		case SCRUB_REJECT:
			o = strdup("R");
			break;
		}
		if (good[e] == NULL) {
			good[e] = o;
			o = NULL;
		} else if (o[0] == 'E') {
			ck_assert_str_eq(o, good[e]);
		} else if (strcmp(o, good[e]) != 0) {
			/* Dropped or rejected instead: failing closed. */
			(*hits)++;
		}
		free(o);
		ev = nl + 1;
	}
	scrub_worker_free(w);
}

START_TEST(test_interpreter)
{
	char **good = calloc(nevents, sizeof *good);
	char err[512];
	scrub_program *p;
	unsigned long n, hits = 0;

	ck_assert_int_eq(scrub_program_open(files[_i], &p, NULL, NULL, err,
					    sizeof err), 0);
	scrub_program_set_key(p, "failclosed-key", 14);
	run_all(p, good, &hits);
	for (n = 1;; n += stride()) {
		scrub_alloc_fail_after(n);
		run_all(p, good, &hits);
		if (scrub_alloc_fail_after(0) < n)
			break;
	}
	ck_assert_uint_gt(hits, 0);
	for (size_t e = 0; e < nevents; e++)
		free(good[e]);
	free(good);
	scrub_program_free(p);
}
END_TEST

static Suite *failclosed_suite(void)
{
	Suite *s = suite_create("failclosed");
	TCase *t = tcase_create("allocation");

	tcase_set_timeout(t, 600);
	tcase_add_loop_test(t, test_compiler, 0, NFILES);
	tcase_add_loop_test(t, test_loader, 0, NFILES);
	tcase_add_loop_test(t, test_interpreter, 0, NFILES);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	int rc;

	load_events();
	rc = run_suite(failclosed_suite());
	buf_free(&events);
	return rc;
}
