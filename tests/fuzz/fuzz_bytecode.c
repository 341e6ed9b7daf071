/* fuzz_bytecode.c - the loader and verifier on arbitrary bytes, and the
 * interpreter on whatever they accept.
 *
 * Built twice: fuzz-bytecode takes the bytes as they come, so most die at
 * the header; fuzz-bytecode-sealed (FUZZ_RESEAL) fixes the header's size
 * and checksum after each mutation, so mutated valid programs (the seed
 * corpus is the compiled policies) reach the section readers and the
 * verifier. Properties: no crash or leak; a refusal has a message; a
 * program that loads disassembles, and runs every test event to an
 * outcome within its budget. */
#include <string.h>

#include "../../vm/vm.h"
#include "../unit/mutate.h"
#include "fuzz.h"

static const char *const events[] = {
	"{}",
	("{\"source\":\"com.example.orders\",\"detail-type\":\"OrderPlaced\","
	 "\"detail\":{\"customer\":{\"email\":\"a@example.com\",\"ip\":"
	 "\"10.1.2.3\",\"id\":\"c-1\"},\"payment\":{\"card_number\":"
	 "\"4111111111111111\",\"cvv\":\"123\"},\"items\":[{\"sku\":"
	 "\"x\",\"qty\":2}],\"total\":12.5,\"notes\":\"call 555-010-"
	 "4477\"}}"),
	("{\"detail\":{\"customer\":{\"email\":5,\"ip\":[1,{}]},\"a\":"
	 "[[[]]],\"b\":null,\"c\":true}}"),
};

#ifdef FUZZ_RESEAL
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max,
			       unsigned int seed)
{
	size = LLVMFuzzerMutate(data, size, max);
	/* One mutant in eight keeps a broken header, to fuzz it too. */
	if (seed % 8 != 0)
		mutate_reseal(data, size);
	return size;
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm_error err;
	struct vm_program *p = vm_load(data, size, &err);
	struct buf listing;

	if (p == NULL) {
		if (err.msg[0] == '\0')
			fuzz_fail("refused without a message");
		return 0;
	}
	buf_init(&listing, 16u << 20);
	vm_disasm(p, &listing);
	buf_free(&listing);
	fuzz_run_events(p, events, sizeof events / sizeof *events);
	vm_program_free(p);
	return 0;
}
