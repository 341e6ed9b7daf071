/* jfile.c - JSON input files of scrubc's tools (see jfile.h). */
#include "jfile.h"

#include <stdio.h>
#include <string.h>

#include "../vm/file.h"

/* Input files are policy-sized, not event-sized: 64 MiB is plenty. */
#define JFILE_LIMIT (64u << 20)

int cc_jfile_load(struct cc_jfile *f, const char *name)
{
	struct json_limits lim;
	unsigned line, col;
	int rc;

	memset(f, 0, sizeof *f);
	f->name = name;
	buf_init(&f->text, JFILE_LIMIT);
	rc = vm_file_read(name, VM_FILE_DASH, &f->text);
	if (rc != 0) {
		snprintf(f->err, sizeof f->err, "cannot %s '%s': %s",
			 vm_file_verb(rc), name, vm_file_why(&f->text));
		f->io = 1;
		return -1;
	}
	/* Every value takes at least one byte, so the node limit cannot be
	 * reached; decoded text is never longer than its source, and room
	 * for four decodings of all of it is more than any tool asks. */
	lim.max_depth = 512;
	lim.max_nodes = (uint32_t)f->text.len + 2;
	lim.max_arena = (uint32_t)f->text.len * 4 + 4096;
	if (json_doc_init(&f->doc, &lim) != 0) {
		snprintf(f->err, sizeof f->err, "%s: out of memory", name);
		f->io = 1;
		return -1;
	}
	if (json_parse(&f->doc, f->text.data ? f->text.data : "",
		       f->text.len, 0, 0) != JSON_OK) {
		cc_jfile_line_col(f, f->doc.err_offset, &line, &col);
		snprintf(f->err, sizeof f->err, "%s:%u:%u: invalid JSON: %s",
			 name, line, col, f->doc.err_msg ? f->doc.err_msg
			 : "syntax error");
		return -1;
	}
	return 0;
}

void cc_jfile_free(struct cc_jfile *f)
{
	json_doc_free(&f->doc);
	buf_free(&f->text);
}

void cc_jfile_line_col(const struct cc_jfile *f, size_t offset,
		       unsigned *line, unsigned *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < offset && i < f->text.len; i++) {
		unsigned char c = (unsigned char)f->text.data[i];

		if (c == '\n') {
			(*line)++;
			*col = 1;
		} else if ((c & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

json_ref cc_jget(struct json_doc *d, json_ref obj, const char *key)
{
	if (json_type_of(d, obj) != JSON_OBJECT)
		return 0;
	return json_member(d, obj, key, strlen(key));
}

const char *cc_jstr(struct json_doc *d, json_ref r, size_t *len)
{
	size_t n;
	const char *s;

	if (json_type_of(d, r) != JSON_STRING)
		return NULL;
	s = json_string(d, r, &n);
	if (len)
		*len = n;
	return s;
}
