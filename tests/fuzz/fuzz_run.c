/* fuzz_run.c - arbitrary events through every example policy and the
 * policies of the end-to-end tests (the process runs from the repository
 * root; `make fuzz` sees to that).
 *
 * Properties: no crash, leak or hang (the step budget bounds each run);
 * every emitted event is a JSON object that parses again; running the
 * same event twice gives the same outcome and bytes (determinism). */
#include <string.h>

#include "../../compiler/cc.h"
#include "../../runtime/scrub.h"
#include "../../vm/json.h"
#include "fuzz.h"

static const char *const files[] = {
	"policies/bench-reference.scrub",
	"policies/orders-to-stage.scrub",
	"policies/seed-fin-transactions.scrub",
	"tests/e2e/cases/canonical/policy.scrub",
	"tests/e2e/cases/drop-conditions/policy.scrub",
	"tests/e2e/cases/keep/policy.scrub",
	"tests/e2e/cases/mask/policy.scrub",
	"tests/e2e/cases/pseudonymize/policy.scrub",
	"tests/e2e/cases/rename-copy/policy.scrub",
	"tests/e2e/cases/replace/policy.scrub",
	"tests/e2e/cases/rules/policy.scrub",
	"tests/e2e/cases/sample/policy.scrub",
	"tests/e2e/cases/select-pattern/policy.scrub",
	"tests/e2e/cases/set-delete/policy.scrub",
	"tests/e2e/cases/truncate/policy.scrub",
};
#define NPOL (sizeof files / sizeof *files)

static scrub_program *programs[NPOL];
static scrub_worker *workers[NPOL];
static struct json_doc check;
static struct buf first;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct json_limits jl = { 4000, 1u << 20, 1u << 20 };
	char err[512];

	(void)argc;
	(void)argv;
	for (size_t i = 0; i < NPOL; i++) {
		if (scrub_program_open(files[i], &programs[i], NULL, NULL, err,
				       sizeof err) != 0) {
			fprintf(stderr, "fuzz-run: %s (run from the "
				"repository root)\n", err);
			exit(2);
		}
		scrub_program_set_key(programs[i], "fuzz-key", 8);
		workers[i] = scrub_worker_new(programs[i], NULL);
		if (workers[i] == NULL)
			exit(2);
	}
	if (json_doc_init(&check, &jl) != 0)
		exit(2);
	buf_init(&first, 64u << 20);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *ev = (const char *)data;

	for (size_t i = 0; i < NPOL; i++) {
		struct scrub_result r;
		enum scrub_status st = scrub_run(workers[i], ev, size, &r);

		buf_reset(&first);
		if (st == SCRUB_EMIT) {
			buf_put(&first, r.out, r.out_len);
			if (json_parse(&check, r.out, r.out_len, 0, 0) !=
			    JSON_OK ||
			    json_type_of(&check, check.root) != JSON_OBJECT)
				fuzz_fail("emitted event is not a JSON object");
		} else if (st == SCRUB_REJECT && (r.code == NULL ||
						  r.message == NULL)) {
			fuzz_fail("rejected without a code and message");
		}
		if (scrub_run(workers[i], ev, size, &r) != st ||
		    (st == SCRUB_EMIT && (r.out_len != first.len ||
					  memcmp(r.out, first.data,
						 first.len) != 0)))
			fuzz_fail("a second run differs from the first");
	}
	return 0;
}
