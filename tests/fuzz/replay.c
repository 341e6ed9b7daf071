/* replay.c - run a fuzz target over saved inputs without libFuzzer:
 *
 *   fuzz-TARGET-replay FILE...
 *
 * Each file is passed to LLVMFuzzerTestOneInput once, as libFuzzer would.
 * A broken property aborts; otherwise the exit status is 0. */
#include <errno.h>
#include <string.h>

#include "fuzz.h"

/* Targets without an initializer get this one. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* The bytecode target's mutator calls it; replay never mutates. */
__attribute__((weak)) size_t LLVMFuzzerMutate(uint8_t *data, size_t size,
					      size_t max)
{
	(void)data;
	(void)max;
	return size;
}

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (len == cap) {
			uint8_t *p = realloc(data, cap = cap ? 2 * cap : 65536);

			if (p == NULL) {
				free(data);
				fclose(f);
				return -1;
			}
			data = p;
		}
		n = fread(data + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	return 0;
}

int main(int argc, char **argv)
{
	int status = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++)
		if (run_file(argv[i]) != 0)
			status = 1;
	return status;
}
