/* fuzz_json.c - the event parser and printer on arbitrary bytes.
 *
 * Properties: no crash or leak; an error offset lies within the input;
 * what parses prints as JSON that parses again and prints the same
 * (printing is idempotent), verbatim and canonical; every string, key
 * and number of a parsed document can be read. */
#include <string.h>

#include "../../vm/json.h"
#include "fuzz.h"

static struct json_doc a, b;
static struct buf out1, out2;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct json_limits lim = { 256, 1u << 16, 1u << 20 };

	(void)argc;
	(void)argv;
	if (json_doc_init(&a, &lim) != 0 || json_doc_init(&b, &lim) != 0)
		exit(2);
	buf_init(&out1, 64u << 20);
	buf_init(&out2, 64u << 20);
	return 0;
}

/* Read every value of the document, as the VM would. */
static void read_all(struct json_doc *d)
{
	for (json_ref r = 1; r < d->count; r++) {
		size_t n;

		if (d->nodes[r].parent &&
		    json_type_of(d, d->nodes[r].parent) == JSON_OBJECT &&
		    json_key(d, r, &n) == NULL && d->err != JSON_E_MEMORY)
			fuzz_fail("a key cannot be read");
		if (json_type_of(d, r) == JSON_STRING &&
		    json_string(d, r, &n) == NULL && d->err != JSON_E_MEMORY)
			fuzz_fail("a string cannot be read");
		if (json_type_of(d, r) == JSON_NUMBER)
			(void)json_number(d, r);
	}
}

static void roundtrip(const char *in, size_t len, int canonical)
{
	if (json_parse(&a, in, len, canonical) != JSON_OK) {
		if (a.err_offset > len)
			fuzz_fail("error offset past the input");
		return;
	}
	read_all(&a);
	buf_reset(&out1);
	json_write(&a, a.root, &out1);
	if (json_parse(&b, out1.data, out1.len, canonical) != JSON_OK)
		fuzz_fail("printed JSON does not parse");
	buf_reset(&out2);
	json_write(&b, b.root, &out2);
	if (out1.len != out2.len || memcmp(out1.data, out2.data, out1.len))
		fuzz_fail("printing is not idempotent");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	roundtrip((const char *)data, size, 0);
	roundtrip((const char *)data, size, 1);
	return 0;
}
