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

#endif
