/* fuzz.h - what the libFuzzer targets share. Each target defines
 * LLVMFuzzerTestOneInput; built with clang -fsanitize=fuzzer it is a
 * fuzzer, linked with replay.c (any compiler) it runs saved inputs, which
 * is how the regression inputs run in the normal test suite.
 *
 * A target reports a broken property with fuzz_fail(), which aborts: to
 * libFuzzer that is a crash, saved with the input that caused it. */
#ifndef SCRUB_FUZZ_H
#define SCRUB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../vm/vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max,
			       unsigned int seed);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max);

static inline void fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz: property broken: %s\n", what);
	abort();
}

/* Run `n` events through a loaded program under small limits, keyed:
 * each must reach an outcome, and a reject must say why. */
static inline void fuzz_run_events(struct vm_program *p,
				   const char *const *events, size_t n)
{
	struct vm_limits lim = { 64, 4096, 1u << 16, 1u << 16, 100000 };
	struct vm_exec *ex;

	vm_program_set_key(p, "fuzz-key", 8);
	ex = vm_exec_new(p, &lim);
	for (size_t i = 0; ex && i < n; i++) {
		struct vm_outcome o;

		if (vm_run(ex, events[i], strlen(events[i]), &o) ==
		    VM_REJECT && (o.code == NULL || o.message[0] == '\0'))
			fuzz_fail("rejected without a code and message");
	}
	vm_exec_free(ex);
}

#endif
