/* fuzz_compile.c - the compiler on arbitrary source text, and the
 * interpreter on whatever compiles.
 *
 * Properties: the front end and compiler never crash or leak on any
 * input; a policy that compiles gives bytecode the loader accepts (the
 * compiler and the verifier agree); every diagnostic renders; the
 * program runs a few events to an outcome within its budget. Relative
 * includes resolve under a directory that does not exist. */
#include <string.h>

#include "../../compiler/cc.h"
#include "../../vm/vm.h"
#include "fuzz.h"

static const char *const events[] = {
	"{\"source\":\"com.example.orders\",\"detail\":{\"a\":\"x@y.z\","
	"\"b\":[1,\"10.1.2.3\",{\"c\":null}],\"n\":-1.5e3}}",
	"{\"a\":[],\"b\":{},\"c\":true,\"d\":\"\",\"e\":\"\\u00e9\"}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dsl_ctx c;
	struct buf code, text;
	struct vm_error err;
	struct vm_program *p;
	int rc;

	dsl_ctx_init(&c);
	buf_init(&code, 16u << 20);
	rc = cc_compile_text(&c, "/nonexistent-scrub-fuzz/fuzz.scrub",
			     (const char *)data, size, &code);
	buf_init(&text, 1u << 20);
	for (struct dsl_diag *d = c.diags; d; d = d->next) {
		buf_reset(&text);
		dsl_diag_render(&c, d, &text);
	}
	buf_free(&text);
	if (rc == 0) {
		p = vm_load(code.data, code.len, &err);
		if (p == NULL) {
			fprintf(stderr, "fuzz: %s\n", err.msg);
			fuzz_fail("compiled bytecode does not load");
		}
		fuzz_run_events(p, events, sizeof events / sizeof *events);
		vm_program_free(p);
	} else if (c.errors == 0) {
		fuzz_fail("compilation failed without an error");
	}
	buf_free(&code);
	dsl_ctx_free(&c);
	return 0;
}
