/* fuzz_json.c - the event parser and printer on arbitrary bytes.
 *
 * Properties: no crash or leak; an error offset lies within the input;
 * what parses prints as JSON that parses again and prints the same
 * (printing is idempotent), verbatim and canonical; every string, key
 * and number of a parsed document can be read; a lazy parse finished
 * later, and one checked by the validator alone, fail exactly where the
 * whole parse does. */
#include <string.h>

#include "../../vm/json.h"
#include "fuzz.h"

static struct json_doc a, b, lazy;
static struct buf out1, out2;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct json_limits lim = { 256, 1u << 16, 1u << 20 };

	(void)argc;
	(void)argv;
	if (json_doc_init(&a, &lim) != 0 || json_doc_init(&b, &lim) != 0 ||
	    json_doc_init(&lazy, &lim) != 0)
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

/* The same input parsed lazily, finished by `finish`: the same verdict,
 * at the same byte, as the whole parse in `a` (whose result is `whole`). */
static void same_as_whole(const char *in, size_t len, int canonical,
			  enum json_error whole,
			  int (*finish)(struct json_doc *))
{
	enum json_error e = json_parse(&lazy, in, len, canonical, 1);

	if (e == JSON_OK && finish(&lazy) != 0)
		e = lazy.err;
	if (e != whole)
		fuzz_fail("a lazy parse disagrees with the whole parse");
	if (e != JSON_OK && lazy.err_offset != a.err_offset)
		fuzz_fail("a lazy parse fails at another byte");
}

static int validate_rest(struct json_doc *d)
{
	return json_validate_rest(d) == JSON_OK ? 0 : -1;
}

static void roundtrip(const char *in, size_t len, int canonical)
{
	enum json_error whole = json_parse(&a, in, len, canonical, 0);

	same_as_whole(in, len, canonical, whole, json_complete_all);
	same_as_whole(in, len, canonical, whole, validate_rest);
	if (whole != JSON_OK) {
		if (a.err_offset > len)
			fuzz_fail("error offset past the input");
		return;
	}
	read_all(&a);
	buf_reset(&out1);
	json_write(&a, a.root, &out1);
	if (json_parse(&b, out1.data, out1.len, canonical, 0) != JSON_OK)
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
