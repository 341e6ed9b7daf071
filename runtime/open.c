/* open.c - load a policy file that may be .scrub source. Kept apart from
 * libscrub.c so that hosts that only load bytecode (the Lambda) do not
 * link the compiler. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../compiler/cc.h"
#include "../vm/bytecode.h"
#include "../vm/file.h"
#include "internal.h"
#include "scrub.h"

int scrub_program_open(const char *path, scrub_program **out,
		       scrub_diag_fn diag, void *ctx, char *err,
		       size_t errlen)
{
	struct buf file, code, text;
	struct dsl_ctx dc;
	int rc = -1;

	*out = NULL;
	buf_init(&file, 256u << 20);
	buf_init(&code, 256u << 20);
	rc = vm_file_read(path, 0, &file);
	if (rc != 0) {
		scrub_set_err(err, errlen, "cannot %s '%s': %s",
			      vm_file_verb(rc), path, vm_file_why(&file));
		rc = -1;
		goto out;
	}
	if (file.len >= 4 && memcmp(file.data, VM_MAGIC, 4) == 0) {
		rc = scrub_program_load(file.data, file.len, out, err, errlen);
		goto out;
	}

	/* Source: compile it, handing each diagnostic to the caller. */
	dsl_ctx_init(&dc);
	rc = cc_compile_text(&dc, path, file.data ? file.data : "", file.len,
			     &code);
	buf_init(&text, 1u << 20);
	for (struct dsl_diag *d = dc.diags; d && diag; d = d->next) {
		buf_reset(&text);
		dsl_diag_render(&dc, d, &text);
		buf_putc(&text, '\0');
		if (!buf_failed(&text))
			diag(ctx, text.data);
	}
	buf_free(&text);
	if (rc == 0)
		rc = scrub_program_load(code.data, code.len, out, err, errlen);
	else
		scrub_set_err(err, errlen, "%s: policy has %u error%s", path,
			dc.errors, dc.errors == 1 ? "" : "s");
	dsl_ctx_free(&dc);
out:
	buf_free(&file);
	buf_free(&code);
	return rc;
}

