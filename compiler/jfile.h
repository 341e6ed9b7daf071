/* jfile.h - read a JSON file that scrubc's tools take as input: a schema,
 * a policy's tests, an event to explain.
 *
 * The file is parsed by the VM's own strict parser (vm/json.h), so such
 * files obey exactly the rules events do: RFC 8259, valid UTF-8, and a
 * repeated key keeps its last value.
 *
 * Ownership: the jfile owns the text and the document; cc_jfile_free()
 * releases both. Node refs stay valid until then.
 */
#ifndef SCRUB_CC_JFILE_H
#define SCRUB_CC_JFILE_H

#include <stddef.h>

#include "../vm/buf.h"
#include "../vm/json.h"

struct cc_jfile {
	const char *name;	/* as given; "-" is standard input */
	struct buf text;
	struct json_doc doc;
	int io;			/* it failed reading, not parsing */
	char err[320];		/* "NAME:LINE:COL: why" after a failure */
};

/* Read and parse `name`. Returns 0, or -1 with f->err set. Always pair
 * with cc_jfile_free(). */
int cc_jfile_load(struct cc_jfile *f, const char *name);
void cc_jfile_free(struct cc_jfile *f);

/* 1-based line and column of byte `offset` of the file's text. */
void cc_jfile_line_col(const struct cc_jfile *f, size_t offset,
		       unsigned *line, unsigned *col);

/* Member `key` of object `obj`, or 0. */
json_ref cc_jget(struct json_doc *d, json_ref obj, const char *key);

/* The decoded text of a string node (not NUL-terminated: use *len), or
 * NULL if `r` is not a string. */
const char *cc_jstr(struct json_doc *d, json_ref r, size_t *len);

#endif
